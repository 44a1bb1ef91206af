/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "argv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "cleanup.h"

VH_DEFINE_CLEANUP(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)
VH_DEFINE_CLEANUP(struct json_tokener *, json_tokener_free)

/* ---- key=value (QemuOpts) ---- */

void vh_qopts_done(vh_qopts *o)
{
        for (size_t i = 0; i < o->n; i++) {
                free(o->v[i].key);
                free(o->v[i].value);
        }
        free(o->v);
        memset(o, 0, sizeof(*o));
}

/* QEMU's get_opt_value(): up to the next single ",", with ",," read as ",". */
static const char *opt_value(const char *p, vh_buf *b)
{
        for (;;) {
                const char *comma = strchrnul(p, ',');
                if (vh_buf_append(b, p, (size_t)(comma - p)) < 0)
                        return NULL;
                if (comma[0] == ',' && comma[1] == ',') {
                        if (vh_buf_append(b, ",", 1) < 0)
                                return NULL;
                        p = comma + 2;
                        continue;
                }
                return comma;
        }
}

static int opts_add(vh_qopts *o, char *key, char *value)
{
        if (!key || !value) {
                free(key);
                free(value);
                return -ENOMEM;
        }
        vh_qopt *v = realloc(o->v, (o->n + 1) * sizeof(*v));
        if (!v) {
                free(key);
                free(value);
                return -ENOMEM;
        }
        o->v = v;
        o->v[o->n++] = (vh_qopt){ key, value };
        return 0;
}

int vh_qopts_parse(const char *s, const char *implied, vh_qopts *ret, vh_error **err)
{
        vh_qopts o = { 0 };
        bool first = true;
        const char *p = s;
        while (*p) {
                size_t len = strcspn(p, "=,");
                char *key, *value;
                if (p[len] != '=' && first && implied) {
                        /* "vfio-pci,..." : the implied first element */
                        _cleanup_buf_ vh_buf b = { 0 };
                        if (vh_buf_puts(&b, "") < 0 || !(p = opt_value(p, &b)))
                                goto oom;
                        key = strdup(implied);
                        value = TAKE_PTR(b.data);
                } else if (p[len] != '=') {
                        /* a flag: "x" means x=on, "nox" means x=off */
                        bool no = len > 2 && strncmp(p, "no", 2) == 0;
                        key = no ? strndup(p + 2, len - 2) : strndup(p, len);
                        value = strdup(no ? "off" : "on");
                        p += len;
                } else {
                        _cleanup_buf_ vh_buf b = { 0 };
                        key = strndup(p, len);
                        if (vh_buf_puts(&b, "") < 0 || !(p = opt_value(p + len + 1, &b))) {
                                free(key);
                                goto oom;
                        }
                        value = TAKE_PTR(b.data);
                }
                if (opts_add(&o, key, value) < 0)
                        goto oom;
                first = false;
                o.trailing_comma = false;
                if (*p == ',') {
                        p++;
                        o.trailing_comma = *p == '\0';
                }
        }
        *ret = o;
        return 0;
oom:
        vh_qopts_done(&o);
        return vh_fail(err, ENOMEM, "parse %s", s);
}

const char *vh_qopts_get(const vh_qopts *o, const char *key)
{
        for (size_t i = o->n; i > 0; i--)
                if (streq(o->v[i - 1].key, key))
                        return o->v[i - 1].value;
        return NULL;
}

int vh_qopts_escape(vh_buf *b, const char *s)
{
        for (const char *c; (c = strchr(s, ',')); s = c + 1) {
                int r = vh_buf_append(b, s, (size_t)(c - s + 1));
                if (r == 0)
                        r = vh_buf_append(b, ",", 1);
                if (r < 0)
                        return r;
        }
        return vh_buf_puts(b, s);
}

