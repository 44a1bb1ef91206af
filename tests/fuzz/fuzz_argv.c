/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_argv — lib/argv.c: the QEMU command line model (vh_qargv_parse) and
 * the one rewrite the wrapper makes (vh_qargv_rewrite): x-msix-relocation
 * added to vfio-pci devices, JSON devices aimed at by -set rewritten as
 * key=value with the devices their bus hangs from.
 *
 * Input: two control bytes, then the command line, one argument per line
 * (argv[0] is "qemu-kvm"; a NUL ends the text).  The first control byte
 * picks which devices (by index, bit k % 8) the plan asks to relocate, by
 * their id; the second picks their BARs (valid and invalid ones), and
 * adds a relocation for an id that does not exist (0x80) and a second
 * relocation of the first device with another BAR (0x40).
 *
 * Invariants, with the expectations computed here from the argument texts
 * (json-c only parses the objects; the numbers are checked against their
 * text):
 * - parse never fails below its limits; every device points at the value
 *   of a -device option;
 * - rewrite never fails; argc, argv[0] and the NULL are kept; a probe or a
 *   command line marked bad passes through byte for byte with no change;
 * - only -device values change, and each change is accounted for:
 *   - key=value: the same elements, in the same order, plus
 *     x-msix-relocation=BAR at the end;
 *   - JSON kept JSON: the same members plus "x-msix-relocation":"BAR";
 *   - JSON to key=value: every member, with the same value (strings
 *     exactly, integers equal to the number written in the JSON text,
 *     booleans on/off), plus the relocation when planned; only for a device
 *     a -set aims at or one whose bus a converted device hangs from, and
 *     then the devices its bus hangs from are key=value too;
 * - a device that should get x-msix-relocation (a vfio-pci device, first
 *   with its id, a BAR that is a plain word, no value of its own, no -set
 *   giving one) gets it, and no other device does;
 * - a -set aimed at a JSON device is either made to apply (the device is
 *   key=value) or explained in the notes;
 * - the rewritten command line parses again to the same devices (driver,
 *   id, bus, host) and sets, and rewriting it again changes nothing.
 */
#include "fuzz.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>

#include <json-c/json.h>

#include "argv.h"
#include "util.h"

#define MAX_ARGS 4096

static const char *const bars[] = { "bar2", "bar0", "auto", "bar5", "bad\"bar", "", "BAR2", "bar 2", "bar2,x" };

static bool vfio(const vh_qdev *d)
{
        return fuzz_streq0(d->driver, "vfio-pci") || fuzz_streq0(d->driver, "vfio-pci-nohotplug");
}

static bool plain_word(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
                        return false;
        return true;
}

/* The first device with this id (before argument `before`, or anywhere when negative). */
static ssize_t first_dev(const vh_qargv *q, const char *id, int before)
{
        for (size_t i = 0; i < q->n_devs; i++)
                if (q->devs[i].id && id && strcmp(q->devs[i].id, id) == 0 && (before < 0 || q->devs[i].arg < before))
                        return (ssize_t)i;
        return -1;
}

/* The device that provides bus `bus`: id equal to it, or to it without a ".N" suffix. */
static ssize_t provider(const vh_qargv *q, const char *bus)
{
        ssize_t i = first_dev(q, bus, -1);
        if (i >= 0)
                return i;
        const char *dot = strrchr(bus, '.');
        if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
                return -1;
        for (size_t k = 0; k < q->n_devs; k++)
                if (q->devs[k].id && strlen(q->devs[k].id) == (size_t)(dot - bus) &&
                    strncmp(q->devs[k].id, bus, (size_t)(dot - bus)) == 0)
                        return (ssize_t)k;
        return -1;
}

/* ---- the members of a JSON object as written (a minimal scanner for text json-c accepted) ---- */

typedef struct member {
        char *key;
        const char *raw;        /* the value's text */
        size_t raw_len;
} member;

static const char *skip_ws(const char *s)
{
        return s + strspn(s, " \t\n\r");
}

static const char *skip_string(const char *s)
{
        for (s++; *s && *s != '"'; s++)
                if (*s == '\\' && s[1])
                        s++;
        return *s ? s + 1 : s;
}

