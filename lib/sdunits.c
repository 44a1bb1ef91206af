/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sdunits.c — AllowedCPUs of systemd units over sd-bus, libsystemd loaded
 * on demand.  See sdunits.h.
 */
#include "sdunits.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cpuset.h"
#include "fileio.h"
#include "root.h"
#include "util.h"

/*
 * The few sd-bus declarations used here, written out from sd-bus(3) and
 * <systemd/sd-bus.h> (stable ABI since libsystemd 221; sd_bus_is_ready
 * since 237) so that building vmhooks needs no libsystemd-dev and the
 * programs do not link libsystemd: it is dlopen()ed when a VM demands host
 * task isolation.  sd_bus_error's layout is part of that ABI.
 */
typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
typedef struct sd_bus_error {
        const char *name;
        const char *message;
        int need_free_;
} sd_bus_error;

typedef struct sdbus_api {
        int (*new_)(sd_bus **ret);
        int (*set_address)(sd_bus *bus, const char *address);
        int (*start)(sd_bus *bus);
        int (*open_system)(sd_bus **ret);
        int (*is_ready)(sd_bus *bus);
        int (*process)(sd_bus *bus, sd_bus_message **ret);
        int (*wait)(sd_bus *bus, uint64_t timeout_usec);
        void (*close)(sd_bus *bus);
        sd_bus *(*unref)(sd_bus *bus);
        int (*call)(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error, sd_bus_message **reply);
        int (*new_method_call)(sd_bus *bus, sd_bus_message **m, const char *destination, const char *path,
                               const char *interface, const char *member);
        int (*append)(sd_bus_message *m, const char *types, ...);
        int (*append_array)(sd_bus_message *m, char type, const void *ptr, size_t size);
        int (*open_container)(sd_bus_message *m, char type, const char *contents);
        int (*close_container)(sd_bus_message *m);
        int (*enter_container)(sd_bus_message *m, char type, const char *contents);
        int (*read_array)(sd_bus_message *m, char type, const void **ptr, size_t *size);
        int (*read_basic)(sd_bus_message *m, char type, void *p);
        sd_bus_message *(*message_unref)(sd_bus_message *m);
        void (*error_free)(sd_bus_error *e);
        int (*path_encode)(const char *prefix, const char *external_id, char **ret_path);
} sdbus_api;

static const char *systemd_soname(void)
{
#ifdef VH_TEST_SEAMS
        /* test builds only: VMHOOKS_LIBSYSTEMD=NAME loads NAME instead (a missing one: "libsystemd missing") */
        const char *so = secure_getenv("VMHOOKS_LIBSYSTEMD");
        if (so && *so)
                return so;
#endif
        return "libsystemd.so.0";
}

static char load_error[256];

/* NULL when libsystemd cannot be loaded; load_error says why. */
static const sdbus_api *sdbus(void)
{
        static sdbus_api api;
        static int state; /* 0 not tried, 1 loaded, -1 unavailable */
        if (state)
                return state > 0 ? &api : NULL;
        state = -1;
        void *h = dlopen(systemd_soname(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                const char *e = dlerror();
                snprintf(load_error, sizeof(load_error), "%s", e ? e : "dlopen failed");
                return NULL;
        }
        static const struct {
                const char *name;
                size_t offset;
        } syms[] = {
#define SYM(field, name) { name, offsetof(sdbus_api, field) }
                SYM(new_, "sd_bus_new"),
                SYM(set_address, "sd_bus_set_address"),
                SYM(start, "sd_bus_start"),
                SYM(open_system, "sd_bus_open_system"),
                SYM(is_ready, "sd_bus_is_ready"),
                SYM(process, "sd_bus_process"),
                SYM(wait, "sd_bus_wait"),
                SYM(close, "sd_bus_close"),
                SYM(unref, "sd_bus_unref"),
                SYM(call, "sd_bus_call"),
                SYM(new_method_call, "sd_bus_message_new_method_call"),
                SYM(append, "sd_bus_message_append"),
                SYM(append_array, "sd_bus_message_append_array"),
                SYM(open_container, "sd_bus_message_open_container"),
                SYM(close_container, "sd_bus_message_close_container"),
                SYM(enter_container, "sd_bus_message_enter_container"),
                SYM(read_array, "sd_bus_message_read_array"),
                SYM(read_basic, "sd_bus_message_read_basic"),
                SYM(message_unref, "sd_bus_message_unref"),
                SYM(error_free, "sd_bus_error_free"),
                SYM(path_encode, "sd_bus_path_encode"),
#undef SYM
        };
        for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
                void *f = dlsym(h, syms[i].name);
                if (!f) {
                        snprintf(load_error, sizeof(load_error), "%s has no %s (libsystemd older than 237?)",
                                 systemd_soname(), syms[i].name);
                        return NULL; /* the handle stays open: harmless in a short-lived process */
                }
                /* POSIX's way from the void * of dlsym to a function pointer */
                memcpy((char *)&api + syms[i].offset, &f, sizeof(f));
        }
        state = 1;
        return &api;
}

