/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "msix.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "kv.h"
#include "log.h"
#include "root.h"

#define PLAN_MAGIC "vmhooks-wrapper-plan 1"

/*
 * Controllers whose MSI-X layout QEMU's vfio-pci cannot use as it is.  The
 * Silicon Motion SM2262/SM2263 report an MSI-X table and PBA that QEMU
 * refuses ("failed to add PCI capability 0x11[0x50]@0xb0: table & pba
 * overlap, or they don't fit in BARs, or don't align"), so the guest does
 * not start; relocating the MSI-X table (x-msix-relocation=bar2) is the
 * workaround.  Names and ids as in pci.ids.
 */
static const struct quirk {
        uint16_t vendor, device;
        const char *name;
} quirks[] = {
        /*
         * SM2262/SM2262EN (ADATA XPG SX8200, HP EX920, ...): Linux kernel
         * bugzilla 202055, "Failed to PCI passthrough SSD with SMI SM2262
         * controller" (https://bugzilla.kernel.org/show_bug.cgi?id=202055),
         * where Alex Williamson analysed the MSI-X layout and the
         * `-set device.ID.x-msix-relocation=bar2` workaround was confirmed
         * (comment 42, as cited in later reports).
         */
        { 0x126f, 0x2262, "ADATA SX8200 (SM2262)" },
        /*
         * SM2263EN/SM2263XT: the same failure and workaround, reported for the
         * aigo P2000 in github.com/avarpow/SM2262_passthrough (README: "aigo
         * p2000 ... SM2263 ... x-msix-relocation=bar2"), and for an ADATA
         * SM2263 drive in bugzilla 202055, comments 46-47 (kvm@vger.kernel.org).
         */
        { 0x126f, 0x2263, "aigo P2000 (SM2263)" },
        /*
         * Intel SSD 760p / Pro 7600p (pci.ids 8086:f1a6, "SSD Pro
         * 7600p/760p/E 6100p Series") is built on the SM2262 controller of
         * bugzilla 202055 and listed in vmhooks issue 5 for the same reason.
         * Note: we found no report of 8086:f1a6 itself failing; its sibling
         * the 660p (8086:f1a8, SM2263) was reported fixed by firmware
         * (bugzilla 202055, comment 48), so it is not listed.
         */
        { 0x8086, 0xf1a6, "Intel 760p (SM2262)" },
};

const char *vh_msix_quirk(unsigned vendor, unsigned device)
{
        for (size_t i = 0; i < ELEMENTSOF(quirks); i++)
                if (quirks[i].vendor == vendor && quirks[i].device == device)
                        return quirks[i].name;
        return NULL;
}

