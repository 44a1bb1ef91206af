/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fault.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#ifdef VH_TEST_SEAMS

static struct {
        int parsed;
        char name[96];
        unsigned long nth;
        int action; /* 0 = kill, >0 = errno */
        unsigned long seen;
} fault;

static const struct {
        const char *name;
        int err;
} errnos[] = {
        { "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS },
        { "EACCES", EACCES }, { "EINVAL", EINVAL },
};

static void parse(void)
{
        fault.parsed = 1;
        fault.nth = 0;
        fault.seen = 0;
        const char *spec = secure_getenv("VMHOOKS_FAULT");
        if (!spec || !*spec)
                return;
        const char *at = strchr(spec, '@');
        const char *eq = at ? strchr(at, '=') : NULL;
        if (!at || !eq || (size_t)(at - spec) >= sizeof(fault.name))
                return;
        memcpy(fault.name, spec, (size_t)(at - spec));
        fault.name[at - spec] = '\0';
        char num[32];
        size_t n = (size_t)(eq - at - 1);
        if (n == 0 || n >= sizeof(num))
                return;
        memcpy(num, at + 1, n);
        num[n] = '\0';
        uint64_t v;
        if (vh_parse_u64(num, 1000000000, &v) < 0 || v == 0)
                return;
        if (streq(eq + 1, "kill")) {
                fault.action = 0;
        } else {
                fault.action = -1;
                for (size_t i = 0; i < ELEMENTSOF(errnos); i++)
                        if (streq(eq + 1, errnos[i].name))
                                fault.action = errnos[i].err;
                if (fault.action < 0)
                        return;
        }
        fault.nth = (unsigned long)v;
}

int vh_fault_point(const char *name)
{
        if (!fault.parsed)
                parse();
        if (fault.nth == 0)
                return 0;
        if (!streq(fault.name, "*") && !streq(fault.name, name))
                return 0;
        if (++fault.seen != fault.nth)
                return 0;
        if (fault.action == 0) {
                (void)kill(getpid(), SIGKILL);
                pause();
        }
        return -fault.action;
}

void vh_fault_reset(void)
{
        fault.parsed = 0;
}

#else /* production build: no seam, VMHOOKS_FAULT is never read */

int vh_fault_point(const char *name)
{
        (void)name;
        return 0;
}

void vh_fault_reset(void)
{
}

#endif