bool vh_qemu_id_wellformed(const char *id)
{
        if (!id || !((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z')))
                return false;
        for (const char *p = id + 1; *p; p++) {
                bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                          *p == '-' || *p == '.' || *p == '_';
                if (!ok)
                        return false;
        }
        return true;
}

/* ---- the command line ---- */

/*
 * QEMU options that take no argument.  Measured on QEMU 7.2 (`-version -OPT`
 * answers "requires an argument" for every other option), plus options of
 * older QEMUs; an option not listed is taken to have an argument.
 */
static const char *const no_arg_options[] = {
        "S", "alt-grab", "async-teardown", "audio-help", "ctrl-grab", "curses", "daemonize", "enable-fips",
        "enable-kvm", "enable-sync-profile", "full-screen", "h", "help", "mem-prealloc", "no-acpi",
        "no-fd-bootchk", "no-frame", "no-hpet", "no-kvm", "no-kvm-irqchip", "no-kvm-pit",
        "no-kvm-pit-reinjection", "no-quit", "no-reboot", "no-shutdown", "no-user-config", "nodefaults",
        "nodefconfig", "nographic", "old-param", "only-migratable", "portrait", "preconfig", "rtc-td-hack", "s",
        "sdl", "semihosting", "singlestep", "snapshot", "tdf", "usb", "version", "win2k-hack", "xen-attach",
        "xen-create", "xen-domid-restrict",
};

static bool takes_no_argument(const char *opt)
{
        for (size_t i = 0; i < ELEMENTSOF(no_arg_options); i++)
                if (streq(opt, no_arg_options[i]))
                        return true;
        return false;
}

static void qdev_done(vh_qdev *d)
{
        free(d->driver);
        free(d->id);
        free(d->bus);
        free(d->host);
        if (d->json)
                json_object_put(d->json);
        vh_qopts_done(&d->opts);
}

void vh_qargv_done(vh_qargv *q)
{
        free(q->name);
        free(q->uuid);
        free(q->bad);
        for (size_t i = 0; i < q->n_devs; i++)
                qdev_done(&q->devs[i]);
        free(q->devs);
        for (size_t i = 0; i < q->n_sets; i++) {
                free(q->sets[i].group);
                free(q->sets[i].id);
                free(q->sets[i].prop);
                free(q->sets[i].value);
        }
        free(q->sets);
        memset(q, 0, sizeof(*q));
}

/* Parse a whole string as one JSON object, the way QEMU's -device does; *why on failure. */
/*
 * json-c saturates integers outside 64 bits (99999999999999999999 reads as
 * 18446744073709551615): a number at a limit that the text does not spell
 * was not read as written, and could not be written back as it was.
 */
/* Does `text` hold `num` as a whole JSON number (not inside a longer one)? */
static bool spells_number(const char *text, const char *num)
{
        size_t n = strlen(num);
        for (const char *p = strstr(text, num); p; p = strstr(p + 1, num)) {
                char before = p > text ? p[-1] : ' ', after = p[n];
                if ((before >= '0' && before <= '9') || (num[0] != '-' && before == '-'))
                        continue;
                if ((after >= '0' && after <= '9') || after == '.' || after == 'e' || after == 'E')
                        continue;
                return true;
        }
        return false;
}

static bool saturated(json_object *o, const char *text)
{
        if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, key, val) {
                        (void)key;
                        if (saturated(val, text))
                                return true;
                }
                return false;
        }
        if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        if (saturated(json_object_array_get_idx(o, i), text))
                                return true;
                return false;
        }
        if (!json_object_is_type(o, json_type_int))
                return false;
        static const char *const limits[] = { "18446744073709551615", "9223372036854775807", "-9223372036854775808" };
        const char *written = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        for (size_t i = 0; i < ELEMENTSOF(limits); i++)
                if (streq(written, limits[i]) && !spells_number(text, limits[i]))
                        return true;
        return false;
}

