/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_policy_diff — the typed policy parser (vh_policy_apply) and the
 * RelaxNG schema (etc/policy.rng, vh_policy_validate_schema) must agree.
 *
 * For every document whose root is a policy element — <policy> with no
 * namespace or in urn:vmhooks:policy:1, the documents vh_policy_apply is
 * meant to judge — both must accept or both must reject, with one
 * exception the schema says it leaves to vmhooks: a cpulist whose ranges
 * go down or that names no CPU (VH_POLICY_CPULIST_SEMANTICS), which only
 * the typed parser rejects.  A disagreement
 * aborts with the document and both messages.  (A root in another
 * namespace is not a policy: the typed parser rejects it by name, while
 * vh_policy_validate_schema, by design, moves the root into the policy
 * namespace before validating; such documents are skipped.)
 *
 * Plain byte mutation rarely writes a valid policy, so the input is read
 * two ways:
 * - starting with '<': the bytes are the XML document (the seed corpus
 *   and the dictionary feed this);
 * - otherwise: a recipe.  The bytes choose, one after another, the root
 *   form, the elements (the 14 of the vocabulary, unknown and foreign
 *   ones), their attributes (the element's own, "enabled", others, in
 *   other namespaces) and values (the valid ones, the near misses the
 *   grammar must decide on, and small edits of both: blanks around a
 *   value, character references for tab, newline and carriage return,
 *   case, doubling, truncation, one inserted byte), the content (blank,
 *   text, comment, CDATA, a child element) and what lies between the
 *   elements.  Almost every recipe is a well-formed document that reaches
 *   deep into both validators.
 *
 * Run one input with FUZZ_PRINT=1 in the environment to see the document.
 */
#include "fuzz.h"

#include <errno.h>

#include "policy.h"
#include "util.h"
#include "xml.h"

/* ---- the recipe reader ---- */

typedef struct recipe {
        const uint8_t *p;
        size_t n;
} recipe;

static unsigned take(recipe *r, unsigned bound)
{
        if (bound <= 1)
                return 0;
        unsigned v = 0;
        if (r->n > 0) {
                v = *r->p++;
                r->n--;
        }
        return v % bound;
}

#define PICK(r, table) ((table)[take((r), (unsigned)ELEMENTSOF(table))])

/* ---- the vocabulary: values are XML attribute text (already escaped) ---- */

static const char *const v_enabled[] = { "yes", "no", "no", "maybe", "", " no", "no ", "NO", "yes " };
static const char *const v_mode[] = { "auto", "never", "madvise", "always", "off", "warn", "enforce", "sometimes",
                                      "", "Never" };
static const char *const v_ns[] = { "0", "1", "400000", "4294967295", "4294967296", "+5", "-1", "", "007",
                                    "1e3", "0x10", "99999999999999999999", "00000000000000000000000000001", "5.0" };
static const char *const v_yesno[] = { "yes", "no", "maybe", "Yes", "1", "true" };
static const char *const v_cpus[] = { "0", "0-3", "2-5,8", "^2", "0-3,^2", "1-0", "65535", "65536", "",
                                      "1,,2", "0-3,^2-3", "a", "0-65535", "1,", ",1", "^0,0", "3-3", "01" };
static const char *const v_bar[] = { "auto", "bar0", "bar1", "bar2", "bar3", "bar4",
                                     "bar5", "bar9", "BAR2", "",     "bar" };
static const char *const v_devices[] = { "nvme", "quirks", "all", "nvme quirks", "nvme,all", "all,nvme", "all nvme",
                                         "0000:81:00.1", "81:00.1", "126f:2262", "00:20.0", "00:1f.7", "00:00.8",
                                         ",nvme", "nvme,", "", " ", "nvme  ,, quirks", "-1:00.0", "0x12:0x34",
                                         "1:00.0", "0000:81:00.1,126f:2262 nvme", "ABCD:EF:1F.7", "81:00.1x",
                                         "g000:81:00.1", "NVME" };
static const char *const v_count[] = { "auto", "1", "64", "65", "0", "", "01", "064", "4294967297", "-1", "Auto" };
static const char *const v_size[] = { "2M", "1G", "4M", "2m", "", "1G " };
static const char *const v_version[] = { "2.0", "1.2", "2", "", "2.00" };
static const char *const v_cache[] = { "none", "writethrough", "writeback", "directsync", "unsafe", "fast", "" };
static const char *const v_io[] = { "native", "threads", "io_uring", "aio", "" };
static const char *const v_rpcs[] = { "guest-exec", "guest-exec,guest-file-open", "Guest", "a,", ",a", " ", "a  b",
                                      "-", "a,,b", "guest_exec", "a, b", "" };