/* ---- pure parts ---- */

int vh_allowed_cpus_to_bytes(const char *list, uint8_t **ret, size_t *ret_len, vh_error **err)
{
        _cleanup_cpuset_ vh_cpuset s = { 0 };
        int r = vh_cpuset_parse_list(list, &s, err);
        if (r < 0)
                return r;
        size_t len = 0;
        for (size_t w = s.nwords; w > 0 && len == 0; w--)
                for (unsigned b = 64; b > 0; b--)
                        if (s.words[w - 1] >> (b - 1) & 1) {
                                len = ((w - 1) * 64 + (b - 1)) / 8 + 1;
                                break;
                        }
        uint8_t *bytes = NULL;
        if (len > 0) {
                bytes = calloc(len, 1);
                if (!bytes)
                        return vh_fail(err, ENOMEM, "AllowedCPUs \"%s\"", list);
                for (size_t i = 0; i < len; i++)
                        bytes[i] = (uint8_t)(s.words[i / 8] >> (8 * (i % 8)));
        }
        *ret = bytes;
        *ret_len = len;
        return 0;
}

int vh_allowed_cpus_from_bytes(const uint8_t *bytes, size_t len, char **ret_list)
{
        _cleanup_cpuset_ vh_cpuset s = { 0 };
        for (size_t i = 0; i < len; i++) {
                if (!bytes[i])
                        continue;
                for (unsigned b = 0; b < 8; b++) {
                        if (!(bytes[i] >> b & 1))
                                continue;
                        if (i * 8 + b >= VH_CPUSET_MAX)
                                return -E2BIG;
                        int r = vh_cpuset_set(&s, (unsigned)(i * 8 + b));
                        if (r < 0)
                                return r;
                }
        }
        char *l = vh_cpuset_format_list(&s);
        if (!l)
                return -ENOMEM;
        *ret_list = l;
        return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The D-Bus interface that carries AllowedCPUs for this unit type. */
static const char *unit_interface(const char *unit)
{
        if (has_suffix(unit, ".slice"))
                return "org.freedesktop.systemd1.Slice";
        if (has_suffix(unit, ".scope"))
                return "org.freedesktop.systemd1.Scope";
        if (has_suffix(unit, ".service"))
                return "org.freedesktop.systemd1.Service";
        return NULL;
}

/* vh_fail_input (no strerror suffix) with another code than EINVAL; returns -code */
static int fail_code(vh_error **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_code(vh_error **err, int code, const char *fmt, ...)
{
        if (err && !*err) {
                char line[512];
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(line, sizeof(line), fmt, ap);
                va_end(ap);
                (void)vh_fail_input(err, "%s", line); /* returns -EINVAL: the code is set below */
                if (*err)
                        (*err)->code = code;
        }
        return -code;
}

int vh_unit_name_check(const char *unit, vh_error **err)
{
        if (!unit || !*unit || strlen(unit) > 255)
                return vh_fail_input(err, "systemd unit name \"%s\": expected 1 to 255 characters", unit ? unit : "");
        for (const char *p = unit; *p; p++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-_.\\@", *p))
                        return vh_fail_input(err, "systemd unit name \"%s\": expected letters, digits and \":-_.\\@\"",
                                             unit);
        if (!unit_interface(unit) || unit[0] == '.')
                return vh_fail_input(err, "systemd unit name \"%s\": expected a .slice, .scope or .service", unit);
        if (strcmp(unit, "machine.slice") == 0 || strncmp(unit, "machine-", 8) == 0) {
                return fail_code(err, EPERM, "systemd unit %s: machine.slice holds the VMs and is never touched", unit);
        }
        return 0;
}

/* ---- the bus ---- */

static sd_bus *bus_conn;
static pid_t bus_pid;

void vh_systemd_disconnect(void)
{
        if (bus_conn) {
                const sdbus_api *sd = sdbus();
                sd->close(bus_conn);
                (void)sd->unref(bus_conn); /* returns NULL */
                bus_conn = NULL;
        }
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts); /* CLOCK_MONOTONIC cannot fail */
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* "unix:path=" + the path with every byte D-Bus does not allow plainly as %XX */
static char *unix_address(const char *path)
{
        size_t n = strlen(path);
        char *a = malloc(strlen("unix:path=") + 3 * n + 1);
        if (!a)
                return NULL;
        char *q = stpcpy(a, "unix:path=");
        for (const char *p = path; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_/.\\*", c))
                        *q++ = (char)c;
                else
                        q += sprintf(q, "%%%02x", c);
        }
        *q = '\0';
        return a;
}

/* Wait (bounded) until the bus has authenticated; sd_bus_call itself would wait for the
 * authentication with sd-bus's own, much longer, timeout. */
static int bus_wait_ready(const sdbus_api *sd, sd_bus *b)
{
        uint64_t deadline = now_usec() + VH_SDUNITS_TIMEOUT_USEC;
        for (;;) {
                int r = sd->is_ready(b);
                if (r != 0)
                        return r < 0 ? r : 0;
                r = sd->process(b, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                uint64_t now = now_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd->wait(b, deadline - now);
                if (r < 0)
                        return r;
        }
}

static void bus_drop(const sdbus_api *sd, sd_bus **b)
{
        if (*b) {
                sd->close(*b);
                (void)sd->unref(*b); /* returns NULL */
                *b = NULL;
        }
}

/* Connect (once per process) to systemd: its private socket, else the system bus.
 * On failure *ret_where names what was tried. */
static int bus_get(sd_bus **ret, char **ret_where)
{
        const sdbus_api *sd = sdbus();
        if (!sd)
                return -ELIBACC;
        if (bus_conn && bus_pid == getpid()) {
                *ret = bus_conn;
                return 0;
        }
        bus_conn = NULL; /* a forked child never uses its parent's connection */
        _cleanup_free_ char *priv = vh_path("/run/systemd/private");
        if (!priv)
                return -ENOMEM;
        sd_bus *b = NULL;
        int r = -ENOENT;
        if (access(priv, F_OK) == 0) {
                _cleanup_free_ char *addr = unix_address(priv);
                if (!addr)
                        return -ENOMEM;
                r = sd->new_(&b);
                if (r >= 0)
                        r = sd->set_address(b, addr);
                if (r >= 0)
                        r = sd->start(b);
                if (r >= 0)
                        r = bus_wait_ready(sd, b);
                if (r < 0)
                        bus_drop(sd, &b);
        }
        if (r < 0 && r != -ETIMEDOUT && !*vh_root()) {
                /* no private socket, or refused (not root, an old systemd, a MAC policy): the system bus.  Not
                 * after a timeout: systemd did not answer there, the bus daemon would only ask it again. */
                r = sd->open_system(&b);
                if (r >= 0)
                        r = bus_wait_ready(sd, b);
                if (r < 0)
                        bus_drop(sd, &b);
        }
        if (r < 0) {
                if (ret_where)
                        *ret_where = strdup(*vh_root() ? priv : "/run/systemd/private and the system bus");
                return r;
        }
        bus_conn = b;
        bus_pid = getpid();
        *ret = b;
        return 0;
}

static void message_unrefp(sd_bus_message **m)
{
        if (*m)
                (void)sdbus()->message_unref(*m); /* returns NULL */
}
#define _cleanup_message_ _cleanup_(message_unrefp)

static void bus_error_freep(sd_bus_error *e)
{
        if (e->name || e->message)
                sdbus()->error_free(e);
}
#define _cleanup_bus_error_ _cleanup_(bus_error_freep)

static int bus_connect_err(const char *unit, vh_error **err)
{
        sd_bus *b;
        _cleanup_free_ char *where = NULL;
        int r = bus_get(&b, &where);
        if (r == -ELIBACC)
                return vh_fail(err, ELIBACC, "systemd unit %s: %s cannot be loaded (%s): host tasks cannot be tuned here",
                               unit, systemd_soname(), load_error);
        if (r < 0)
                return vh_fail(err, -r, "systemd unit %s: cannot reach systemd's bus at %s", unit,
                               where ? where : "/run/systemd/private");
        return 0;
}

/* One call with the bound; the error of systemd (its name and message) into *err. */
static int bus_call(sd_bus_message *m, sd_bus_message **reply, const char *what, vh_error **err)
{
        const sdbus_api *sd = sdbus();
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        int r = sd->call(bus_conn, m, VH_SDUNITS_TIMEOUT_USEC, &e, reply);
        if (r < 0) {
                if (e.message)
                        return vh_fail(err, -r, "%s: systemd says %s (%s)", what, e.message, e.name ? e.name : "");
                return vh_fail(err, -r, "%s", what);
        }
        return 0;
}

/* Properties.Get(interface, property) on the unit's object; *ret_reply is positioned inside the variant. */
static int get_property(const char *unit, const char *interface, const char *property, const char *contents,
                        sd_bus_message **ret_reply, vh_error **err)
{
        const sdbus_api *sd = sdbus();
        _cleanup_free_ char *path = NULL;
        char what[384];
        snprintf(what, sizeof(what), "systemd unit %s: reading %s", unit, property);
        int r = sd->path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return vh_fail(err, -r, "%s", what);
        _cleanup_message_ sd_bus_message *m = NULL;
        r = sd->new_method_call(bus_conn, &m, "org.freedesktop.systemd1", path, "org.freedesktop.DBus.Properties",
                                "Get");
        if (r >= 0)
                r = sd->append(m, "ss", interface, property);
        if (r < 0)
                return vh_fail(err, -r, "%s", what);
        _cleanup_message_ sd_bus_message *reply = NULL;
        r = bus_call(m, &reply, what, err);
        if (r < 0)
                return r;
        r = sd->enter_container(reply, 'v', contents);
        if (r < 0)
                return vh_fail(err, -r, "%s: not of type %s", what, contents);
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* -ENOENT (with *err) unless systemd has the unit loaded. */
static int unit_loaded(const char *unit, vh_error **err)
{
        _cleanup_message_ sd_bus_message *reply = NULL;
        int r = get_property(unit, "org.freedesktop.systemd1.Unit", "LoadState", "s", &reply, err);
        if (r < 0)
                return r;
        const char *state = NULL;
        r = sdbus()->read_basic(reply, 's', &state);
        if (r < 0 || !state)
                return vh_fail(err, r < 0 ? -r : EBADMSG, "systemd unit %s: reading LoadState", unit);
        if (strcmp(state, "loaded") != 0)
                return fail_code(err, ENOENT, "systemd unit %s: not present here (LoadState=%s)", unit, state);
        return 0;
}

int vh_unit_get_allowed_cpus(const char *unit, char **ret_list, vh_error **err)
{
        int r = vh_unit_name_check(unit, err);
        if (r < 0 && r != -EPERM) /* reading machine.slice is harmless */
                return r;
        if (r == -EPERM && err && *err) {
                vh_error_free(*err);
                *err = NULL;
        }
        r = bus_connect_err(unit, err);
        if (r < 0)
                return r;
        r = unit_loaded(unit, err);
        if (r < 0)
                return r;
        _cleanup_message_ sd_bus_message *reply = NULL;
        r = get_property(unit, unit_interface(unit), "AllowedCPUs", "ay", &reply, err);
        if (r < 0)
                return r;
        const void *bytes = NULL;
        size_t len = 0;
        r = sdbus()->read_array(reply, 'y', &bytes, &len);
        if (r < 0)
                return vh_fail(err, -r, "systemd unit %s: reading AllowedCPUs", unit);
        char *list = NULL;
        r = vh_allowed_cpus_from_bytes(bytes, len, &list);
        if (r < 0)
                return vh_fail(err, -r, "systemd unit %s: AllowedCPUs of %zu bytes", unit, len);
        *ret_list = list;
        return 0;
}

/* SetUnitProperties(unit, runtime=true, [("AllowedCPUs", <ay bytes>)]) */
static int set_property(const char *unit, const char *list, const uint8_t *bytes, size_t len, vh_error **err)
{
        const sdbus_api *sd = sdbus();
        char what[384];
        snprintf(what, sizeof(what), "systemd unit %s: setting AllowedCPUs=%s", unit, list);
        _cleanup_message_ sd_bus_message *m = NULL;
        int r = sd->new_method_call(bus_conn, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                    "org.freedesktop.systemd1.Manager", "SetUnitProperties");
        /* (s name, b runtime, a(sv) properties) */
        if (r >= 0)
                r = sd->append(m, "sb", unit, 1);
        if (r >= 0)
                r = sd->open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd->open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd->append(m, "s", "AllowedCPUs");
        if (r >= 0)
                r = sd->open_container(m, 'v', "ay");
        if (r >= 0)
                r = sd->append_array(m, 'y', bytes, len);
        for (int i = 0; i < 3 && r >= 0; i++)
                r = sd->close_container(m);
        if (r < 0)
                return vh_fail(err, -r, "%s", what);
        _cleanup_message_ sd_bus_message *reply = NULL;
        return bus_call(m, &reply, what, err);
}

/* The unit's ControlGroup ("/system.slice"), or NULL (*ret) when systemd has not realized it.  This call
 * also orders us after systemd's cgroup realization: systemd answers it only once its main loop has
 * applied the properties set before, so the cgroup files show them afterwards. */
static int control_group(const char *unit, char **ret, vh_error **err)
{
        _cleanup_message_ sd_bus_message *reply = NULL;
        int r = get_property(unit, unit_interface(unit), "ControlGroup", "s", &reply, err);
        if (r < 0)
                return r;
        const char *cg = NULL;
        r = sdbus()->read_basic(reply, 's', &cg);
        if (r < 0)
                return vh_fail(err, -r, "systemd unit %s: reading ControlGroup", unit);
        if (!cg || cg[0] != '/' || strstr(cg, "/..") || strlen(cg) > 4096) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(cg);
        return *ret ? 0 : vh_fail(err, ENOMEM, "systemd unit %s", unit);
}

/* A cgroup file's first line (""), or NULL when absent (the controller is off there). */
static int cgroup_read(const char *cg, const char *file, char **ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_pathf("/sys/fs/cgroup%s/%s", cg, file);
        if (!path)
                return vh_fail(err, ENOMEM, "cgroup %s", cg);
        char *v = NULL;
        int r = vh_read_file(path, 65536, &v, NULL, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return vh_fail(err, -r, "reading %s", path);
        v[strcspn(v, "\n")] = '\0';
        *ret = v;
        return 0;
}

/*
 * After a reset to unset: systemd (checked: 252 on cgroup v2, kernel 6.1;
 * systemd issue 43846) writes nothing to the cgroup when AllowedCPUs
 * becomes unset.  While the parent's cpuset controller stays enabled for
 * another unit (machine.slice once libvirt pins a VM; another of the three
 * units still set), the cgroup keeps its confined cpuset.cpus and its tasks
 * stay on the housekeeping CPUs although systemctl shows AllowedCPUs=
 * unset.  The kernel refuses "" there (ENOSPC: a populated cpuset cannot go
 * from some CPUs to none), so the unit is widened through systemd to its
 * parent's effective CPUs (AllowedCPUs=those) and unset again: the tasks
 * may run where they could before, and once nothing needs the controller
 * any more systemd turns it off and the files are gone as before.
 * 1 when it widened (the caller logs it), else 0.
 */
static int after_reset(const char *unit, vh_error **err)
{
        _cleanup_free_ char *cg = NULL;
        int r = control_group(unit, &cg, err);
        if (r < 0 || !cg)
                return r; /* no cgroup: nothing confined */
        _cleanup_free_ char *cur = NULL;
        r = cgroup_read(cg, "cpuset.cpus", &cur, err);
        if (r < 0 || !cur || !*cur)
                return r < 0 ? vh_error_wrap(err, "systemd unit %s: after resetting AllowedCPUs", unit) : 0;
        _cleanup_free_ char *parent = strdup(cg);
        if (!parent)
                return vh_fail(err, ENOMEM, "systemd unit %s", unit);
        *strrchr(parent, '/') = '\0'; /* "/system.slice" -> "" (the root cgroup) */
        _cleanup_free_ char *wide = NULL;
        r = cgroup_read(parent, "cpuset.cpus.effective", &wide, err);
        if (r < 0 || !wide || !*wide)
                return r < 0 ? vh_error_wrap(err, "systemd unit %s: after resetting AllowedCPUs", unit) : 0;
        _cleanup_cpuset_ vh_cpuset a = { 0 }, b = { 0 };
        if (vh_cpuset_parse_list(cur, &a, NULL) == 0 && vh_cpuset_parse_list(wide, &b, NULL) == 0 &&
            vh_cpuset_equal(&a, &b))
                return 0; /* not confined */
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t len = 0;
        r = vh_allowed_cpus_to_bytes(wide, &bytes, &len, err);
        if (r >= 0)
                r = set_property(unit, wide, bytes, len, err);
        if (r >= 0)
                r = set_property(unit, "", NULL, 0, err);
        if (r < 0)
                return vh_error_wrap(err, "systemd unit %s: AllowedCPUs reset, but systemd left its cgroup's cpuset.cpus "
                                     "at %s; widening it to the parent's CPUs %s",
                                     unit, cur, wide);
        _cleanup_free_ char *sync = NULL;
        r = control_group(unit, &sync, err);
        return r < 0 ? r : 1;
}

int vh_unit_set_allowed_cpus(const char *unit, const char *list, vh_error **err)
{
        int r = vh_unit_name_check(unit, err);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t len = 0;
        r = vh_allowed_cpus_to_bytes(list, &bytes, &len, err);
        if (r < 0)
                return vh_error_wrap(err, "systemd unit %s: AllowedCPUs", unit);
        r = bus_connect_err(unit, err);
        if (r < 0)
                return r;
        r = unit_loaded(unit, err);
        if (r < 0)
                return r;
        r = set_property(unit, list, bytes, len, err);
        if (r < 0)
                return r;
        if (len == 0)
                return after_reset(unit, err);
        _cleanup_free_ char *cg = NULL;
        return control_group(unit, &cg, err); /* when this returns, the cgroup shows it */
}

/* ---- can it be done here? ---- */

static bool exists_below_root(const char *abs)
{
        _cleanup_free_ char *p = vh_path(abs);
        return p && access(p, F_OK) == 0;
}

static int say(char **why, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char **why, int r, const char *fmt, ...)
{
        if (why) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(why, fmt, ap) < 0)
                        *why = NULL;
                va_end(ap);
        }
        return r;
}

/* Whether the whitespace-separated `list` holds the word `w`. */
static bool has_word(const char *list, const char *w)
{
        size_t n = strlen(w);
        for (const char *p = list; (p = strstr(p, w)); p += n)
                if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

int vh_systemd_usable(char **why)
{
        if (why)
                *why = NULL;
        if (!exists_below_root("/run/systemd/system"))
                return say(why, -ENOENT,
                           "systemd is not PID 1 here (no /run/systemd/system): host tasks are not confined to the "
                           "housekeeping CPUs, nothing is done");
        if (!exists_below_root("/sys/fs/cgroup/cgroup.controllers")) {
                bool hybrid = exists_below_root("/sys/fs/cgroup/unified/cgroup.controllers");
                return say(why, -ENOTSUP,
                           "cgroup %s layout (cpuset is a v1 controller, /sys/fs/cgroup is not cgroup2): systemd "
                           "applies AllowedCPUs only on the unified hierarchy, and vmhooks does not move tasks between "
                           "v1 cpusets (docs/DECISIONS.md); host tasks are not confined, nothing is done (boot with "
                           "systemd.unified_cgroup_hierarchy=1 for it)",
                           hybrid ? "v1/v2 hybrid" : "v1");
        }
        _cleanup_free_ char *path = vh_path("/sys/fs/cgroup/cgroup.controllers");
        _cleanup_free_ char *controllers = NULL;
        if (!path)
                return -ENOMEM;
        int r = vh_read_file(path, 4096, &controllers, NULL, NULL);
        if (r < 0)
                return say(why, r, "%s: %s: host tasks are not confined, nothing is done", path, strerror(-r));
        if (!has_word(controllers, "cpuset"))
                return say(why, -ENOTSUP,
                           "cgroup v2 without the cpuset controller (%s has none: it is bound to a v1 hierarchy or "
                           "not built in): host tasks are not confined, nothing is done",
                           path);
        if (!sdbus())
                return say(why, -ELIBACC, "%s cannot be loaded (%s): host tasks cannot be confined here, nothing is done",
                           systemd_soname(), load_error);
        sd_bus *b;
        _cleanup_free_ char *where = NULL;
        r = bus_get(&b, &where);
        if (r < 0)
                return say(why, r, "cannot reach systemd's bus at %s: %s: host tasks are not confined, nothing is done",
                           where ? where : "/run/systemd/private", strerror(-r));
        return 0;
}
