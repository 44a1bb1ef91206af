/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The prepare-time checks, in the order they run and print. */
#include "checks/check.h"

#include <errno.h>

#include "util.h"

static const vh_check_def table[] = {
        { "hugepages", vh_check_hugepages },
        { "hostdev", vh_check_hostdev },
        { "vtpm", vh_check_vtpm },
        { "seclabel", vh_check_seclabel },
};

size_t vh_checks_count(void)
{
        return ELEMENTSOF(table);
}

const char *vh_checks_name(size_t i)
{
        return i < ELEMENTSOF(table) ? table[i].name : NULL;
}

unsigned vh_checks_facts_needed(const vh_domain *dom, const vh_policy *p)
{
        (void)p;
        unsigned what = 0;
        if (dom->hugepages)
                what |= VH_FACTS_HUGEPAGES;
        for (size_t i = 0; i < dom->n_hostdevs; i++)
                if (streq(dom->hostdevs[i].type, "pci"))
                        what |= VH_FACTS_PCI;
        for (size_t i = 0; i < dom->n_tpms; i++)
                if (streq(dom->tpms[i].backend_type, "emulator"))
                        what |= VH_FACTS_SWTPM;
        return what;
}

int vh_checks_run(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *ret, vh_error **err)
{
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = table[i].fn(dom, p, f, ret);
                if (r < 0)
                        return vh_fail(err, -r, "check %s of VM %s", table[i].name, dom->name);
        }
        return 0;
}
