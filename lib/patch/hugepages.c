/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugepages — <hugepages size="2M|1G"/>
 *
 * Backs guest memory with static hugepages of that size:
 * <memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages>.
 * A VM that sets sizes per guest NUMA node (<page nodeset=...>) is left
 * alone.  Says when the memory is not a multiple of the page size (QEMU
 * rounds the backing up: the rest of the last page is wasted), refuses
 * when it is smaller than one page (QEMU would not start), and warns when
 * this host has no such pages (libvirt would not start the VM).
 */
#include "rule.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

/* "2 MiB", "1 GiB", "1000 KiB" */
static void human(uint64_t kib, char buf[static 32])
{
        if (kib && kib % 1048576 == 0)
                snprintf(buf, 32, "%" PRIu64 " GiB", kib / 1048576);
        else if (kib && kib % 1024 == 0)
                snprintf(buf, 32, "%" PRIu64 " MiB", kib / 1024);
        else
                snprintf(buf, 32, "%" PRIu64 " KiB", kib);
}

static int host_pool(vh_patch_ctx *c, uint64_t page, const char *pname, vh_error **err)
{
        char dir[96];
        snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB", page);
        if (!(c->facts->parts & VH_FACTS_HUGEPAGES))
                return vh_rule_say(c, err, VH_PATCH_WARNING, "the host facts have no hugepage pools: %s not checked",
                                   dir);
        const vh_facts_pool *pool = vh_facts_pool_find(c->facts, page, -1);
        if (!pool)
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "this host has no %s hugepages (%s is missing): libvirt will not start the VM here",
                                   pname, dir);
        if (pool->nr == 0)
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "no %s hugepages are reserved on this host (%s/nr_hugepages is 0): the VM will not "
                                   "start until some are",
                                   pname, dir);
        return 0;
}

int vh_rule_hugepages(vh_patch_ctx *c, vh_error **err)
{
        uint64_t page = c->pol->hugepages_kib, mem = c->dom->memory_kib;
        char pname[32], mname[32], want_size[32];
        human(page, pname);
        human(mem, mname);
        snprintf(want_size, sizeof(want_size), "%" PRIu64, page);
        if (mem && mem < page)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                   "memory %s is smaller than one %s page (QEMU would refuse to start)", mname, pname);

        xmlNodePtr mb = vh_pdom_child(c->root, "memoryBacking");
        xmlNodePtr hp = mb ? vh_pdom_child(mb, "hugepages") : NULL;
        size_t n_pages = 0;
        xmlNodePtr pg = NULL;
        vh_pdom_foreach(p, hp, "page") {
                n_pages++;
                pg = p;
                _cleanup_free_ char *nodeset = vh_xml_prop(p, "nodeset");
                if (nodeset)
                        return vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                           "the VM sets hugepage sizes per guest NUMA node (<page nodeset='%s'>); "
                                           "left alone",
                                           nodeset);
        }
        int r;
        if (n_pages > 1)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "the VM has %zu <page> sizes without nodeset; left alone",
                                   n_pages);
        if (pg) {
                _cleanup_free_ char *size = vh_xml_prop(pg, "size");
                _cleanup_free_ char *unit = vh_xml_prop(pg, "unit");
                uint64_t have = 0;
                if (!size || vh_memory_to_kib(size, unit, &have) < 0)
                        return vh_rule_say(c, err, VH_PATCH_SKIPPED, "<page size='%s' unit='%s'> is not a size; left alone",
                                           size ? size : "", unit ? unit : "KiB");
                if (have == page) {
                        r = vh_rule_say(c, err, VH_PATCH_UNCHANGED, "memory is backed by %s hugepages", pname);
                } else {
                        char hname[32];
                        human(have, hname);
                        if (vh_pdom_set(pg, "size", want_size) < 0 || vh_pdom_set(pg, "unit", "KiB") < 0)
                                return vh_fail(err, ENOMEM, "hugepages");
                        r = vh_rule_say(c, err, VH_PATCH_CHANGED, "hugepage size %s -> %s", hname, pname);
                }
        } else {
                bool had_hp = hp != NULL;
                if (!mb && !(mb = vh_pdom_ensure(c->root, "memoryBacking", vh_order_domain, NULL)))
                        return vh_fail(err, ENOMEM, "hugepages");
                if (!hp && !(hp = vh_pdom_ensure(mb, "hugepages", vh_order_memory_backing, NULL)))
                        return vh_fail(err, ENOMEM, "hugepages");
                xmlNodePtr p = vh_pdom_add(hp, NULL, "page", NULL);
                if (!p || vh_pdom_set(p, "size", want_size) < 0 || vh_pdom_set(p, "unit", "KiB") < 0)
                        return vh_fail(err, ENOMEM, "hugepages");
                r = had_hp ? vh_rule_say(c, err, VH_PATCH_CHANGED, "hugepage size: the host's default -> %s", pname)
                           : vh_rule_say(c, err, VH_PATCH_CHANGED,
                                         "<memoryBacking><hugepages><page size='%s' unit='KiB'/>: memory backed by "
                                         "%s hugepages",
                                         want_size, pname);
        }
        if (r < 0)
                return r;
        if (mem % page) {
                char rounded[32];
                human((mem / page + 1) * page, rounded);
                r = vh_rule_say(c, err, VH_PATCH_WARNING,
                                "memory %s is not a multiple of the %s page size: QEMU rounds the backing up to %s "
                                "and the rest of the last page is wasted",
                                mname, pname, rounded);
                if (r < 0)
                        return r;
        }
        return host_pool(c, page, pname, err);
}