/* Exactly `n` hex digits at s; -1 otherwise. */
static long hexn(const char *s, size_t n)
{
        long v = 0;
        for (size_t i = 0; i < n; i++) {
                int d = vh_hexval(s[i]);
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

/* A sysfs id: "0x" and 1 to 8 hex digits, trailing whitespace allowed, at most `max`. */
static int parse_sysfs_hex(const char *s, uint32_t max, uint32_t *ret)
{
        if (strncmp(s, "0x", 2) != 0)
                return -EINVAL;
        s += 2;
        size_t n = strspn(s, "0123456789abcdefABCDEF");
        if (n == 0 || n > 8 || s[n + strspn(s + n, " \t\n")])
                return -EINVAL;
        uint64_t v = (uint64_t)hexn(s, n);
        if (v > max)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

int vh_pci_bdf_normalize(const char *s, char ret[static 13])
{
        long dom = 0;
        size_t len = strlen(s);
        if (len == 12) {
                if (s[4] != ':' || (dom = hexn(s, 4)) < 0)
                        return -EINVAL;
                s += 5;
        } else if (len != 7) {
                return -EINVAL;
        }
        long bus = hexn(s, 2), dev = s[2] == ':' ? hexn(s + 3, 2) : -1;
        long fn = s[5] == '.' ? hexn(s + 6, 1) : -1;
        if (bus < 0 || dev < 0 || dev > 0x1f || fn < 0 || fn > 7)
                return -EINVAL;
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn);
        memcpy(ret, tmp, 13); /* dom <= 0xffff, bus <= 0xff, dev <= 0x1f, fn <= 7: 12 bytes and a NUL */
        return 0;
}

static int read_id(const char *bdf, const char *attr, uint32_t max, uint32_t *ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_pathf("/sys/bus/pci/devices/%s/%s", bdf, attr);
        if (!path)
                return vh_fail(err, ENOMEM, "%s", bdf);
        _cleanup_free_ char *v = NULL;
        int r = vh_read_line(path, &v, err);
        if (r < 0)
                return r;
        if (parse_sysfs_hex(v, max, ret) < 0)
                return vh_fail_input(err, "%s: \"%s\" is not a hexadecimal id such as 0x126f", path, v);
        return 0;
}

typedef struct tokens {
        bool nvme, quirks, all, listed_bdf;
        bool listed_ids;        /* some vendor:device token */
} tokens;

/* Walk the devices list; *t says what it asks for, *listed_id whether vendor:device v:d is listed. */
static void scan_tokens(const char *devices, const char *bdf, long v, long d, tokens *t, bool *listed_id)
{
        *listed_id = false;
        for (const char *s = devices; *s;) {
                s += strspn(s, " ,");
                size_t n = strcspn(s, " ,");
                if (n == 0)
                        break;
                char tok[32] = "";
                if (n < sizeof(tok))
                        memcpy(tok, s, n);
                s += n;
                char norm[13];
                if (streq(tok, "nvme"))
                        t->nvme = true;
                else if (streq(tok, "quirks"))
                        t->quirks = true;
                else if (streq(tok, "all"))
                        t->all = true;
                else if (vh_pci_bdf_normalize(tok, norm) == 0)
                        t->listed_bdf |= streq(norm, bdf);
                else if (n == 9 && tok[4] == ':' && hexn(tok, 4) >= 0 && hexn(tok + 5, 4) >= 0) {
                        t->listed_ids = true;
                        *listed_id |= hexn(tok, 4) == v && hexn(tok + 5, 4) == d;
                }
        }
}

/* The ids of `bdf` from the host facts: as read_id, but from f (its PCI part). */
static int facts_id(const vh_facts *f, const char *bdf, const char *attr, uint32_t *ret, vh_error **err)
{
        if (!(f->parts & VH_FACTS_PCI))
                return vh_fail_input(err, "%s: the host facts have no PCI part", bdf);
        const vh_facts_pci *d = vh_facts_pci_find(f, bdf);
        if (!d) {
                (void)vh_fail_input(err, "/sys/bus/pci/devices/%s/%s: no such PCI device on this host", bdf, attr);
                return -ENOENT;
        }
        if (!d->has_ids)
                return vh_fail_input(err, "/sys/bus/pci/devices/%s/%s: its ids could not be read", bdf, attr);
        *ret = streq(attr, "vendor") ? d->vendor : streq(attr, "device") ? d->device : d->class_;
        return 0;
}

static int get_id(const vh_facts *f, const char *bdf, const char *attr, uint32_t max, uint32_t *ret, vh_error **err)
{
        return f ? facts_id(f, bdf, attr, ret, err) : read_id(bdf, attr, max, ret, err);
}

int vh_msix_select(const vh_policy *p, const char *bdf_in, const vh_facts *f, char **ret_why, vh_error **err)
{
        char *why = NULL;
        char bdf[13];
        if (!p || !vh_policy_on(p, VH_P_MSIX) || !p->msix_devices) {
                if (!(why = strdup("msix-relocation is off")))
                        return vh_fail(err, ENOMEM, "%s", bdf_in);
                *ret_why = why;
                return 0;
        }
        if (vh_pci_bdf_normalize(bdf_in, bdf) < 0)
                return vh_fail_input(err, "\"%s\" is not a PCI address", bdf_in);
        tokens t = { 0 };
        bool listed_id;
        scan_tokens(p->msix_devices, bdf, -1, -1, &t, &listed_id);
        if (t.listed_bdf) {
                why = strdup("listed");
        } else if (t.nvme || t.quirks || t.listed_ids) {
                uint32_t v = 0, d = 0, cls = 0;
                _cleanup_error_ vh_error *e = NULL;
                int r = get_id(f, bdf, "vendor", 0xffff, &v, &e);
                if (r == 0)
                        r = get_id(f, bdf, "device", 0xffff, &d, &e);
                if (r == 0 && t.nvme)
                        r = get_id(f, bdf, "class", 0xffffff, &cls, &e);
                if (r == -ENOMEM)
                        return vh_fail(err, ENOMEM, "%s", bdf);
                if (r < 0 && !t.all) {
                        *err = TAKE_PTR(e);
                        return r;
                }
                const char *q = r == 0 ? vh_msix_quirk(v, d) : NULL;
                scan_tokens(p->msix_devices, bdf, v, d, &t, &listed_id);
                int n = 0;
                if (r < 0)
                        n = asprintf(&why, "all");
                else if (listed_id)
                        n = asprintf(&why, "listed");
                else if (t.quirks && q)
                        n = asprintf(&why, "quirk: %s", q);
                else if (t.nvme && (cls >> 8) == 0x0108)
                        n = asprintf(&why, "NVMe %04x:%04x", v, d);
                else if (t.all)
                        n = asprintf(&why, "all");
                else {
                        n = t.nvme ? asprintf(&why, "%04x:%04x, class 0x%06x: not selected by devices=\"%s\"", v, d,
                                              cls, p->msix_devices)
                                   : asprintf(&why, "%04x:%04x: not selected by devices=\"%s\"", v, d,
                                              p->msix_devices);
                        if (n < 0)
                                return vh_fail(err, ENOMEM, "%s", bdf);
                        *ret_why = why;
                        return 0;
                }
                if (n < 0)
                        why = NULL;
        } else if (t.all) {
                why = strdup("all");
        } else {
                if (asprintf(&why, "not selected by devices=\"%s\"", p->msix_devices) < 0)
                        return vh_fail(err, ENOMEM, "%s", bdf);
                *ret_why = why;
                return 0;
        }
        if (!why)
                return vh_fail(err, ENOMEM, "%s", bdf);
        *ret_why = why;
        return 1;
}

/* ---- the plan ---- */

void vh_msix_plan_done(vh_msix_plan *p)
{
        free(p->uuid);
        free(p->name);
        free(p->bar);
        free(p->devices);
        for (size_t i = 0; i < p->n_picks; i++) {
                free(p->picks[i].alias);
                free(p->picks[i].bdf);
                free(p->picks[i].bar);
                free(p->picks[i].why);
        }
        free(p->picks);
        memset(p, 0, sizeof(*p));
}

static vh_msix_pick *add_pick(vh_msix_plan *p)
{
        if (p->n_picks >= VH_MSIX_PLAN_MAX_PICKS)
                return NULL;
        vh_msix_pick *v = realloc(p->picks, (p->n_picks + 1) * sizeof(*v));
        if (!v)
                return NULL;
        p->picks = v;
        memset(&v[p->n_picks], 0, sizeof(*v));
        return &v[p->n_picks++];
}

__attribute__((format(printf, 2, 3))) static int add_line(vh_buf *b, const char *fmt, ...)
{
        if (!b)
                return 0;
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

int vh_msix_plan_make(const vh_domain *dom, const vh_policy *p, vh_msix_plan *ret, vh_buf *lines, vh_error **err)
{
        _cleanup_msix_plan_ vh_msix_plan plan = { 0 };
        plan.enabled = p && vh_policy_on(p, VH_P_MSIX) && p->msix_bar && p->msix_devices;
        plan.uuid = vh_strdup0(dom->uuid);
        plan.name = vh_strdup0(dom->name);
        if ((dom->uuid && !plan.uuid) || (dom->name && !plan.name))
                return vh_fail(err, ENOMEM, "plan");
        if (plan.enabled && (!(plan.bar = strdup(p->msix_bar)) || !(plan.devices = strdup(p->msix_devices))))
                return vh_fail(err, ENOMEM, "plan");
        int r = 0;
        for (size_t i = 0; plan.enabled && r == 0 && i < dom->n_hostdevs; i++) {
                const vh_hostdev *h = &dom->hostdevs[i];
                if (!streq(h->mode, "subsystem") || !streq(h->type, "pci") || !h->has_pci_address)
                        continue;
                if (!h->alias || !*h->alias) {
                        r = add_line(lines, "MSI-X relocation: hostdev %s has no alias; left as is", h->bdf);
                        continue;
                }
                _cleanup_free_ char *why = NULL;
                _cleanup_error_ vh_error *e = NULL;
                int s = vh_msix_select(p, h->bdf, NULL, &why, &e);
                if (s == -ENOMEM)
                        return vh_fail(err, ENOMEM, "plan");
                if (s < 0) {
                        r = add_line(lines, "MSI-X relocation: %s (%s): %s; left as is", h->alias, h->bdf,
                                     vh_error_msg(e));
                        continue;
                }
                if (s == 0) {
                        r = add_line(lines, "MSI-X relocation: %s (%s): %s", h->alias, h->bdf, why);
                        continue;
                }
                vh_msix_pick *k = add_pick(&plan);
                if (!k)
                        return vh_fail(err, E2BIG, "plan: more than %u relocated devices", VH_MSIX_PLAN_MAX_PICKS);
                k->alias = strdup(h->alias);
                k->bdf = strdup(h->bdf);
                k->bar = strdup(p->msix_bar);
                k->why = TAKE_PTR(why);
                if (!k->alias || !k->bdf || !k->bar)
                        return vh_fail(err, ENOMEM, "plan");
                r = add_line(lines, "MSI-X relocation: %s (%s, %s): %s=%s, added by the wrapper", k->alias, k->bdf,
                             k->why, VH_MSIX_PROP, k->bar);
        }
        if (r == 0 && plan.n_picks > 0 && dom->emulator && !strstr(dom->emulator, "/vmhooks/"))
                r = add_line(lines,
                             "MSI-X relocation will not happen: the domain's <emulator> is %s, not the vmhooks "
                             "wrapper (/usr/libexec/vmhooks/qemu-kvm)",
                             dom->emulator);
        if (r < 0)
                return vh_fail(err, -r, "plan");
        vh_msix_plan_done(ret);
        *ret = plan;
        memset(&plan, 0, sizeof(plan));
        return 0;
}

int vh_msix_plan_format(const vh_msix_plan *plan, char **ret, vh_error **err)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_puts(&b, PLAN_MAGIC "\nvm");
        if (r == 0)
                r = vh_kv_put(&b, "uuid", plan->uuid);
        if (r == 0)
                r = vh_kv_put(&b, "name", plan->name);
        if (r == 0)
                r = vh_buf_printf(&b, "\nmsix enabled=%d", plan->enabled ? 1 : 0);
        if (r == 0 && plan->enabled)
                r = vh_kv_put(&b, "bar", plan->bar);
        if (r == 0 && plan->enabled)
                r = vh_kv_put(&b, "devices", plan->devices);
        if (r == 0)
                r = vh_buf_puts(&b, "\n");
        for (size_t i = 0; r == 0 && i < plan->n_picks; i++) {
                const vh_msix_pick *k = &plan->picks[i];
                r = vh_buf_puts(&b, "relocate");
                if (r == 0)
                        r = vh_kv_put(&b, "alias", k->alias);
                if (r == 0)
                        r = vh_kv_put(&b, "bdf", k->bdf);
                if (r == 0)
                        r = vh_kv_put(&b, "bar", k->bar);
                if (r == 0)
                        r = vh_kv_put(&b, "why", k->why);
                if (r == 0)
                        r = vh_buf_puts(&b, "\n");
        }
        if (r < 0)
                return vh_fail(err, -r, "format plan");
        *ret = TAKE_PTR(b.data);
        return 0;
}

static bool valid_bar(const char *s)
{
        static const char *const bars[] = { "off", "auto", "bar0", "bar1", "bar2", "bar3", "bar4", "bar5" };
        for (size_t i = 0; i < ELEMENTSOF(bars); i++)
                if (streq(s, bars[i]))
                        return true;
        return false;
}

static int dup_field(const vh_kv_record *rec, const char *key, bool required, char **dst)
{
        int r = vh_kv_dup(rec, key, dst);
        if (r == -ENOENT)
                return required ? -EINVAL : 0;
        return r;
}

static int parse_line(const char *line, vh_msix_plan *plan, bool *seen_vm)
{
        _cleanup_kv_ vh_kv_record rec = { 0 };
        int r = vh_kv_parse(line, strlen(line), &rec);
        if (r < 0)
                return r;
        if (rec.name)
                return -EINVAL;
        if (streq(rec.type, "vm")) {
                if ((r = dup_field(&rec, "uuid", true, &plan->uuid)) < 0 ||
                    (r = dup_field(&rec, "name", false, &plan->name)) < 0)
                        return r;
                *seen_vm = true;
        } else if (streq(rec.type, "msix")) {
                const char *en = vh_kv_get(&rec, "enabled");
                if (!streq(en, "0") && !streq(en, "1"))
                        return -EINVAL;
                plan->enabled = streq(en, "1");
                if ((r = dup_field(&rec, "bar", false, &plan->bar)) < 0 ||
                    (r = dup_field(&rec, "devices", false, &plan->devices)) < 0)
                        return r;
        } else if (streq(rec.type, "relocate")) {
                const char *bdf = vh_kv_get(&rec, "bdf"), *bar = vh_kv_get(&rec, "bar");
                const char *alias = vh_kv_get(&rec, "alias");
                char norm[13];
                if (!bdf || vh_pci_bdf_normalize(bdf, norm) < 0 || !valid_bar(bar) || !alias || !*alias)
                        return -EINVAL;
                vh_msix_pick *k = add_pick(plan);
                if (!k)
                        return -E2BIG;
                if (!(k->bdf = strdup(norm)) || (r = dup_field(&rec, "alias", true, &k->alias)) < 0 ||
                    (r = dup_field(&rec, "bar", true, &k->bar)) < 0 || (r = dup_field(&rec, "why", false, &k->why)) < 0)
                        return r < 0 ? r : -ENOMEM;
                if (!k->why && !(k->why = strdup("planned")))
                        return -ENOMEM;
        } /* other records: written by a newer vmhooks; ignored */
        return 0;
}

int vh_msix_plan_parse(const char *text, vh_msix_plan *ret, vh_error **err)
{
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return vh_fail(err, ENOMEM, "plan");
        _cleanup_msix_plan_ vh_msix_plan plan = { 0 };
        bool seen_vm = false;
        unsigned lineno = 0;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                int r = lineno == 1 ? (streq(line, PLAN_MAGIC) ? 0 : -EINVAL) : parse_line(line, &plan, &seen_vm);
                if (r == -ENOMEM)
                        return vh_fail(err, ENOMEM, "plan");
                if (r == -E2BIG)
                        return vh_fail_input(err, "line %u: more than %u devices", lineno, VH_MSIX_PLAN_MAX_PICKS);
                if (r < 0)
                        return vh_fail_input(err, "line %u is not understood", lineno);
        }
        if (!seen_vm)
                return vh_fail_input(err, "no \"vm\" line");
        vh_msix_plan_done(ret);
        *ret = plan;
        memset(&plan, 0, sizeof(plan));
        return 0;
}

char *vh_msix_plan_path(const char *name)
{
        _cleanup_free_ char *file = vh_log_file_name(name);
        if (!file)
                return NULL;
        size_t n = strlen(file);
        if (n >= 4 && streq(file + n - 4, ".log"))
                file[n - 4] = '\0';
        return vh_pathf(VH_WRAPPER_DIR "/%s.plan", file);
}

int vh_msix_plan_write(const vh_domain *dom, const vh_policy *p, vh_buf *lines, vh_error **err)
{
        return vh_msix_plan_write_labeled(dom, p, NULL, lines, err);
}

int vh_msix_plan_write_labeled(const vh_domain *dom, const vh_policy *p, const char *selinux_ctx, vh_buf *lines,
                               vh_error **err)
{
        if (!dom->name)
                return vh_fail_input(err, "the domain has no name");
        _cleanup_msix_plan_ vh_msix_plan plan = { 0 };
        int r = vh_msix_plan_make(dom, p, &plan, lines, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        r = vh_msix_plan_format(&plan, &text, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = vh_path(VH_WRAPPER_DIR);
        _cleanup_free_ char *path = vh_msix_plan_path(dom->name);
        if (!dir || !path)
                return vh_fail(err, ENOMEM, "plan");
        /* The QEMU user must be able to read it, whatever libvirtd's umask: the modes are set
         * on the new directory and on the new file (before its rename), never by path. */
        r = vh_dir_ensure(dir, 0755, false, err);
        if (r < 0)
                return r;
        return vh_write_atomic_labeled(path, text, strlen(text), 0644, selinux_ctx, err);
}

int vh_msix_plan_remove(const char *name, vh_error **err)
{
        _cleanup_free_ char *path = vh_msix_plan_path(name);
        if (!path)
                return vh_fail(err, ENOMEM, "plan");
        if (unlink(path) < 0 && errno != ENOENT)
                return vh_fail(err, errno, "cannot remove %s", path);
        return 0;
}

int vh_msix_plan_load(const char *name, const char *uuid, vh_msix_plan *ret, vh_error **err)
{
        if (!name)
                return vh_fail(err, ENOENT, "no VM name on the command line");
        _cleanup_free_ char *path = vh_msix_plan_path(name);
        if (!path)
                return vh_fail(err, ENOMEM, "plan");
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file_trusted(path, VH_MSIX_PLAN_MAX_BYTES, &text, NULL, err);
        if (r < 0)
                return r;
        _cleanup_msix_plan_ vh_msix_plan plan = { 0 };
        r = vh_msix_plan_parse(text, &plan, err);
        if (r < 0)
                return vh_error_wrap(err, "%s", path);
        if (!uuid || strcasecmp(plan.uuid, uuid) != 0) {
                (void)vh_fail_input(err, "%s is for UUID %s, not %s; ignored", path, plan.uuid,
                                    uuid ? uuid : "(none on the command line)");
                return -ESTALE;
        }
        vh_msix_plan_done(ret);
        *ret = plan;
        memset(&plan, 0, sizeof(plan));
        return 0;
}

/* ---- the wrapper's targets ---- */

static bool vfio(const vh_qdev *d)
{
        return streq(d->driver, "vfio-pci") || streq(d->driver, "vfio-pci-nohotplug");
}

static const vh_qdev *find_dev(const vh_qargv *q, const char *id)
{
        for (size_t i = 0; i < q->n_devs; i++)
                if (streq(q->devs[i].id, id))
                        return &q->devs[i];
        return NULL;
}

static int add_target(vh_qrelocate **v, size_t *n, const char *id, const char *bar, const char *why)
{
        vh_qrelocate *t = realloc(*v, (*n + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        *v = t;
        t = &t[(*n)++];
        t->id = strdup(id);
        t->bar = strdup(bar);
        t->why = strdup(why);
        return t->id && t->bar && t->why ? 0 : -ENOMEM;
}

int vh_msix_targets(const vh_qargv *q, const vh_msix_plan *plan, const vh_policy *p, vh_qrelocate **ret,
                    size_t *ret_n, vh_buf *notes, vh_error **err)
{
        vh_qrelocate *v = NULL;
        size_t n = 0;
        int r = 0;
        if (plan) {
                for (size_t i = 0; r == 0 && plan->enabled && i < plan->n_picks; i++) {
                        const vh_msix_pick *k = &plan->picks[i];
                        const vh_qdev *d = find_dev(q, k->alias);
                        char host[13];
                        if (!d || !vfio(d))
                                r = add_line(notes, "%s (%s): planned, but there is no vfio-pci -device with this id",
                                             k->alias, k->bdf);
                        else if (!d->host || vh_pci_bdf_normalize(d->host, host) < 0 || !streq(host, k->bdf))
                                r = add_line(notes, "%s: planned for host %s, but the -device has host=%s; left as is",
                                             k->alias, k->bdf, d->host ? d->host : "(none)");
                        else
                                r = add_target(&v, &n, k->alias, k->bar, k->why);
                }
        } else if (p && vh_policy_on(p, VH_P_MSIX)) {
                for (size_t i = 0; r == 0 && i < q->n_devs; i++) {
                        const vh_qdev *d = &q->devs[i];
                        if (!vfio(d) || !d->id || !d->host)
                                continue;
                        _cleanup_free_ char *why = NULL;
                        _cleanup_error_ vh_error *e = NULL;
                        int s = vh_msix_select(p, d->host, NULL, &why, &e);
                        if (s == -ENOMEM)
                                r = s;
                        else if (s < 0)
                                r = add_line(notes, "%s (%s): %s; left as is", d->id, d->host, vh_error_msg(e));
                        else if (s == 1)
                                r = add_target(&v, &n, d->id, p->msix_bar, why);
                }
        }
        if (r < 0) {
                vh_qrelocate_free_all(v, n);
                return vh_fail(err, -r, "MSI-X relocation");
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
