/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "svirt.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <selinux/context.h>

#include "fileio.h"
#include "liveness.h"
#include "root.h"
#include "util.h"

#define LABEL_MAX 4096

void vh_svirt_facts_done(vh_svirt_facts *f)
{
        free(f->label);
        free(f->why);
        f->label = f->why = NULL;
}

void vh_secctx_done(vh_secctx *c)
{
        free(c->user);
        free(c->role);
        free(c->type);
        free(c->range);
        memset(c, 0, sizeof(*c));
}

/*
 * libselinux is loaded when a label is first parsed, not linked: linked, it
 * cost every hook call (every VM start and stop) its loading, with pcre2,
 * and its constructor's search for selinuxfs (statfs, /proc/filesystems),
 * about 0.3 ms, for a check that is off by default.  Contexts are still
 * parsed by libselinux's own context_new().
 */
typedef struct selinux_api {
        context_t (*new_)(const char *);
        void (*free_)(context_t);
        const char *(*user)(context_t);
        const char *(*role)(context_t);
        const char *(*type)(context_t);
        const char *(*range)(context_t);
} selinux_api;

static const char *selinux_soname(void)
{
#ifdef VH_TEST_SEAMS
        /* test builds only: VMHOOKS_LIBSELINUX=NAME loads NAME instead (a missing one: "libselinux missing") */
        const char *so = secure_getenv("VMHOOKS_LIBSELINUX");
        if (so && *so)
                return so;
#endif
        return "libselinux.so.1";
}