static const char *const v_action[] = { "continue", "refuse", "stop", "" };
static const char *const v_emulator[] = { "/usr/bin/qemu", "rel", "/", "/a b", "/a&#9;b", "/a&#13;b", "/a&#10;b",
                                          "", "//", "/usr/libexec/qemu-kvm", "/a&#xA0;b", "/a&#x2028;b" };
static const char *const v_other[] = { "1", "", "x", "no" };

typedef struct attr_def {
        const char *name;
        const char *const *values;
        size_t n;
} attr_def;

#define A(name, table) { name, table, ELEMENTSOF(table) }

static const attr_def attrs[] = {
        A("enabled", v_enabled),   A("mode", v_mode),       A("ns", v_ns),           A("isolate", v_yesno),
        A("cpus", v_cpus),         A("mode", v_mode),       A("bar", v_bar),         A("devices", v_devices),
        A("count", v_count),       A("cpuset", v_cpus),     A("size", v_size),       A("version", v_version),
        A("cache", v_cache),       A("io", v_io),           A("block-rpcs", v_rpcs), A("action", v_action),
        A("emulator", v_emulator), A("colour", v_other),    A("p:mode", v_mode),     A("o:enabled", v_enabled),
        A("xml:lang", v_other),    A("xmlns:q", v_other),
};

typedef struct elem_def {
        const char *name;
        const char *own[2];     /* the element's attributes, by name in attrs[] */
} elem_def;

static const elem_def elems[] = {
        { "thp", { "mode", NULL } },
        { "halt-poll", { "ns", NULL } },
        { "kworkers", { "isolate", "cpus" } },
        { "svirt", { "mode", NULL } },
        { "msix-relocation", { "bar", "devices" } },
        { "iothreads", { "count", "cpuset" } },
        { "hugepages", { "size", NULL } },
        { "dedicated-hint", { NULL, NULL } },
        { "pvspinlock", { NULL, NULL } },
        { "vtpm", { "version", NULL } },
        { "disk-io", { "cache", "io" } },
        { "guest-agent", { "block-rpcs", NULL } },
        { "on-error", { "action", NULL } },
        { "wrapper", { "emulator", NULL } },
        { "nope", { NULL, NULL } },
        { "policy", { NULL, NULL } },
};

static const attr_def *attr_by_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(attrs); i++)
                if (streq(attrs[i].name, name))
                        return &attrs[i];
        return &attrs[ELEMENTSOF(attrs) - 1];
}