static int parse_json_object(const char *s, json_object **ret, char **why)
{
        size_t len = strlen(s);
        if (len > INT_MAX)
                return asprintf(why, "%zu bytes of JSON is too long", len) < 0 ? -ENOMEM : -EINVAL;
        _cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        int flags = JSON_TOKENER_STRICT;
#ifdef JSON_TOKENER_VALIDATE_UTF8
        flags |= JSON_TOKENER_VALIDATE_UTF8;
#endif
        json_tokener_set_flags(tok, flags);
        _cleanup_json_ json_object *o = json_tokener_parse_ex(tok, s, (int)len);
        enum json_tokener_error e = json_tokener_get_error(tok);
        const char *msg = NULL;
        if (!o) {
                msg = e == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(e);
        } else {
                size_t end = json_tokener_get_parse_end(tok);
                end += strspn(s + end, " \t\n\r");
                if (s[end])
                        msg = "text after the object";
                else if (!json_object_is_type(o, json_type_object))
                        msg = "not a JSON object";
                else if (saturated(o, s))
                        msg = "an integer outside 64 bits";
        }
        if (msg)
                return asprintf(why, "%s", msg) < 0 ? -ENOMEM : -EINVAL;
        *ret = TAKE_PTR(o);
        return 0;
}

static int json_str(json_object *obj, const char *key, char **ret)
{
        json_object *v;
        *ret = NULL;
        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
                return 0;
        return (*ret = strdup(json_object_get_string(v))) ? 0 : -ENOMEM;
}

static int opts_str(const vh_qopts *o, const char *key, char **ret)
{
        const char *v = vh_qopts_get(o, key);
        *ret = NULL;
        if (!v)
                return 0;
        return (*ret = strdup(v)) ? 0 : -ENOMEM;
}

/* Show at most 120 bytes of an argument in a message. */
static char *shorten(const char *s)
{
        char *out = NULL;
        if (strlen(s) <= 120)
                return strdup(s);
        return asprintf(&out, "%.117s...", s) < 0 ? NULL : out;
}

