/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which libvirt daemons this host runs (daemons.h).
 */
#include "daemons.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "root.h"
#include "util.h"

/* /etc/systemd/system/UNIT is a link to /dev/null: masked (systemctl mask) */
static bool masked(const char *unit)
{
        _cleanup_free_ char *p = vh_pathf("/etc/systemd/system/%s", unit);
        char target[16];
        ssize_t n = p ? readlink(p, target, sizeof(target) - 1) : -1;
        if (n < 0)
                return false;
        target[n] = '\0';
        return streq(target, "/dev/null");
}

/*
 * systemctl enable links UNIT into /etc/systemd/system/TARGET.wants/.  The
 * link is tested itself (lstat): its target is an absolute path on the
 * host, which under VMHOOKS_ROOT would not be the fixture's.
 */
static bool enabled_link(const char *target, const char *name, const char *suffix)
{
        _cleanup_free_ char *unit = NULL;
        if (asprintf(&unit, "%s%s", name, suffix) < 0) {
                unit = NULL;
                return false;
        }
        _cleanup_free_ char *p = vh_pathf("/etc/systemd/system/%s.wants/%s", target, unit);
        struct stat st;
        return p && lstat(p, &st) == 0 && !masked(unit);
}

static int running_pid(const char *name)
{
        _cleanup_free_ char *pidf = vh_pathf("/run/%s.pid", name);
        _cleanup_free_ char *line = NULL;
        uint64_t pid;
        if (!pidf || vh_read_line(pidf, &line, NULL) < 0 || vh_parse_u64(line, INT32_MAX, &pid) < 0 || pid == 0)
                return 0;
        _cleanup_free_ char *commf = vh_pathf("/proc/%d/comm", (int)pid);
        _cleanup_free_ char *comm = NULL;
        /* a stale pidfile, or a PID reused by another program, is not the daemon */
        if (!commf || vh_read_line(commf, &comm, NULL) < 0 || !streq(comm, name))
                return 0;
        return (int)pid;
}

static void probe_one(vh_daemon *d, const char *name)
{
        d->name = name;
        d->pid = running_pid(name);
        d->enabled = enabled_link("multi-user.target", name, ".service") ||
                     enabled_link("sockets.target", name, ".socket");
        d->tcp_socket = enabled_link("sockets.target", name, "-tcp.socket");
        d->tls_socket = enabled_link("sockets.target", name, "-tls.socket");
}

static vh_layout layout_of(bool mono, bool modular)
{
        return mono && modular ? VH_LAYOUT_MIXED
             : mono            ? VH_LAYOUT_MONOLITHIC
             : modular         ? VH_LAYOUT_MODULAR
                               : VH_LAYOUT_NONE;
}

void vh_daemons_probe(vh_daemons *ret)
{
        vh_daemons d = { 0 };
        probe_one(&d.libvirtd, "libvirtd");
        probe_one(&d.virtqemud, "virtqemud");
        probe_one(&d.virtproxyd, "virtproxyd");
        d.layout = layout_of(d.libvirtd.pid > 0, d.virtqemud.pid > 0);
        if (d.layout == VH_LAYOUT_NONE)
                d.layout = layout_of(d.libvirtd.enabled, d.virtqemud.enabled);
        *ret = d;
}

const char *vh_layout_name(vh_layout l)
{
        switch (l) {
        case VH_LAYOUT_MONOLITHIC: return "monolithic";
        case VH_LAYOUT_MODULAR: return "modular";
        case VH_LAYOUT_MIXED: return "mixed";
        case VH_LAYOUT_NONE: break;
        }
        return "none";
}

static int describe_one(vh_buf *b, const vh_daemon *d, bool first)
{
        const char *sep = first ? "" : ", ";
        if (d->pid > 0)
                return vh_buf_printf(b, "%s%s running (PID %d)", sep, d->name, d->pid);
        if (d->enabled)
                return vh_buf_printf(b, "%s%s enabled, not running", sep, d->name);
        return 0;
}

char *vh_daemons_describe(const vh_daemons *d)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_printf(&b, "%s", vh_layout_name(d->layout)) < 0)
                return NULL;
        const vh_daemon *all[] = { &d->libvirtd, &d->virtqemud, &d->virtproxyd };
        bool first = true;
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                if (all[i]->pid <= 0 && !all[i]->enabled)
                        continue;
                if ((first && vh_buf_puts(&b, ": ") < 0) || describe_one(&b, all[i], first) < 0)
                        return NULL;
                first = false;
        }
        if (first && vh_buf_puts(&b, ": no libvirtd or virtqemud runs or is enabled") < 0)
                return NULL;
        char *r = b.data;
        b.data = NULL;
        return r;
}