/* A value, sometimes edited. */
static void put_value(recipe *r, vh_buf *b, const attr_def *a)
{
        const char *v = a->values[take(r, (unsigned)a->n)];
        unsigned edit = take(r, 16);
        static const char *const around[] = { " ", "&#9;", "&#10;", "&#13;", "  ", "&#x20;", "&#160;" };
        static const char inserted[] = "0123456789abcdefx:,.-^ _/AZ";
        size_t len = strlen(v);
        switch (edit) {
        case 0: (void)vh_buf_printf(b, "%s%s", PICK(r, around), v); break;
        case 1: (void)vh_buf_printf(b, "%s%s", v, PICK(r, around)); break;
        case 2: (void)vh_buf_printf(b, "%s%s%s", PICK(r, around), v, PICK(r, around)); break;
        case 3: (void)vh_buf_printf(b, "%s%s", v, v); break;
        case 4: (void)vh_buf_printf(b, "%.*s", (int)(len ? take(r, (unsigned)len) : 0), v); break;
        case 5: {
                size_t at = len ? take(r, (unsigned)len + 1) : 0;
                (void)vh_buf_printf(b, "%.*s%c%s", (int)at, v, inserted[take(r, sizeof(inserted) - 1)], v + at);
                break;
        }
        case 6:
                for (const char *s = v; *s; s++)
                        (void)vh_buf_printf(b, "%c", *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
                break;
        case 7: {
                /* a value taken from another attribute */
                const attr_def *o = &attrs[take(r, (unsigned)ELEMENTSOF(attrs))];
                (void)vh_buf_puts(b, o->values[take(r, (unsigned)o->n)]);
                break;
        }
        default: (void)vh_buf_puts(b, v); break;
        }
}

static void put_between(recipe *r, vh_buf *b)
{
        static const char *const between[] = { "", "", "\n  ", " ", "\t", "<!-- c -->", "<?pi x?>", "text",
                                               "&#10;", "&#32;", "<![CDATA[ ]]>", "<![CDATA[x]]>", "&#160;", "\r\n" };
        (void)vh_buf_puts(b, PICK(r, between));
}

static void put_element(recipe *r, vh_buf *b, bool prefixed_ok, bool other_ok, int depth)
{
        const elem_def *el = &elems[take(r, (unsigned)ELEMENTSOF(elems))];
        /* mostly the vocabulary */
        if (take(r, 4) != 0 && (streq(el->name, "nope") || streq(el->name, "policy")))
                el = &elems[take(r, 14)];
        static const char *const prefixes[] = { "", "", "", "", "p:", "o:" };
        const char *prefix = PICK(r, prefixes);
        if ((streq(prefix, "p:") && !prefixed_ok) || (streq(prefix, "o:") && !other_ok))
                prefix = "";
        (void)vh_buf_printf(b, "<%s%s", prefix, el->name);
        unsigned nattr = take(r, 8);
        /* mostly: the element's own attributes, each once, sometimes enabled */
        if (nattr < 5) {
                if (take(r, 4) == 0) {
                        (void)vh_buf_puts(b, " enabled=\"");
                        put_value(r, b, &attrs[0]);
                        (void)vh_buf_puts(b, "\"");
                }
                for (int i = 0; i < 2; i++) {
                        if (!el->own[i] || take(r, 8) == 0)
                                continue;
                        (void)vh_buf_printf(b, " %s=\"", el->own[i]);
                        put_value(r, b, attr_by_name(el->own[i]));
                        (void)vh_buf_puts(b, "\"");
                }
        } else {
                const char *seen[8];
                size_t nseen = 0;
                for (unsigned i = 0; i < nattr - 4; i++) {
                        const attr_def *a = &attrs[take(r, (unsigned)ELEMENTSOF(attrs))];
                        if (i < 2 && el->own[i] && take(r, 2))
                                a = attr_by_name(el->own[i]);
                        if ((strncmp(a->name, "p:", 2) == 0 && !prefixed_ok) ||
                            (strncmp(a->name, "o:", 2) == 0 && !other_ok))
                                continue;
                        bool dup = false;
                        for (size_t k = 0; k < nseen; k++)
                                dup = dup || streq(seen[k], a->name);
                        if (dup)
                                continue; /* a repeated attribute is not well-formed */
                        seen[nseen++] = a->name;
                        (void)vh_buf_printf(b, " %s=\"", a->name);
                        put_value(r, b, a);
                        (void)vh_buf_puts(b, "\"");
                }
        }
        unsigned content = take(r, 12);
        if (content < 7) {
                (void)vh_buf_puts(b, "/>");
                return;
        }
        (void)vh_buf_puts(b, ">");
        if (content == 7)
                put_between(r, b);
        else if (content == 8 && depth < 2)
                put_element(r, b, prefixed_ok, other_ok, depth + 1);
        else if (content == 9)
                (void)vh_buf_puts(b, "<!-- comment -->");
        else if (content == 10)
                (void)vh_buf_puts(b, "\n");
        (void)vh_buf_printf(b, "</%s%s>", prefix, el->name);
}

static void build(recipe *r, vh_buf *b)
{
        static const char *const roots[] = {
                "<policy xmlns=\"urn:vmhooks:policy:1\"",
                "<policy xmlns=\"urn:vmhooks:policy:1\"",
                "<policy xmlns=\"urn:vmhooks:policy:1\" xmlns:p=\"urn:vmhooks:policy:1\" xmlns:o=\"urn:other\"",
                "<p:policy xmlns:p=\"urn:vmhooks:policy:1\"",
                "<p:policy xmlns:p=\"urn:vmhooks:policy:1\" xmlns=\"urn:vmhooks:policy:1\" xmlns:o=\"urn:other\"",
                "<p:policy xmlns:p=\"urn:vmhooks:policy:1\" xmlns=\"urn:other\"",
                "<policy",
                "<policy xmlns:o=\"urn:other\" xmlns:p=\"urn:vmhooks:policy:1\"",
        };
        unsigned ri = take(r, (unsigned)ELEMENTSOF(roots));
        const char *root = roots[ri];
        bool prefixed = strstr(root, "xmlns:p=") != NULL, other = strstr(root, "xmlns:o=") != NULL;
        static const char *const prologs[] = { "", "", "<?xml version=\"1.0\"?>\n", "<!-- policy -->\n" };
        (void)vh_buf_puts(b, PICK(r, prologs));
        (void)vh_buf_puts(b, root);
        if (take(r, 16) == 0)
                (void)vh_buf_puts(b, " version=\"1\"");
        (void)vh_buf_puts(b, ">");
        unsigned n = take(r, 7);
        for (unsigned i = 0; i < n; i++) {
                put_between(r, b);
                put_element(r, b, prefixed, other, 0);
        }
        put_between(r, b);
        (void)vh_buf_puts(b, strncmp(root, "<p:", 3) == 0 ? "</p:policy>\n" : "</policy>\n");
}

/* ---- the comparison ---- */

static bool is_policy_root(const xmlNode *root)
{
        return root && strcmp((const char *)root->name, "policy") == 0 &&
               (!root->ns || (root->ns->href && strcmp((const char *)root->ns->href, VH_POLICY_NS) == 0));
}

/*
 * Built with -DFUZZ_DIFF_REPORT_ONLY (by hand, for triage), a disagreement
 * is printed once per kind (the messages with quoted values and numbers
 * blanked) and the run goes on, so that one run lists every kind.
 */
#ifdef FUZZ_DIFF_REPORT_ONLY
static char *kind_of(const char *msg)
{
        char *k = strdup(msg ? msg : "");
        if (!k)
                abort();
        char *w = k;
        for (const char *s = k; *s; s++) {
                if (*s == '"') {
                        const char *end = strchr(s + 1, '"');
                        if (end) {
                                *w++ = '"';
                                *w++ = '"';
                                s = end;
                                continue;
                        }
                }
                if (*s >= '0' && *s <= '9') {
                        if (w == k || w[-1] != '#')
                                *w++ = '#';
                        continue;
                }
                *w++ = *s;
        }
        *w = '\0';
        return k;
}

static bool report_only(const char *doc, int r1, const vh_error *e1, int r2, const vh_error *e2)
{
        static char *seen[4096];
        static size_t nseen;
        char *k1 = kind_of(r1 == 0 ? "accepts" : vh_error_msg(e1));
        char *k2 = kind_of(r2 == 0 ? "accepts" : vh_error_msg(e2));
        char *key = NULL;
        if (asprintf(&key, "typed: %s | schema: %s", k1, k2) < 0)
                abort();
        free(k1);
        free(k2);
        for (size_t i = 0; i < nseen; i++)
                if (strcmp(seen[i], key) == 0) {
                        free(key);
                        return true;
                }
        if (nseen < ELEMENTSOF(seen))
                seen[nseen++] = key;
        else
                free(key);
        fprintf(stderr, "==vmhooks-fuzz== DISAGREEMENT #%zu\n%s\n  typed:  %s\n  schema: %s\n", nseen, doc,
                r1 == 0 ? "accepts" : vh_error_msg(e1), r2 == 0 ? "accepts" : vh_error_msg(e2));
        return true;
}
#else
static bool report_only(const char *doc, int r1, const vh_error *e1, int r2, const vh_error *e2)
{
        (void)doc, (void)r1, (void)e1, (void)r2, (void)e2;
        return false;
}
#endif

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vh_buf doc_text = { 0 };
        if (size > 0 && data[0] == '<') {
                if (vh_buf_append(&doc_text, (const char *)data, size) < 0)
                        abort();
        } else {
                recipe r = { data, size };
                if (vh_buf_puts(&doc_text, "") < 0)
                        abort();
                build(&r, &doc_text);
        }
        if (getenv("FUZZ_PRINT"))
                fprintf(stderr, "document:\n%s\n", doc_text.data);

        xmlDocPtr doc = NULL;
        if (vh_xml_parse(doc_text.data, doc_text.len, "policy.xml", &doc, NULL) < 0) {
                vh_buf_free(&doc_text);
                return 0;
        }
        xmlNodePtr root = xmlDocGetRootElement(doc);
        if (is_policy_root(root)) {
                vh_policy p = { 0 };
                vh_error *e1 = NULL, *e2 = NULL;
                int r1 = vh_policy_apply(&p, root, "policy.xml", true, &e1);
                int r2 = vh_policy_validate_schema(root, "policy.xml", &e2);
                FUZZ_CHECK(r1 == 0 || r1 == -EINVAL, "vh_policy_apply failed with %d: %s", r1, vh_error_msg(e1));
                FUZZ_CHECK(r2 == 0 || r2 == -EINVAL, "vh_policy_validate_schema failed with %d: %s", r2,
                           vh_error_msg(e2));
                /* the one check the schema cannot make (policy.h): the typed parser alone rejects */
                bool semantics = r1 != 0 && r2 == 0 && strstr(vh_error_msg(e1), VH_POLICY_CPULIST_SEMANTICS);
                if (semantics)
                        ;
                else if ((r1 == 0) != (r2 == 0) && report_only(doc_text.data, r1, e1, r2, e2))
                        ; /* -DFUZZ_DIFF_REPORT_ONLY: listed once per kind, not fatal */
                else if ((r1 == 0) != (r2 == 0))
                        fuzz_die("the typed parser and the schema disagree on\n%s\n"
                                 "  typed parser (vh_policy_apply): %s%s\n"
                                 "  schema (etc/policy.rng):        %s%s",
                                 doc_text.data, r1 == 0 ? "accepts" : "rejects: ", r1 == 0 ? "" : vh_error_msg(e1),
                                 r2 == 0 ? "accepts" : "rejects: ", r2 == 0 ? "" : vh_error_msg(e2));
                vh_error_free(e1);
                vh_error_free(e2);
                vh_policy_done(&p);
        }
        xmlFreeDoc(doc);
        vh_buf_free(&doc_text);
        return 0;
}