static const char *skip_value(const char *s)
{
        if (*s == '"')
                return skip_string(s);
        if (*s == '{' || *s == '[') {
                int depth = 0;
                do {
                        if (*s == '"') {
                                s = skip_string(s);
                                continue;
                        }
                        depth += *s == '{' || *s == '[';
                        depth -= *s == '}' || *s == ']';
                        s++;
                } while (*s && depth > 0);
                return s;
        }
        return s + strcspn(s, ",}] \t\n\r");
}

static void put_utf8(vh_buf *b, unsigned long c)
{
        char u[4];
        size_t n;
        if (c < 0x80) {
                u[0] = (char)c, n = 1;
        } else if (c < 0x800) {
                u[0] = (char)(0xc0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3f)), n = 2;
        } else if (c < 0x10000) {
                u[0] = (char)(0xe0 | c >> 12), u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
                u[2] = (char)(0x80 | (c & 0x3f)), n = 3;
        } else {
                u[0] = (char)(0xf0 | c >> 18), u[1] = (char)(0x80 | ((c >> 12) & 0x3f)),
                u[2] = (char)(0x80 | ((c >> 6) & 0x3f)), u[3] = (char)(0x80 | (c & 0x3f)), n = 4;
        }
        (void)vh_buf_append(b, u, n);
}

static char *decode_string(const char *s)
{
        vh_buf b = { 0 };
        (void)vh_buf_puts(&b, "");
        for (s++; *s && *s != '"'; s++) {
                if (*s != '\\') {
                        (void)vh_buf_append(&b, s, 1);
                        continue;
                }
                s++;
                switch (*s) {
                case 'b': (void)vh_buf_puts(&b, "\b"); break;
                case 'f': (void)vh_buf_puts(&b, "\f"); break;
                case 'n': (void)vh_buf_puts(&b, "\n"); break;
                case 'r': (void)vh_buf_puts(&b, "\r"); break;
                case 't': (void)vh_buf_puts(&b, "\t"); break;
                case 'u': {
                        unsigned long c = strtoul((char[5]){ s[1], s[2], s[3], s[4], 0 }, NULL, 16);
                        s += 4;
                        if (c >= 0xd800 && c < 0xdc00 && s[1] == '\\' && s[2] == 'u') {
                                unsigned long lo = strtoul((char[5]){ s[3], s[4], s[5], s[6], 0 }, NULL, 16);
                                if (lo >= 0xdc00 && lo < 0xe000) {
                                        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                                        s += 6;
                                }
                        }
                        if (c >= 0xd800 && c < 0xe000)
                                c = 0xfffd; /* a lone surrogate, as json-c reads it */
                        put_utf8(&b, c);
                        break;
                }
                default: (void)vh_buf_append(&b, s, 1); break;
                }
        }
        FUZZ_CHECK(b.data, "oom");
        return b.data;
}

/* The members of the object in `s`; a key given twice keeps its last value, as json-c does. */
static member *scan_members(const char *s, size_t *ret_n)
{
        member *m = NULL;
        size_t n = 0;
        s = skip_ws(s);
        FUZZ_CHECK(*s == '{', "not an object: %.100s", s);
        s = skip_ws(s + 1);
        while (*s == '"') {
                char *key = decode_string(s);
                s = skip_ws(skip_string(s));
                FUZZ_CHECK(*s == ':', "scanner lost at %.100s", s);
                s = skip_ws(s + 1);
                const char *end = skip_value(s);
                size_t k = 0;
                while (k < n && strcmp(m[k].key, key) != 0)
                        k++;
                if (k == n) {
                        m = realloc(m, (n + 1) * sizeof(*m));
                        FUZZ_CHECK(m, "oom");
                        m[n++].key = key;
                } else {
                        free(key);
                }
                m[k].raw = s;
                m[k].raw_len = (size_t)(end - s);
                s = skip_ws(end);
                if (*s == ',')
                        s = skip_ws(s + 1);
        }
        *ret_n = n;
        return m;
}

static void free_members(member *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(m[i].key);
        free(m);
}

/* An integer written in JSON as the number it is, or false when it is out of 64-bit range. */
static bool json_int_text(const char *raw, size_t len, char out[32])
{
        char tmp[64];
        if (len >= sizeof(tmp))
                return false;
        memcpy(tmp, raw, len);
        tmp[len] = '\0';
        errno = 0;
        char *end;
        if (tmp[0] == '-') {
                long long v = strtoll(tmp, &end, 10);
                if (errno || *end)
                        return false;
                snprintf(out, 32, "%lld", v);
        } else {
                unsigned long long v = strtoull(tmp, &end, 10);
                if (errno || *end)
                        return false;
                snprintf(out, 32, "%llu", v);
        }
        return true;
}