static const selinux_api *selinux(void)
{
        static selinux_api api;
        static int state; /* 0 not tried, 1 loaded, -1 unavailable */
        if (state)
                return state > 0 ? &api : NULL;
        state = -1;
        void *h = dlopen(selinux_soname(), RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return NULL;
        /* POSIX's way from the void * of dlsym to a function pointer */
        *(void **)&api.new_ = dlsym(h, "context_new");
        *(void **)&api.free_ = dlsym(h, "context_free");
        *(void **)&api.user = dlsym(h, "context_user_get");
        *(void **)&api.role = dlsym(h, "context_role_get");
        *(void **)&api.type = dlsym(h, "context_type_get");
        *(void **)&api.range = dlsym(h, "context_range_get");
        if (!api.new_ || !api.free_ || !api.user || !api.role || !api.type || !api.range)
                return NULL; /* the handle stays open: harmless in a short-lived process */
        state = 1;
        return &api;
}

static void context_freep(context_t *c)
{
        if (*c)
                selinux()->free_(*c);
}

int vh_secctx_parse(const char *label, vh_secctx *ret)
{
        if (!label || !*label || strlen(label) >= LABEL_MAX)
                return -EINVAL;
        const selinux_api *se = selinux();
        if (!se)
                return -ENOSYS;
        /* context_new accepts "u:r:t" and "u:r:t:range"; it does not need SELinux enabled */
        _cleanup_(context_freep) context_t c = se->new_(label);
        if (!c)
                return errno == ENOMEM ? -ENOMEM : -EINVAL;
        const char *user = se->user(c), *role = se->role(c), *type = se->type(c);
        const char *range = se->range(c);
        if (!user || !role || !type || !*user || !*role || !*type)
                return -EINVAL;
        vh_secctx x = { strdup(user), strdup(role), strdup(type), range && *range ? strdup(range) : NULL };
        if (!x.user || !x.role || !x.type || (range && *range && !x.range)) {
                vh_secctx_done(&x);
                return -ENOMEM;
        }
        *ret = x;
        return 0;
}

/* "c123" -> 123 */
static bool category(const char *s, size_t len, unsigned *ret)
{
        if (len < 2 || len > 6 || s[0] != 'c')
                return false;
        char num[8];
        memcpy(num, s + 1, len - 1);
        num[len - 1] = '\0';
        uint64_t v;
        if (vh_parse_u64(num, 1023, &v) < 0 || num[0] == ' ')
                return false;
        *ret = (unsigned)v;
        return true;
}

char *vh_svirt_mcs(const char *range, const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        *why = "no MCS range";
        if (!range)
                return NULL;
        const char *colon = strchr(range, ':');
        if (!colon) {
                *why = "no MCS categories";
                return NULL;
        }
        /* the level: "sN" only (a "s0-s0" range is not what libvirt assigns) */
        size_t llen = (size_t)(colon - range);
        char level[16];
        uint64_t sens;
        if (llen < 2 || llen >= sizeof(level) || range[0] != 's') {
                *why = "not an MCS level sN:cA,cB";
                return NULL;
        }
        memcpy(level, range + 1, llen - 1);
        level[llen - 1] = '\0';
        if (vh_parse_u64(level, 15, &sens) < 0 || level[0] == ' ') {
                *why = "not an MCS level sN:cA,cB";
                return NULL;
        }
        const char *cats = colon + 1;
        if (strchr(cats, '.') || strchr(cats, '-')) {
                *why = "a category range, not two categories";
                return NULL;
        }
        const char *comma = strchr(cats, ',');
        if (!comma) {
                *why = "one category, not two";
                return NULL;
        }
        if (strchr(comma + 1, ',')) {
                *why = "more than two categories";
                return NULL;
        }
        unsigned a, b;
        if (!category(cats, (size_t)(comma - cats), &a) || !category(comma + 1, strlen(comma + 1), &b)) {
                *why = "categories are not cN,cM";
                return NULL;
        }
        if (a == b) {
                *why = "the same category twice";
                return NULL;
        }
        return vh_strf("s%u:c%u,c%u", (unsigned)sens, a < b ? a : b, a < b ? b : a);
}

/* Read /proc/PID/attr/current (`dir`: /proc/PID, open): the kernel may end it with NUL and/or newline. */
static int read_label(int dir, const char *dirpath, char **ret, char **why)
{
        _cleanup_close_ int fd = openat(dir, "attr/current", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                *why = vh_strf("cannot open %s/attr/current: %s", dirpath, strerror(errno));
                return *why ? 0 : -ENOMEM;
        }
        char buf[LABEL_MAX];
        ssize_t n;
        do
                n = read(fd, buf, sizeof(buf) - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                /* EINVAL: no LSM provides a process label */
                *why = vh_strf("cannot read %s/attr/current: %s", dirpath, strerror(errno));
                return *why ? 0 : -ENOMEM;
        }
        buf[n] = '\0';
        size_t len = strlen(buf); /* stop at the kernel's NUL */
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = '\0';
        if (len == 0) {
                *why = vh_strf("%s/attr/current is empty", dirpath);
                return *why ? 0 : -ENOMEM;
        }
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int vh_svirt_cmdline_check(const char *cmdline, size_t len, const char *uuid, const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        if (len == 0) {
                *why = "its command line is empty (a kernel thread, or a process that has exited)";
                return -ESRCH;
        }
        /* NUL-separated arguments; the last one may lack its NUL */
        const char *end = cmdline + len;
        bool seen = false;
        for (const char *a = cmdline; a < end; a += strnlen(a, (size_t)(end - a)) + 1) {
                if (!streq(a, "-uuid"))
                        continue;
                const char *v = a + strlen(a) + 1;
                if (v >= end)
                        break;
                size_t vl = strnlen(v, (size_t)(end - v));
                if (uuid && vl == strlen(uuid) && strncasecmp(v, uuid, vl) == 0)
                        return 0;
                seen = true;
        }
        *why = seen ? "its command line has another -uuid"
                    : "its command line has no -uuid (not a QEMU that libvirt started)";
        return -ESRCH;
}

/* /proc/PID/cmdline: NUL-separated, at most VH_CMDLINE_MAX bytes (vh_read_fd refuses NULs). */
static int read_cmdline(int dir, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dir, "cmdline", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        _cleanup_buf_ vh_buf b = { 0 };
        char chunk[16384];
        if (vh_buf_puts(&b, "") < 0)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                if (b.len + (size_t)n > VH_CMDLINE_MAX)
                        return -EFBIG;
                if (vh_buf_append(&b, chunk, (size_t)n) < 0)
                        return -ENOMEM;
        }
        *ret_len = b.len;
        *ret = TAKE_PTR(b.data);
        return 0;
}

/*
 * Is PID the QEMU of this VM?  libvirt always passes "-uuid UUID", and the
 * wrapper keeps it.  Checked through the same open /proc/PID as the label,
 * so that both are of one process even if the PID is reused meanwhile.
 */
static int verify_qemu(int dir, const char *dirpath, int pid, const char *name, const char *uuid, char **why)
{
        _cleanup_free_ char *pidfile = vh_libvirt_pidfile(name);
        if (!pidfile)
                return -ENOMEM;
        if (!uuid || !*uuid) {
                *why = vh_strf("cannot verify that PID %d from %s is QEMU of VM %s: the domain XML has no <uuid>",
                               pid, pidfile, name);
                return *why ? 0 : -ENOMEM;
        }
        _cleanup_free_ char *cmd = NULL;
        size_t len = 0;
        int r = read_cmdline(dir, &cmd, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *why = vh_strf("cannot verify that PID %d from %s is QEMU of VM %s: cannot read %s/cmdline: %s", pid,
                               pidfile, name, dirpath, strerror(-r));
                return *why ? 0 : -ENOMEM;
        }
        const char *w = NULL;
        if (vh_svirt_cmdline_check(cmd, len, uuid, &w) < 0) {
                *why = vh_strf("PID %d from %s is not QEMU of VM %s (-uuid %s): %s%s%.*s%s", pid, pidfile, name, uuid,
                               w, len ? " (" : "", len ? (int)strnlen(cmd, len) : 0, len ? cmd : "", len ? ")" : "");
                return *why ? 0 : -ENOMEM;
        }
        return 1;
}

int vh_svirt_read(const char *name, const char *uuid, vh_svirt_facts *ret, vh_error **err)
{
        vh_svirt_facts f = { 0 };
        _cleanup_free_ char *enf = vh_path(VH_SELINUX_ENFORCE);
        if (!enf)
                return vh_fail(err, ENOMEM, "sVirt");
        _cleanup_free_ char *v = NULL;
        if (vh_read_line(enf, &v, NULL) == 0) {
                f.selinux = true;
                f.enforcing = streq(v, "1");
        }
        _cleanup_error_ vh_error *pe = NULL;
        int r = vh_read_qemu_pid(name, &f.pid, &pe);
        if (r == -ENOMEM)
                return vh_fail(err, ENOMEM, "sVirt");
        if (r < 0) {
                f.pid = 0;
                f.why = strdup(vh_error_msg(pe));
        } else {
                _cleanup_free_ char *dirpath = vh_pathf("/proc/%d", f.pid);
                if (!dirpath)
                        return vh_fail(err, ENOMEM, "sVirt");
                _cleanup_close_ int dir = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0) {
                        f.why = vh_strf("cannot verify that PID %d is QEMU of VM %s: cannot open %s: %s", f.pid, name,
                                        dirpath, strerror(errno));
                        r = 0;
                } else {
                        r = verify_qemu(dir, dirpath, f.pid, name, uuid, &f.why);
                        if (r > 0)
                                r = read_label(dir, dirpath, &f.label, &f.why);
                }
        }
        if (r == -ENOMEM || (!f.label && !f.why)) {
                vh_svirt_facts_done(&f);
                return vh_fail(err, ENOMEM, "sVirt");
        }
        *ret = f;
        return 0;
}