static int add_device(vh_qargv *q, int arg, const char *val)
{
        if (q->n_devs >= VH_QARGV_MAX_DEVICES)
                return -E2BIG;
        vh_qdev *v = realloc(q->devs, (q->n_devs + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        q->devs = v;
        vh_qdev *d = &q->devs[q->n_devs];
        memset(d, 0, sizeof(*d));
        d->arg = arg;
        int r;
        if (val[0] == '{') {
                /* QEMU 7.2 softmmu/vl.c: optarg[0] == '{' means JSON */
                d->form = VH_QDEV_JSON;
                _cleanup_free_ char *why = NULL;
                r = parse_json_object(val, &d->json, &why);
                if (r == -EINVAL) {
                        _cleanup_free_ char *s = shorten(val);
                        if (!q->bad && asprintf(&q->bad, "-device %s: not valid JSON (%s)", s ? s : "?", why) < 0)
                                q->bad = NULL;
                        return 0; /* not kept: the whole command line passes through */
                }
                if (r < 0)
                        return r;
                q->n_devs++;
                json_object *x;
                d->has_msix = json_object_object_get_ex(d->json, VH_MSIX_PROP, &x);
                if ((r = json_str(d->json, "driver", &d->driver)) < 0 || (r = json_str(d->json, "id", &d->id)) < 0 ||
                    (r = json_str(d->json, "bus", &d->bus)) < 0 || (r = json_str(d->json, "host", &d->host)) < 0)
                        return r;
                return 0;
        }
        d->form = VH_QDEV_KEYVAL;
        if (vh_qopts_parse(val, "driver", &d->opts, NULL) < 0)
                return -ENOMEM;
        q->n_devs++;
        d->has_msix = vh_qopts_get(&d->opts, VH_MSIX_PROP) != NULL;
        if ((r = opts_str(&d->opts, "driver", &d->driver)) < 0 || (r = opts_str(&d->opts, "id", &d->id)) < 0 ||
            (r = opts_str(&d->opts, "bus", &d->bus)) < 0 || (r = opts_str(&d->opts, "host", &d->host)) < 0)
                return r;
        return 0;
}

/* "%63[^.].%63[^.].%63[^=]=" as QEMU's qemu_set_option() reads it; 1 when it is one. */
static int split_set(const char *s, char **group, char **id, char **prop, char **value)
{
        const char *a = s, *b = strchr(a, '.');
        if (!b || b == a || b - a > 63)
                return 0;
        const char *c = strchr(b + 1, '.');
        if (!c || c == b + 1 || c - b - 1 > 63)
                return 0;
        const char *d = strchr(c + 1, '=');
        if (!d || d == c + 1 || d - c - 1 > 63)
                return 0;
        *group = strndup(a, (size_t)(b - a));
        *id = strndup(b + 1, (size_t)(c - b - 1));
        *prop = strndup(c + 1, (size_t)(d - c - 1));
        *value = strdup(d + 1);
        if (!*group || !*id || !*prop || !*value)
                return -ENOMEM;
        return 1;
}

static int add_set(vh_qargv *q, int arg, const char *val)
{
        char *group = NULL, *id = NULL, *prop = NULL, *value = NULL;
        int r = split_set(val, &group, &id, &prop, &value);
        if (r <= 0 || !streq(group, "device")) {
                /* not ours to touch: QEMU reports what it cannot parse */
                free(group);
                free(id);
                free(prop);
                free(value);
                return r;
        }
        vh_qset *v = realloc(q->sets, (q->n_sets + 1) * sizeof(*v));
        if (!v) {
                free(group);
                free(id);
                free(prop);
                free(value);
                return -ENOMEM;
        }
        q->sets = v;
        q->sets[q->n_sets++] = (vh_qset){ arg, group, id, prop, value };
        return 0;
}

static int set_from_opts(const char *val, const char *implied, const char *key, char **ret)
{
        _cleanup_(vh_qopts_done) vh_qopts o = { 0 };
        if (vh_qopts_parse(val, implied, &o, NULL) < 0)
                return -ENOMEM;
        const char *v = vh_qopts_get(&o, key);
        free(*ret);
        *ret = NULL;
        return v && !(*ret = strdup(v)) ? -ENOMEM : 0;
}

int vh_qargv_parse(int argc, char *const *argv, vh_qargv *ret, vh_error **err)
{
        if (argc < 1 || argc > VH_QARGV_MAX_ARGS)
                return vh_fail_input(err, "%d arguments: expected 1 to %d", argc, VH_QARGV_MAX_ARGS);
        _cleanup_qargv_ vh_qargv q = { .argc = argc, .argv = argv };
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (a[0] != '-' || a[1] == '\0')
                        continue; /* a disk image */
                const char *opt = a + 1 + (a[1] == '-');
                if (takes_no_argument(opt))
                        continue;
                if (i + 1 >= argc) {
                        /* the first reason to pass the command line through is the one told */
                        if (!q.bad && asprintf(&q.bad, "%s has no argument", a) < 0)
                                return vh_fail(err, ENOMEM, "command line");
                        break;
                }
                const char *val = argv[++i];
                int r = 0;
                if (streq(opt, "device"))
                        r = add_device(&q, i, val);
                else if (streq(opt, "set"))
                        r = add_set(&q, i, val);
                else if (streq(opt, "name"))
                        r = set_from_opts(val, "guest", "guest", &q.name);
                else if (streq(opt, "uuid")) {
                        free(q.uuid);
                        r = (q.uuid = strdup(val)) ? 0 : -ENOMEM;
                }
                else if ((streq(opt, "machine") || streq(opt, "M")) && val[0] != '{') {
                        _cleanup_free_ char *type = NULL;
                        r = set_from_opts(val, "type", "type", &type);
                        q.probe = streq(type, "none");
                }
                if (r == -E2BIG)
                        return vh_fail_input(err, "more than %d -device options", VH_QARGV_MAX_DEVICES);
                if (r < 0)
                        return vh_fail(err, -r, "command line");
        }
        *ret = q;
        memset(&q, 0, sizeof(q));
        return 0;
}

const vh_qdev *vh_qargv_find(const vh_qargv *q, const char *id)
{
        for (size_t i = 0; i < q->n_devs; i++)
                if (streq(q->devs[i].id, id))
                        return &q->devs[i];
        return NULL;
}

/* ---- JSON -> key=value ---- */

int vh_qdev_json_to_keyval(json_object *obj, const char *extra_key, const char *extra_value, char **ret,
                           vh_error **err)
{
        json_object *drv;
        if (!json_object_object_get_ex(obj, "driver", &drv) || !json_object_is_type(drv, json_type_string))
                return vh_fail_input(err, "it has no \"driver\" string");
        _cleanup_buf_ vh_buf b = { 0 };
        const char *driver = json_object_get_string(drv);
        int r = 0;
        /* the implied form would misread it; and a leading '{' would make QEMU read JSON */
        if (!*driver || strchr(driver, '=') || driver[0] == '{')
                r = vh_buf_puts(&b, "driver=");
        if (r == 0)
                r = vh_qopts_escape(&b, driver);
        json_object_object_foreach(obj, key, val)
        {
                if (r < 0)
                        break;
                if (streq(key, "driver"))
                        continue;
                if (!*key || strpbrk(key, "=,"))
                        return vh_fail_input(err, "key \"%s\" cannot be written as key=value", key);
                if (streq(key, "help") || streq(key, "?"))
                        return vh_fail_input(err, "key \"%s\" would ask QEMU for help", key);
                r = vh_buf_printf(&b, ",%s=", key);
                if (r < 0)
                        break;
                switch (json_object_get_type(val)) {
                case json_type_string: {
                        const char *s = json_object_get_string(val);
                        if (strlen(s) != (size_t)json_object_get_string_len(val))
                                return vh_fail_input(err, "\"%s\" holds a NUL byte", key);
                        if (streq(key, "id") && !vh_qemu_id_wellformed(s))
                                return vh_fail_input(err, "id \"%s\" is not an identifier QemuOpts accepts", s);
                        r = vh_qopts_escape(&b, s);
                        break;
                }
                case json_type_int:
                        if (streq(key, "id"))
                                return vh_fail_input(err, "\"id\" is a number");
                        r = vh_buf_puts(&b, json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
                        break;
                case json_type_boolean:
                        r = vh_buf_puts(&b, json_object_get_boolean(val) ? "on" : "off");
                        break;
                case json_type_double:
                        return vh_fail_input(err, "\"%s\" is a floating-point number", key);
                case json_type_object:
                        return vh_fail_input(err, "\"%s\" is a nested object", key);
                case json_type_array:
                        return vh_fail_input(err, "\"%s\" is an array", key);
                case json_type_null:
                default:
                        return vh_fail_input(err, "\"%s\" is null", key);
                }
        }
        if (r == 0 && extra_key) {
                r = vh_buf_printf(&b, ",%s=", extra_key);
                if (r == 0)
                        r = vh_qopts_escape(&b, extra_value);
        }
        if (r < 0)
                return vh_fail(err, -r, "key=value");
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* ---- the rewrite ---- */

void vh_qrewrite_done(vh_qrewrite *w)
{
        for (int i = 0; w->argv && i < w->argc; i++)
                free(w->argv[i]);
        free(w->argv);
        vh_buf_free(&w->changes);
        vh_buf_free(&w->notes);
        memset(w, 0, sizeof(*w));
}

typedef struct dev_act {
        const vh_qrelocate *msix;       /* add x-msix-relocation */
        char *kv;                       /* rewritten as key=value (the new text) */
        char *why_kv;                   /* the change line for it */
} dev_act;

typedef struct rewrite {
        const vh_qargv *q;
        dev_act *acts;
        vh_qrewrite *w;
} rewrite;

__attribute__((format(printf, 2, 3))) static int line(vh_buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *s = NULL;
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = vh_buf_puts(b, s);
        return r < 0 ? r : vh_buf_puts(b, "\n");
}

static bool is_vfio_pci(const vh_qdev *d)
{
        return streq(d->driver, "vfio-pci") || streq(d->driver, "vfio-pci-nohotplug");
}

static ssize_t dev_index(const vh_qargv *q, const char *id, int before_arg)
{
        for (size_t i = 0; i < q->n_devs; i++)
                if (streq(q->devs[i].id, id) && (before_arg < 0 || q->devs[i].arg < before_arg))
                        return (ssize_t)i;
        return -1;
}

/* A -set that gives `prop` of device `id` (after the device), or NULL. */
static const vh_qset *set_for(const vh_qargv *q, const vh_qdev *d, const char *prop)
{
        for (size_t i = 0; i < q->n_sets; i++)
                if (streq(q->sets[i].id, d->id) && streq(q->sets[i].prop, prop) && q->sets[i].arg > d->arg)
                        return &q->sets[i];
        return NULL;
}

/* The value a device gives a property itself, for a message. */
static const char *own_value(const vh_qdev *d, const char *prop)
{
        if (d->form == VH_QDEV_KEYVAL)
                return vh_qopts_get(&d->opts, prop);
        json_object *v;
        if (!json_object_object_get_ex(d->json, prop, &v))
                return NULL;
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                        : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static bool plain_word(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
                        return false;
        return true;
}

static int plan_msix(rewrite *rw, const vh_qrelocate *rel)
{
        const vh_qargv *q = rw->q;
        vh_buf *notes = &rw->w->notes;
        ssize_t i = dev_index(q, rel->id, -1);
        if (i < 0)
                return line(notes, "%s: no -device with this id; %s not added", rel->id, VH_MSIX_PROP);
        const vh_qdev *d = &q->devs[i];
        if (!is_vfio_pci(d))
                return line(notes, "%s: a %s device, not vfio-pci; %s not added", rel->id,
                            d->driver ? d->driver : "driverless", VH_MSIX_PROP);
        if (!plain_word(rel->bar))
                return line(notes, "%s: \"%s\" is not a BAR name; %s not added", rel->id, rel->bar, VH_MSIX_PROP);
        if (d->has_msix)
                return line(notes, "%s: already sets %s=%s; left as is", rel->id, VH_MSIX_PROP,
                            own_value(d, VH_MSIX_PROP));
        const vh_qset *s = set_for(q, d, VH_MSIX_PROP);
        if (s)
                return line(notes, "%s: -set device.%s.%s=%s gives the value; left as is", rel->id, s->id, s->prop,
                            s->value);
        if (!rw->acts[i].msix)
                rw->acts[i].msix = rel;
        return 0;
}

/* The JSON device that provides `bus` (id "pci.5" for bus "pci.5", id "usb" for "usb.0"), or -1. */
static ssize_t bus_provider(const vh_qargv *q, const char *bus)
{
        for (size_t i = 0; i < q->n_devs; i++)
                if (streq(q->devs[i].id, bus))
                        return (ssize_t)i;
        const char *dot = strrchr(bus, '.');
        if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
                return -1;
        for (size_t i = 0; i < q->n_devs; i++) {
                const char *id = q->devs[i].id;
                if (id && strlen(id) == (size_t)(dot - bus) && strncmp(id, bus, (size_t)(dot - bus)) == 0)
                        return (ssize_t)i;
        }
        return -1;
}

static int to_keyval(rewrite *rw, size_t i, char **ret, vh_error **err)
{
        const vh_qrelocate *m = rw->acts[i].msix;
        return vh_qdev_json_to_keyval(rw->q->devs[i].json, m ? VH_MSIX_PROP : NULL, m ? m->bar : NULL, ret, err);
}

static bool in_chain(const size_t *chain, size_t n, size_t i)
{
        for (size_t k = 0; k < n; k++)
                if (chain[k] == i)
                        return true;
        return false;
}

/* Rewrite device `target` (and the JSON devices its bus hangs from) as key=value for -set `s`. */
static int rescue_set(rewrite *rw, size_t target, const vh_qset *s)
{
        const vh_qargv *q = rw->q;
        size_t chain[64];
        char *kv[64];
        size_t n = 0;
        _cleanup_free_ char *fail = NULL;
        int r = 0;
        for (ssize_t i = (ssize_t)target; i >= 0; i = q->devs[i].bus ? bus_provider(q, q->devs[i].bus) : -1) {
                const vh_qdev *d = &q->devs[i];
                if (d->form != VH_QDEV_JSON || rw->acts[i].kv || in_chain(chain, n, (size_t)i))
                        break; /* key=value already: created early enough */
                if (n == ELEMENTSOF(chain)) {
                        r = (fail = strdup("its bus hangs from more than 64 JSON devices")) ? 0 : -ENOMEM;
                        break;
                }
                _cleanup_error_ vh_error *e = NULL;
                r = to_keyval(rw, (size_t)i, &kv[n], &e);
                if (r == -EINVAL) {
                        r = asprintf(&fail, "%s%s cannot be written as key=value: %s",
                                     (size_t)i == target ? "" : "its bus provider ", d->id ? d->id : "the device",
                                     vh_error_msg(e)) < 0 ? -ENOMEM : 0;
                        break;
                }
                if (r < 0)
                        break;
                chain[n++] = (size_t)i;
        }
        if (r < 0 || fail) {
                for (size_t k = 0; k < n; k++)
                        free(kv[k]);
                if (r < 0)
                        return r;
                return line(&rw->w->notes,
                            "-set device.%s.%s=%s left as is: %s (QEMU 7.2 rejects -set on a JSON -device)", s->id,
                            s->prop, s->value, fail);
        }
        for (size_t k = 0; k < n; k++) {
                dev_act *a = &rw->acts[chain[k]];
                const vh_qdev *d = &q->devs[chain[k]];
                a->kv = kv[k];
                if (k == 0)
                        r = asprintf(&a->why_kv,
                                     "%s: -device rewritten from JSON to key=value so that -set device.%s.%s=%s "
                                     "applies (QEMU accepts -set only on key=value devices)",
                                     d->id, s->id, s->prop, s->value);
                else
                        r = asprintf(&a->why_kv,
                                     "%s: -device rewritten from JSON to key=value: it provides bus %s of %s, and QEMU "
                                     "creates key=value devices before JSON ones",
                                     d->id ? d->id : "?", q->devs[chain[k - 1]].bus, q->devs[chain[k - 1]].id);
                if (r < 0) {
                        a->why_kv = NULL;
                        for (size_t j = k + 1; j < n; j++)
                                free(kv[j]);
                        return -ENOMEM;
                }
        }
        return 0;
}

static int plan_set(rewrite *rw, const vh_qset *s)
{
        const vh_qargv *q = rw->q;
        ssize_t i = dev_index(q, s->id, s->arg);
        if (i < 0) {
                /* defined later, or elsewhere (-readconfig): QEMU decides */
                ssize_t later = dev_index(q, s->id, -1);
                if (later >= 0 && q->devs[later].form == VH_QDEV_JSON)
                        return line(&rw->w->notes, "-set device.%s.%s=%s left as is: it comes before its -device",
                                    s->id, s->prop, s->value);
                return 0;
        }
        if (q->devs[i].form != VH_QDEV_JSON || rw->acts[i].kv)
                return 0;
        return rescue_set(rw, (size_t)i, s);
}

/* `s` (a JSON object) with "key":"value" added before its closing brace. */
static char *json_insert(const char *s, const char *key, const char *value)
{
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\n\r", s[n - 1]))
                n--;
        if (n == 0 || s[n - 1] != '}')
                return NULL;
        size_t k = n - 1;
        while (k > 0 && strchr(" \t\n\r", s[k - 1]))
                k--;
        bool empty = k > 0 && s[k - 1] == '{';
        char *out = NULL;
        if (asprintf(&out, "%.*s%s\"%s\":\"%s\"%s", (int)(n - 1), s, empty ? "" : ",", key, value, s + n - 1) < 0)
                return NULL;
        return out;
}

static char *keyval_append(const vh_qdev *d, const char *arg, const char *key, const char *value)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_puts(&b, arg) < 0 || (!d->opts.trailing_comma && *arg && vh_buf_puts(&b, ",") < 0) ||
            vh_buf_printf(&b, "%s=", key) < 0 || vh_qopts_escape(&b, value) < 0)
                return NULL;
        return TAKE_PTR(b.data);
}

static void acts_free(dev_act *acts, size_t n)
{
        for (size_t i = 0; acts && i < n; i++) {
                free(acts[i].kv);
                free(acts[i].why_kv);
        }
        free(acts);
}

static int apply(rewrite *rw)
{
        const vh_qargv *q = rw->q;
        vh_qrewrite *w = rw->w;
        for (size_t i = 0; i < q->n_devs; i++) {
                const vh_qdev *d = &q->devs[i];
                dev_act *a = &rw->acts[i];
                char *text = NULL;
                if (a->kv)
                        text = TAKE_PTR(a->kv);
                else if (a->msix && d->form == VH_QDEV_JSON)
                        text = json_insert(q->argv[d->arg], VH_MSIX_PROP, a->msix->bar);
                else if (a->msix)
                        text = keyval_append(d, q->argv[d->arg], VH_MSIX_PROP, a->msix->bar);
                else
                        continue;
                if (!text)
                        return -ENOMEM;
                free(w->argv[d->arg]);
                w->argv[d->arg] = text;
                w->changed = true;
                if (a->why_kv && line(&w->changes, "%s", a->why_kv) < 0)
                        return -ENOMEM;
                if (a->msix) {
                        int r = d->host ? line(&w->changes, "%s (%s, %s): %s=%s", d->id, d->host, a->msix->why,
                                               VH_MSIX_PROP, a->msix->bar)
                                        : line(&w->changes, "%s (%s): %s=%s", d->id, a->msix->why, VH_MSIX_PROP,
                                               a->msix->bar);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int vh_qargv_rewrite(const vh_qargv *q, const vh_qrelocate *rel, size_t n_rel, vh_qrewrite *ret, vh_error **err)
{
        _cleanup_qrewrite_ vh_qrewrite w = { 0 };
        w.argv = calloc((size_t)q->argc + 1, sizeof(char *));
        if (!w.argv || vh_buf_puts(&w.changes, "") < 0 || vh_buf_puts(&w.notes, "") < 0)
                return vh_fail(err, ENOMEM, "rewrite");
        for (w.argc = 0; w.argc < q->argc; w.argc++)
                if (!(w.argv[w.argc] = strdup(q->argv[w.argc])))
                        return vh_fail(err, ENOMEM, "rewrite");
        int r = 0;
        if (q->bad)
                r = line(&w.notes, "%s; the command line goes to QEMU as it is", q->bad);
        if (q->bad || q->probe) {
                if (r < 0)
                        return vh_fail(err, ENOMEM, "rewrite");
                *ret = w;
                memset(&w, 0, sizeof(w));
                return 0;
        }
        rewrite rw = { q, calloc(q->n_devs + 1, sizeof(dev_act)), &w };
        if (!rw.acts)
                return vh_fail(err, ENOMEM, "rewrite");
        for (size_t i = 0; r == 0 && i < n_rel; i++)
                r = plan_msix(&rw, &rel[i]);
        for (size_t i = 0; r == 0 && i < q->n_sets; i++)
                r = plan_set(&rw, &q->sets[i]);
        if (r == 0)
                r = apply(&rw);
        acts_free(rw.acts, q->n_devs);
        if (r < 0)
                return vh_fail(err, -r, "rewrite");
        *ret = w;
        memset(&w, 0, sizeof(w));
        return 0;
}
