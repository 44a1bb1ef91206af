/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "apparmor.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "fileio.h"
#include "log.h"
#include "msix.h"
#include "root.h"

char *vh_aa_plan_rule(const char *name)
{
        _cleanup_free_ char *file = vh_log_file_name(name);
        if (!file)
                return NULL;
        size_t n = strlen(file);
        if (n >= 4 && streq(file + n - 4, ".log"))
                file[n - 4] = '\0';
        return vh_strf("  \"" VH_WRAPPER_DIR "/%s.plan\" r, " VH_AA_MARK, file);
}

char *vh_aa_profile_name(const char *uuid)
{
        static const int groups[] = { 8, 4, 4, 4, 12 };
        const char *p = uuid;
        if (!p)
                return NULL;
        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                for (int i = 0; i < groups[g]; i++, p++)
                        if (!isxdigit((unsigned char)*p))
                                return NULL;
                if (g + 1 < ELEMENTSOF(groups) && *p++ != '-')
                        return NULL;
        }
        if (*p)
                return NULL;
        /* libvirt formats UUIDs in lower case (virUUIDFormat) */
        _cleanup_free_ char *lower = strdup(uuid);
        if (!lower)
                return NULL;
        for (char *c = lower; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        return vh_strf("libvirt-%s", lower);
}

/* Replace every `from` in `s` by `to` (as libvirt's virStringReplace). */
static char *replace_all(const char *s, const char *from, const char *to)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_puts(&b, "") < 0)
                return NULL;
        size_t fl = strlen(from);
        for (const char *p = s, *q; *p; p = q + fl) {
                q = strstr(p, from);
                if (!q)
                        return vh_buf_puts(&b, p) < 0 ? NULL : TAKE_PTR(b.data);
                if (vh_buf_append(&b, p, (size_t)(q - p)) < 0 || vh_buf_puts(&b, to) < 0)
                        return NULL;
                if (!q[fl])
                        break;
        }
        return TAKE_PTR(b.data);
}

int vh_aa_profile_from_template(const char *tmpl, const char *pname, char **ret, const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        if (!strstr(tmpl, "\nprofile LIBVIRT_TEMPLATE") || !strstr(tmpl, "\n}")) {
                *why = "it lacks \"profile LIBVIRT_TEMPLATE\" or a closing brace at the start of a line, which "
                       "virt-aa-helper replaces";
                return -EINVAL;
        }
        _cleanup_free_ char *name = vh_strf("\nprofile %s", pname);
        _cleanup_free_ char *end = vh_strf("\n  #include <libvirt/%s.files>\n\n}", pname);
        if (!name || !end)
                return -ENOMEM;
        _cleanup_free_ char *a = replace_all(tmpl, "\nprofile LIBVIRT_TEMPLATE", name);
        if (!a)
                return -ENOMEM;
        char *b = replace_all(a, "\n}", end);
        if (!b)
                return -ENOMEM;
        *ret = b;
        return 0;
}

/* The line of `profile` that is exactly `rule`: its start, or NULL. */
static const char *find_line(const char *profile, const char *rule)
{
        size_t rl = strlen(rule);
        for (const char *p = profile; (p = strstr(p, rule)); p += rl)
                if ((p == profile || p[-1] == '\n') && (p[rl] == '\n' || p[rl] == '\0'))
                        return p;
        return NULL;
}

int vh_aa_profile_add(const char *profile, const char *rule, char **ret, const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        if (find_line(profile, rule)) {
                *ret = NULL;
                return 0;
        }
        /* the profile's closing brace: the last line that starts with '}' */
        const char *close = NULL;
        for (const char *p = profile; (p = strstr(p, "\n}")); p++)
                close = p;
        if (!close) {
                *why = "no closing brace \"}\" at the start of a line";
                return -EINVAL;
        }
        char *s = vh_strf("%.*s\n%s%s", (int)(close - profile), profile, rule, close);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int vh_aa_profile_remove(const char *profile, const char *rule, char **ret)
{
        *ret = NULL;
        if (!find_line(profile, rule))
                return 0;
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_puts(&b, "") < 0)
                return -ENOMEM;
        size_t rl = strlen(rule);
        for (const char *p = profile; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                bool drop = len == rl && strncmp(p, rule, rl) == 0;
                if (!drop && vh_buf_append(&b, p, len + (nl ? 1 : 0)) < 0)
                        return -ENOMEM;
                p += len + (nl ? 1 : 0);
        }
        *ret = TAKE_PTR(b.data);
        return 0;
}

static bool exists(const char *rel)
{
        _cleanup_free_ char *p = vh_path(rel);
        return p && access(p, F_OK) == 0;
}

/* Does libvirt's AppArmor driver take care of this VM?  (No: nothing to do.) */
static bool aa_in_use(const vh_domain *dom, const char **why)
{
        *why = NULL;
        if (!exists(VH_AA_LIBVIRT_DIR) || !exists(VH_AA_KERNEL))
                return false;
        for (size_t i = 0; i < dom->n_seclabels; i++) {
                const vh_seclabel *s = &dom->seclabels[i];
                if (s->model && !streq(s->model, "apparmor"))
                        continue;
                if (streq(s->type, "none")) {
                        *why = "the domain XML has <seclabel type='none'>: libvirt gives it no AppArmor profile";
                        return false;
                }
                if (streq(s->type, "static")) {
                        *why = "the domain XML has a static AppArmor <seclabel>: its profile is the admin's, not "
                               "libvirt-UUID; allow its plan there";
                        return false;
                }
        }
        return true;
}