/* A JSON -device as key=value: check every member against the text, plus the planned relocation. */
static void check_json_to_keyval(const char *in, const char *out, const vh_qrelocate *msix)
{
        json_object *obj = json_tokener_parse(in);
        FUZZ_CHECK(obj && json_object_is_type(obj, json_type_object), "the JSON -device does not parse: %s", in);
        vh_qopts o = { 0 };
        FUZZ_CHECK(vh_qopts_parse(out, "driver", &o, NULL) == 0, "oom");
        size_t n = 0;
        member *m = scan_members(in, &n);
        size_t want = 0;
        json_object_object_foreach(obj, key, val)
        {
                want++;
                const member *mm = NULL;
                for (size_t k = 0; k < n; k++)
                        if (strcmp(m[k].key, key) == 0)
                                mm = &m[k];
                const char *got = vh_qopts_get(&o, key);
                FUZZ_CHECK(got, "\"%s\" lost when %s became %s", key, in, out);
                char num[32];
                switch (json_object_get_type(val)) {
                case json_type_string:
                        FUZZ_CHECK(strcmp(got, json_object_get_string(val)) == 0, "\"%s\": \"%s\" became \"%s\" (%s)",
                                   key, json_object_get_string(val), got, out);
                        break;
                case json_type_int:
                        if (!mm) { /* a key this scanner decodes differently from json-c: trust json-c */
                                snprintf(num, sizeof(num), "%s",
                                         json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
                                FUZZ_CHECK(strcmp(got, num) == 0, "\"%s\": %s became %s (%s)", key, num, got, out);
                                break;
                        }
                        FUZZ_CHECK(json_int_text(mm->raw, mm->raw_len, num),
                                   "\"%s\": %.*s is out of 64-bit range, yet the device was rewritten as %s", key,
                                   (int)mm->raw_len, mm->raw, out);
                        FUZZ_CHECK(strcmp(got, num) == 0, "\"%s\": %.*s became %s (%s)", key, (int)mm->raw_len, mm->raw,
                                   got, out);
                        break;
                case json_type_boolean:
                        FUZZ_CHECK(strcmp(got, json_object_get_boolean(val) ? "on" : "off") == 0,
                                   "\"%s\": %s became %s", key, json_object_get_boolean(val) ? "true" : "false", got);
                        break;
                default:
                        fuzz_die("\"%s\" (%s) cannot be key=value, yet %s became %s", key,
                                 json_type_to_name(json_object_get_type(val)), in, out);
                }
        }
        if (msix) {
                want++;
                FUZZ_CHECK(fuzz_streq0(vh_qopts_get(&o, VH_MSIX_PROP), msix->bar), "relocation missing in %s", out);
        }
        FUZZ_CHECK(o.n == want, "%s has %zu elements, the JSON %zu members%s", out, o.n, want - (msix != NULL),
                   msix ? " and the relocation" : "");
        free_members(m, n);
        vh_qopts_done(&o);
        json_object_put(obj);
}

static void check_keyval_append(const char *in, const char *out, const vh_qrelocate *msix)
{
        FUZZ_CHECK(msix, "key=value device changed without a relocation: %s -> %s", in, out);
        vh_qopts a = { 0 }, b = { 0 };
        FUZZ_CHECK(vh_qopts_parse(in, "driver", &a, NULL) == 0 && vh_qopts_parse(out, "driver", &b, NULL) == 0, "oom");
        FUZZ_CHECK(b.n == a.n + 1, "%s -> %s: %zu elements became %zu", in, out, a.n, b.n);
        for (size_t i = 0; i < a.n; i++)
                FUZZ_CHECK(strcmp(a.v[i].key, b.v[i].key) == 0 && strcmp(a.v[i].value, b.v[i].value) == 0,
                           "%s -> %s: element %zu (%s=%s) became %s=%s", in, out, i, a.v[i].key, a.v[i].value,
                           b.v[i].key, b.v[i].value);
        FUZZ_CHECK(strcmp(b.v[a.n].key, VH_MSIX_PROP) == 0 && strcmp(b.v[a.n].value, msix->bar) == 0,
                   "%s -> %s: the new element is %s=%s", in, out, b.v[a.n].key, b.v[a.n].value);
        vh_qopts_done(&a);
        vh_qopts_done(&b);
}

static void check_json_insert(const char *in, const char *out, const vh_qrelocate *msix)
{
        FUZZ_CHECK(msix, "JSON device changed without a relocation: %s -> %s", in, out);
        json_object *a = json_tokener_parse(in), *b = json_tokener_parse(out);
        FUZZ_CHECK(a && b && json_object_is_type(b, json_type_object), "%s -> %s: not a JSON object", in, out);
        FUZZ_CHECK(json_object_object_length(b) == json_object_object_length(a) + 1, "%s -> %s: members", in, out);
        json_object_object_foreach(a, key, val)
        {
                json_object *v2;
                FUZZ_CHECK(json_object_object_get_ex(b, key, &v2) && json_object_equal(val, v2),
                           "%s -> %s: \"%s\" changed", in, out, key);
        }
        json_object *r;
        FUZZ_CHECK(json_object_object_get_ex(b, VH_MSIX_PROP, &r) && json_object_is_type(r, json_type_string) &&
                           strcmp(json_object_get_string(r), msix->bar) == 0,
                   "%s -> %s: the relocation is not \"%s\"", in, out, msix->bar);
        json_object_put(a);
        json_object_put(b);
}

static bool json_member_is_string(const vh_qdev *d, const char *key)
{
        json_object *v;
        return d->json && json_object_object_get_ex(d->json, key, &v) && json_object_is_type(v, json_type_string);
}

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 2)
                return 0;
        const unsigned sel = data[0], opt = data[1];
        char *text = fuzz_strndup(data + 2, size - 2);
        char *argv[MAX_ARGS + 1];
        int argc = 0;
        argv[argc++] = (char *)"qemu-kvm";
        for (char *s = text; s && argc < MAX_ARGS;) {
                char *nl = strchr(s, '\n');
                if (nl)
                        *nl = '\0';
                if (*s || nl) /* no empty argument after the last newline */
                        argv[argc++] = s;
                s = nl ? nl + 1 : NULL;
        }
        argv[argc] = NULL;

        vh_qargv q = { 0 };
        vh_error *e = NULL;
        int r = vh_qargv_parse(argc, argv, &q, &e);
        FUZZ_CHECK(r == 0, "parse failed with %d: %s", r, vh_error_msg(e));
        for (size_t i = 0; i < q.n_devs; i++) {
                const vh_qdev *d = &q.devs[i];
                FUZZ_CHECK(d->arg >= 2 && d->arg < argc && (i == 0 || d->arg > q.devs[i - 1].arg),
                           "device %zu at argument %d", i, d->arg);
                FUZZ_CHECK(strcmp(argv[d->arg - 1], "-device") == 0 || strcmp(argv[d->arg - 1], "--device") == 0,
                           "device %zu: argument %d follows \"%s\"", i, d->arg, argv[d->arg - 1]);
                FUZZ_CHECK((d->form == VH_QDEV_JSON) == (argv[d->arg][0] == '{'), "device %zu: wrong form", i);
        }
        for (size_t i = 0; i < q.n_sets; i++)
                FUZZ_CHECK(strcmp(q.sets[i].group, "device") == 0 && q.sets[i].arg < argc &&
                                   (strcmp(argv[q.sets[i].arg - 1], "-set") == 0 ||
                                    strcmp(argv[q.sets[i].arg - 1], "--set") == 0),
                           "set %zu", i);

        /* the relocations the plan asks for */
        vh_qrelocate rel[40];
        size_t n_rel = 0;
        for (size_t k = 0; k < q.n_devs && n_rel < 32; k++)
                if ((sel >> (k % 8)) & 1 && q.devs[k].id)
                        rel[n_rel++] = (vh_qrelocate){ q.devs[k].id, (char *)bars[(opt + k) % ELEMENTSOF(bars)],
                                                       (char *)"fuzz" };
        if (opt & 0x80)
                rel[n_rel++] = (vh_qrelocate){ (char *)"nosuch-id", (char *)"bar2", (char *)"fuzz" };
        if ((opt & 0x40) && n_rel > 0)
                rel[n_rel++] = (vh_qrelocate){ rel[0].id, (char *)bars[(opt >> 3) % ELEMENTSOF(bars)],
                                               (char *)"again" };

        /* what must happen: the first relocation of each device that qualifies */
        const vh_qrelocate **expect = calloc(q.n_devs + 1, sizeof(*expect));
        FUZZ_CHECK(expect, "oom");
        for (size_t k = 0; k < n_rel && !q.bad && !q.probe; k++) {
                ssize_t i = first_dev(&q, rel[k].id, -1);
                if (i < 0 || !vfio(&q.devs[i]) || !plain_word(rel[k].bar) || q.devs[i].has_msix)
                        continue;
                bool set_gives = false;
                for (size_t s = 0; s < q.n_sets; s++)
                        set_gives = set_gives ||
                                    (fuzz_streq0(q.sets[s].id, q.devs[i].id) &&
                                     strcmp(q.sets[s].prop, VH_MSIX_PROP) == 0 && q.sets[s].arg > q.devs[i].arg);
                if (!set_gives && !expect[i])
                        expect[i] = &rel[k];
        }

        vh_qrewrite w = { 0 };
        r = vh_qargv_rewrite(&q, rel, n_rel, &w, &e);
        FUZZ_CHECK(r == 0, "rewrite failed with %d: %s", r, vh_error_msg(e));
        FUZZ_CHECK(w.argc == argc && w.argv && !w.argv[argc] && strcmp(w.argv[0], argv[0]) == 0, "argc or argv[0]");
        FUZZ_CHECK(w.changes.data && w.notes.data, "no changes or notes buffer");
        FUZZ_CHECK(w.changes.len == 0 || w.changes.data[w.changes.len - 1] == '\n', "changes not \\n-terminated");
        FUZZ_CHECK(w.notes.len == 0 || w.notes.data[w.notes.len - 1] == '\n', "notes not \\n-terminated");

        bool any = false;
        for (int i = 0; i < argc; i++)
                any = any || strcmp(w.argv[i], argv[i]) != 0;
        FUZZ_CHECK(any == w.changed, "changed is %d, yet %s", w.changed, any ? "an argument differs" : "none differs");
        FUZZ_CHECK(w.changed == (w.changes.len > 0), "changed %d with changes \"%s\"", w.changed, w.changes.data);
        if (q.bad || q.probe) {
                FUZZ_CHECK(!w.changed, "a %s command line was changed", q.bad ? "bad" : "probe");
                FUZZ_CHECK(!q.bad || strstr(w.notes.data, "goes to QEMU as it is"), "bad, and the notes do not say so");
        }

        /* every argument that changed is a -device value, and the change is the expected one */
        bool *is_dev = calloc((size_t)argc, sizeof(bool)), *converted = calloc(q.n_devs + 1, sizeof(bool));
        FUZZ_CHECK(is_dev && converted, "oom");
        for (size_t i = 0; i < q.n_devs; i++)
                is_dev[q.devs[i].arg] = true;
        for (int i = 0; i < argc; i++)
                FUZZ_CHECK(is_dev[i] || strcmp(w.argv[i], argv[i]) == 0, "argument %d changed: \"%s\" -> \"%s\"", i,
                           argv[i], w.argv[i]);
        for (size_t i = 0; i < q.n_devs && !q.bad && !q.probe; i++) {
                const vh_qdev *d = &q.devs[i];
                const char *in = argv[d->arg], *out = w.argv[d->arg];
                if (strcmp(in, out) == 0) {
                        FUZZ_CHECK(!expect[i], "%s: no x-msix-relocation=%s added (%s)", d->id, expect[i]->bar, in);
                        continue;
                }
                if (d->form == VH_QDEV_KEYVAL)
                        check_keyval_append(in, out, expect[i]);
                else if (out[0] == '{')
                        check_json_insert(in, out, expect[i]);
                else {
                        converted[i] = true;
                        check_json_to_keyval(in, out, expect[i]);
                }
        }
        /* a conversion has a reason, and what the device hangs from comes first */
        for (size_t i = 0; i < q.n_devs; i++) {
                if (!converted[i])
                        continue;
                bool reason = false;
                for (size_t s = 0; s < q.n_sets && !reason; s++)
                        reason = first_dev(&q, q.sets[s].id, q.sets[s].arg) == (ssize_t)i;
                for (size_t j = 0; j < q.n_devs && !reason; j++)
                        reason = converted[j] && q.devs[j].bus && provider(&q, q.devs[j].bus) == (ssize_t)i && j != i;
                FUZZ_CHECK(reason, "%s was rewritten as key=value without a -set aimed at it or a bus it provides",
                           argv[q.devs[i].arg]);
                if (q.devs[i].bus) {
                        ssize_t p = provider(&q, q.devs[i].bus);
                        FUZZ_CHECK(p < 0 || q.devs[p].form == VH_QDEV_KEYVAL || converted[p],
                                   "%s is key=value, but its bus provider %s is still JSON: QEMU creates it too late",
                                   argv[q.devs[i].arg], argv[q.devs[p].arg]);
                }
        }
        /* every -set aimed at a JSON device applies or is explained */
        for (size_t s = 0; s < q.n_sets && !q.bad && !q.probe; s++) {
                ssize_t t = first_dev(&q, q.sets[s].id, q.sets[s].arg);
                if (t < 0 || q.devs[t].form != VH_QDEV_JSON || converted[t])
                        continue;
                char *note = NULL;
                FUZZ_CHECK(asprintf(&note, "-set device.%s.%s=%s left as is", q.sets[s].id, q.sets[s].prop,
                                    q.sets[s].value) > 0, "oom");
                FUZZ_CHECK(strstr(w.notes.data, note), "-set %s aimed at a JSON device: neither applied nor explained",
                           argv[q.sets[s].arg]);
                free(note);
        }

        /* the result parses to the same devices and sets, and is a fixed point of the rewrite */
        vh_qargv q2 = { 0 };
        FUZZ_CHECK(vh_qargv_parse(w.argc, w.argv, &q2, &e) == 0, "the rewritten command line does not parse: %s",
                   vh_error_msg(e));
        FUZZ_CHECK(!q2.bad == !q.bad && q2.probe == q.probe, "bad or probe changed: %s", q2.bad ? q2.bad : "");
        FUZZ_CHECK(q2.n_devs == q.n_devs && q2.n_sets == q.n_sets, "%zu devices and %zu sets became %zu and %zu",
                   q.n_devs, q.n_sets, q2.n_devs, q2.n_sets);
        FUZZ_CHECK(fuzz_streq0(q.name, q2.name) && fuzz_streq0(q.uuid, q2.uuid), "name or uuid changed");
        for (size_t i = 0; i < q.n_devs; i++) {
                const vh_qdev *a = &q.devs[i], *b = &q2.devs[i];
                static const char *const keys[] = { "driver", "id", "bus", "host" };
                const char *av[] = { a->driver, a->id, a->bus, a->host }, *bv[] = { b->driver, b->id, b->bus, b->host };
                for (size_t k = 0; k < 4; k++) {
                        if (converted[i] && !av[k] && !json_member_is_string(a, keys[k]) && a->json &&
                            json_object_object_get_ex(a->json, keys[k], NULL))
                                continue; /* a number or a boolean in JSON is a string in key=value */
                        FUZZ_CHECK(fuzz_streq0(av[k], bv[k]), "device %zu: %s \"%s\" became \"%s\"", i, keys[k], av[k],
                                   bv[k]);
                }
                FUZZ_CHECK(b->has_msix == (a->has_msix || expect[i]), "device %zu: has_msix %d", i, b->has_msix);
        }
        vh_qrewrite w2 = { 0 };
        FUZZ_CHECK(vh_qargv_rewrite(&q2, rel, n_rel, &w2, &e) == 0, "second rewrite failed");
        for (int i = 0; i < argc; i++)
                FUZZ_CHECK(strcmp(w2.argv[i], w.argv[i]) == 0, "rewriting twice changes argument %d:\n  %s\n  %s", i,
                           w.argv[i], w2.argv[i]);
        FUZZ_CHECK(!w2.changed, "rewriting twice changes something: %s", w2.changes.data);

        vh_qrewrite_done(&w2);
        vh_qargv_done(&q2);
        vh_qrewrite_done(&w);
        free(is_dev);
        free(converted);
        free(expect);
        vh_qargv_done(&q);
        free(text);
        return 0;
}