/* The domain's SELinux <seclabel>: model selinux, or no model and not type none. */
static const vh_seclabel *selinux_seclabel(const vh_domain *dom)
{
        for (size_t i = 0; i < dom->n_seclabels; i++)
                if (streq(dom->seclabels[i].model, "selinux"))
                        return &dom->seclabels[i];
        for (size_t i = 0; i < dom->n_seclabels; i++)
                if (!dom->seclabels[i].model)
                        return &dom->seclabels[i];
        return NULL;
}

static int problem(vh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int problem(vh_buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *m = NULL;
        int n = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = b->len ? vh_buf_puts(b, "; ") : 0;
        return r < 0 ? r : vh_buf_puts(b, m);
}

char *vh_svirt_plan_context(const vh_domain *dom, const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        const vh_seclabel *sl = selinux_seclabel(dom);
        if (!sl || streq(sl->type, "none") || !sl->label) {
                *why = "the domain XML has no SELinux <seclabel> with a <label>";
                return NULL;
        }
        _cleanup_(vh_secctx_done) vh_secctx c = { 0 };
        int r = vh_secctx_parse(sl->label, &c);
        if (r < 0) {
                *why = r == -ENOMEM ? "out of memory" : r == -ENOSYS ? "libselinux.so.1 cannot be loaded"
                                                                      : "the <label> is not an SELinux context";
                return NULL;
        }
        _cleanup_free_ char *mcs = vh_svirt_mcs(c.range, why);
        if (!mcs)
                return NULL;
        char *ctx = vh_strf("system_u:object_r:" VH_PLAN_SELINUX_TYPE ":%s", mcs);
        if (!ctx)
                *why = "out of memory";
        return ctx;
}

int vh_svirt_judge(const vh_domain *dom, vh_svirt_mode mode, const vh_svirt_facts *f, const vh_svirt_peer *peers,
                   size_t n_peers, vh_results *out)
{
        if (mode == VH_SVIRT_OFF)
                return 0;
        _cleanup_buf_ vh_buf why = { 0 };
        int r = 0;
        if (!f->selinux)
                r = problem(&why, "SELinux is disabled (no " VH_SELINUX_ENFORCE ")");
        else if (!f->enforcing)
                r = problem(&why, "SELinux is not enforcing (" VH_SELINUX_ENFORCE " is not 1)");

        /* what libvirt says the label is */
        const vh_seclabel *sl = selinux_seclabel(dom);
        const char *expected = sl && !streq(sl->type, "none") ? sl->label : NULL;
        _cleanup_(vh_secctx_done) vh_secctx base = { 0 };
        if (sl && sl->baselabel)
                (void)vh_secctx_parse(sl->baselabel, &base); /* unparsable: no extra type allowed */
        if (r == 0 && (!sl || streq(sl->type, "none")))
                r = problem(&why, "the domain XML has %s", sl ? "<seclabel type=\"none\">" : "no SELinux <seclabel>");
        else if (r == 0 && !expected)
                r = problem(&why, "the domain XML's SELinux <seclabel> has no <label>");

        /* what QEMU runs with */
        _cleanup_(vh_secctx_done) vh_secctx found = { 0 };
        _cleanup_free_ char *mcs = NULL;
        if (r == 0 && !f->label) {
                r = problem(&why, "%s", f->why ? f->why : "the QEMU label cannot be read");
        } else if (r == 0) {
                int pr = vh_secctx_parse(f->label, &found);
                if (pr == -ENOMEM)
                        return pr;
                if (pr == -ENOSYS) {
                        r = problem(&why, "libselinux.so.1 cannot be loaded to parse the label %s", f->label);
                } else if (pr < 0) {
                        r = problem(&why, "\"%s\" is not an SELinux context", f->label);
                } else {
                        if (!streq(found.type, "svirt_t") && !streq(found.type, "svirt_tcg_t") &&
                            !streq(found.type, base.type))
                                r = problem(&why, "type %s is not svirt_t or svirt_tcg_t%s%s%s", found.type,
                                            base.type ? " or the <baselabel> type " : "",
                                            base.type ? base.type : "",
                                            streq(found.type, "unconfined_t") ? " (QEMU is unconfined)" : "");
                        const char *mwhy = NULL;
                        mcs = vh_svirt_mcs(found.range, &mwhy);
                        if (r == 0 && !mcs)
                                r = problem(&why, "MCS range %s: %s", found.range ? found.range : "(none)", mwhy);
                        if (r == 0 && expected && !streq(f->label, expected))
                                r = problem(&why, "it differs from the domain XML's <label>");
                        for (size_t i = 0; r == 0 && mcs && i < n_peers; i++) {
                                _cleanup_(vh_secctx_done) vh_secctx pc = { 0 };
                                if (!peers[i].label || vh_secctx_parse(peers[i].label, &pc) < 0)
                                        continue;
                                _cleanup_free_ char *pm = vh_svirt_mcs(pc.range, NULL);
                                if (streq(pm, mcs))
                                        r = problem(&why, "MCS %s is also used by running VM %s", mcs,
                                                    peers[i].name ? peers[i].name : "?");
                        }
                }
        }
        if (r < 0)
                return r;
        const char *label = f->label ? f->label : "(unknown)";
        if (why.len == 0)
                return vh_results_add(out, "svirt", VH_LEVEL_PASS, false, NULL,
                                      "QEMU of VM %s (PID %d) runs confined as %s (SELinux enforcing)", dom->name,
                                      f->pid, label);
        bool enforce = mode == VH_SVIRT_ENFORCE;
        _cleanup_free_ char *want = vh_strf("%s%s", expected ? expected : "a label with type svirt_t or svirt_tcg_t",
                                            expected ? "" : " and two distinct MCS categories");
        if (!want)
                return -ENOMEM;
        return vh_results_add(out, "svirt", enforce ? VH_LEVEL_FAIL : VH_LEVEL_WARN, enforce,
                              f->selinux && f->enforcing ? NULL
                                                         : "setenforce 1, and SELINUX=enforcing in /etc/selinux/config",
                              "QEMU of VM %s (PID %d) runs as %s, expected %s: %s", dom->name, f->pid, label, want,
                              why.data);
}