static bool has_pci_hostdev(const vh_domain *dom)
{
        for (size_t i = 0; i < dom->n_hostdevs; i++)
                if (dom->hostdevs[i].has_pci_address)
                        return true;
        return false;
}

static int say(vh_buf *lines, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(vh_buf *lines, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *m = NULL;
        int n = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = vh_buf_puts(lines, m);
        return r < 0 ? r : vh_buf_puts(lines, "\n");
}

/* The VM's profile path (under the root), after checking the directory. */
static int profile_path(const char *uuid, char **ret_path, char **ret_pname, vh_error **err)
{
        _cleanup_free_ char *pname = vh_aa_profile_name(uuid);
        if (!pname)
                return vh_fail_input(err, "AppArmor: UUID \"%s\" of the domain XML is not 8-4-4-4-12 hex digits",
                                     uuid ? uuid : "");
        _cleanup_free_ char *dir = vh_path(VH_AA_LIBVIRT_DIR);
        _cleanup_free_ char *path = vh_pathf(VH_AA_LIBVIRT_DIR "/%s", pname);
        if (!dir || !path)
                return vh_fail(err, ENOMEM, "AppArmor");
        /* it exists (aa_in_use): only checked, never created or chmod'ed */
        int r = vh_dir_ensure(dir, 0755, false, err);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        *ret_pname = TAKE_PTR(pname);
        return 0;
}

int vh_aa_plan_allow(const vh_domain *dom, vh_buf *lines, vh_error **err)
{
        const char *why = NULL;
        if (!has_pci_hostdev(dom))
                return 0;
        if (!aa_in_use(dom, &why))
                return why ? say(lines, "%s", why) : 0;
        _cleanup_free_ char *path = NULL, *pname = NULL;
        int r = profile_path(dom->uuid, &path, &pname, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *rule = vh_aa_plan_rule(dom->name);
        if (!rule)
                return vh_fail(err, ENOMEM, "AppArmor");
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ vh_error *re = NULL;
        bool created = false;
        r = vh_read_file_trusted(path, VH_AA_PROFILE_MAX, &text, NULL, &re);
        if (r == -ENOENT) {
                /* the first start: as virt-aa-helper -c would make it, then libvirt takes the -r path */
                _cleanup_free_ char *tpath = vh_path(VH_AA_TEMPLATE), *tmpl = NULL;
                if (!tpath)
                        return vh_fail(err, ENOMEM, "AppArmor");
                r = vh_read_file_trusted(tpath, VH_AA_PROFILE_MAX, &tmpl, NULL, err);
                if (r < 0)
                        return r;
                r = vh_aa_profile_from_template(tmpl, pname, &text, &why);
                if (r == -ENOMEM)
                        return vh_fail(err, ENOMEM, "AppArmor");
                if (r < 0)
                        return vh_fail_input(err, "%s: %s", tpath, why);
                created = true;
        } else if (r < 0) {
                if (!err)
                        return r;
                *err = TAKE_PTR(re);
                return vh_error_wrap(err, "AppArmor: this guest's plan cannot be allowed in its profile");
        }
        _cleanup_free_ char *out = NULL;
        r = vh_aa_profile_add(text, rule, &out, &why);
        if (r == -ENOMEM)
                return vh_fail(err, ENOMEM, "AppArmor");
        if (r < 0)
                return vh_fail_input(err, "%s: %s; expected a profile as virt-aa-helper makes it", path, why);
        if (!out)
                return say(lines, "%s already allows this guest's plan (read only)", path);
        r = vh_write_atomic_durable(path, out, strlen(out), 0644, err);
        if (r < 0)
                return r;
        return say(lines, "%s: %s%s", path,
                   created ? "created from " VH_AA_TEMPLATE " as virt-aa-helper -c would, with " : "added ",
                   rule + 2 /* the indent */);
}

int vh_aa_plan_revoke(const char *name, const char *uuid, vh_buf *lines, vh_error **err)
{
        _cleanup_free_ char *valid = vh_aa_profile_name(uuid);
        if (!exists(VH_AA_LIBVIRT_DIR) || !valid)
                return 0;
        _cleanup_free_ char *path = NULL, *pname = NULL;
        int r = profile_path(uuid, &path, &pname, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *rule = vh_aa_plan_rule(name);
        if (!rule)
                return vh_fail(err, ENOMEM, "AppArmor");
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ vh_error *re = NULL;
        r = vh_read_file_trusted(path, VH_AA_PROFILE_MAX, &text, NULL, &re);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                if (err)
                        *err = TAKE_PTR(re);
                return r;
        }
        _cleanup_free_ char *out = NULL;
        if (vh_aa_profile_remove(text, rule, &out) < 0)
                return vh_fail(err, ENOMEM, "AppArmor");
        if (!out)
                return 0;
        r = vh_write_atomic_durable(path, out, strlen(out), 0644, err);
        if (r < 0)
                return r;
        return say(lines, "%s: removed this guest's plan rule", path);
}
