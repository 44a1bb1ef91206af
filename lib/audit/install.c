/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Is vmhooks installed where libvirt finds it?  The hook is a link to
 * /usr/libexec/vmhooks/qemu-hook at /etc/libvirt/hooks/qemu or in
 * /etc/libvirt/hooks/qemu.d/ (tools/install-hook.sh).  libvirtd decides at
 * start (or SIGHUP) whether the QEMU driver has hooks at all, so a daemon
 * that started before any hook existed does not call it (FACTS.md §6).
 * The wrapper, /usr/libexec/vmhooks/qemu-kvm, is needed only for VMs whose
 * <emulator> is the wrapper (MSI-X relocation, the -set rescue).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "fileio.h"
#include "liveness.h"
#include "root.h"
#include "util.h"

#define HOOKS_DIR "/etc/libvirt/hooks"

/*
 * Only the hook writes the state: written after the link was made, it shows
 * that libvirt runs the hook, which a SIGHUP (the packages send one) makes
 * so without leaving any other trace.
 */
static bool hook_ran_since(const char *link_rel, time_t *ret_when)
{
        _cleanup_free_ char *p = vh_path("/run/vmhooks/state");
        _cleanup_free_ char *l = vh_path(link_rel);
        struct stat st, lt;
        if (!p || !l || stat(p, &st) < 0 || lstat(l, &lt) < 0)
                return false;
        *ret_when = st.st_mtime;
        return st.st_mtim.tv_sec > lt.st_mtim.tv_sec ||
               (st.st_mtim.tv_sec == lt.st_mtim.tv_sec && st.st_mtim.tv_nsec > lt.st_mtim.tv_nsec);
}

/*
 * The packages' scripts (debian/postinst, the rpm's %post) write
 * /run/vmhooks/reloaded after a reload (SIGHUP) of the daemon succeeded:
 * "vmhooks-reloaded 1" and a line "DAEMON PID".  It shows that the daemon
 * now running, that PID, looked for hooks again after the link was made
 * when the file is not older than the link.  0: yes; -ENOENT: no such
 * evidence; -EACCES: it cannot be read (not root).
 */
static int reloaded_since(const char *link_rel, const char *daemon, uint64_t pid, time_t *ret_when)
{
        _cleanup_free_ char *p = vh_path(VH_RELOAD_STAMP);
        _cleanup_free_ char *l = vh_path(link_rel);
        if (!p || !l)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file(p, 4096, &text, NULL, NULL);
        if (r == -EACCES || r == -EPERM)
                return -EACCES;
        struct stat st, lt;
        if (r < 0 || stat(p, &st) < 0 || lstat(l, &lt) < 0)
                return -ENOENT;
        static const char magic[] = "vmhooks-reloaded 1\n";
        if (strncmp(text, magic, sizeof(magic) - 1) != 0)
                return -ENOENT;
        char *line = text + sizeof(magic) - 1, *sp = strchr(line, ' ');
        uint64_t spid;
        if (!sp)
                return -ENOENT;
        *sp = '\0';
        sp[strcspn(sp + 1, "\n") + 1] = '\0';
        if (!streq(line, daemon) || vh_parse_u64(sp + 1, INT32_MAX, &spid) < 0 || spid != pid)
                return -ENOENT;
        if (st.st_mtim.tv_sec < lt.st_mtim.tv_sec ||
            (st.st_mtim.tv_sec == lt.st_mtim.tv_sec && st.st_mtim.tv_nsec < lt.st_mtim.tv_nsec))
                return -ENOENT;
        *ret_when = st.st_mtime;
        return 0;
}

/* Can /run/vmhooks be looked into?  Not as an ordinary user (0700 root). */
static bool state_dir_hidden(void)
{
        _cleanup_free_ char *p = vh_path("/run/vmhooks/state");
        struct stat st;
        return p && stat(p, &st) < 0 && (errno == EACCES || errno == EPERM);
}

static void utc(time_t t, char buf[32])
{
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "?");
}

/* Is rel a link to our hook?  Sets *mtime to the link's own time. */
static bool is_ours(const char *rel, time_t *mtime)
{
        _cleanup_free_ char *path = vh_path(rel);
        struct stat st;
        if (!path || lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
                return false;
        char target[4096];
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n <= 0)
                return false;
        target[n] = '\0';
        *mtime = st.st_mtime;
        return streq(target, VH_HOOK_PATH);
}

static bool executable(const char *rel)
{
        _cleanup_free_ char *path = vh_path(rel);
        struct stat st;
        return path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* Start time (s since epoch) of the running libvirt daemon; 0 when none runs. */
static time_t daemon_started(const char **ret_name, uint64_t *ret_pid)
{
        static const char *const names[] = { "libvirtd", "virtqemud" };
        long tck = sysconf(_SC_CLK_TCK);
        _cleanup_free_ char *statp = vh_path("/proc/stat");
        _cleanup_free_ char *stat_text = NULL;
        const char *bt;
        uint64_t btime;
        if (tck <= 0 || !statp || vh_read_file(statp, 1u << 20, &stat_text, NULL, NULL) < 0 ||
            !(bt = strstr(stat_text, "\nbtime ")))
                return 0;
        char num[32];
        size_t len = strcspn(bt + 7, "\n");
        if (len == 0 || len >= sizeof(num))
                return 0;
        memcpy(num, bt + 7, len);
        num[len] = '\0';
        if (vh_parse_u64(num, INT32_MAX, &btime) < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *pidf = vh_pathf("/run/%s.pid", names[i]);
                _cleanup_free_ char *line = NULL;
                uint64_t pid, start;
                if (!pidf || vh_read_line(pidf, &line, NULL) < 0 || vh_parse_u64(line, INT32_MAX, &pid) < 0 ||
                    vh_proc_starttime((int)pid, &start) < 0)
                        continue;
                *ret_name = names[i];
                *ret_pid = pid;
                return (time_t)(btime + start / (uint64_t)tck);
        }
        return 0;
}

int vh_audit_install(vh_results *out)
{
        const char *where = NULL;
        char found[512] = "", foreign[512] = "";
        time_t installed = 0, older_hook = 0;
        uint64_t pid = 0;
        if (is_ours(HOOKS_DIR "/qemu", &installed)) {
                snprintf(found, sizeof(found), HOOKS_DIR "/qemu");
        } else {
                _cleanup_free_ char *main_hook = vh_path(HOOKS_DIR "/qemu");
                struct stat st;
                if (main_hook && lstat(main_hook, &st) == 0) {
                        older_hook = st.st_mtime;
                        snprintf(foreign, sizeof(foreign), HOOKS_DIR "/qemu");
                }
        }
        _cleanup_free_ char *dpath = vh_path(HOOKS_DIR "/qemu.d");
        DIR *d = dpath ? opendir(dpath) : NULL;
        for (struct dirent *e; d && (e = readdir(d));) {
                if (e->d_name[0] == '.')
                        continue;
                char rel[512];
                snprintf(rel, sizeof(rel), HOOKS_DIR "/qemu.d/%s", e->d_name);
                time_t t;
                if (!*found && is_ours(rel, &t)) {
                        snprintf(found, sizeof(found), "%s", rel);
                        installed = t;
                } else {
                        _cleanup_free_ char *p = vh_path(rel);
                        struct stat st;
                        if (p && lstat(p, &st) == 0 && (!older_hook || st.st_mtime < older_hook)) {
                                older_hook = st.st_mtime;
                                snprintf(foreign, sizeof(foreign), "%s", rel);
                        }
                }
        }
        if (d)
                closedir(d);
        int r;
        time_t started = *found ? daemon_started(&where, &pid) : 0;
        if (!*found)
                r = vh_results_add(out, "install", VH_LEVEL_FAIL, false,
                                   "make install (links " VH_HOOK_PATH " as " HOOKS_DIR "/qemu or "
                                   HOOKS_DIR "/qemu.d/vmhooks), then restart libvirtd",
                                   "the vmhooks hook is not installed where libvirt looks (" HOOKS_DIR "/qemu, "
                                   HOOKS_DIR "/qemu.d/): vmhooks does nothing");
        else if (!executable(VH_HOOK_PATH))
                r = vh_results_add(out, "install", VH_LEVEL_FAIL, false, "make install",
                                   "%s links to " VH_HOOK_PATH ", which is missing or not executable", found);
        else if (started && started < installed && !(older_hook && older_hook < started)) {
                /* The daemon started before any hook existed: did it look again since? */
                time_t when;
                char ts[32], st_ts[32];
                int rl = reloaded_since(found, where, pid, &when);
                if (rl == -ENOMEM)
                        return rl;
                utc(started, st_ts);
                if (rl == 0) {
                        utc(when, ts);
                        r = vh_results_add(out, "install", VH_LEVEL_PASS, false, NULL,
                                           "hook installed: %s -> " VH_HOOK_PATH "; libvirt runs it (%s, PID %llu, "
                                           "was reloaded at %s, after the link was made)", found, where,
                                           (unsigned long long)pid, ts);
                } else if (hook_ran_since(found, &when)) {
                        utc(when, ts);
                        r = vh_results_add(out, "install", VH_LEVEL_PASS, false, NULL,
                                           "hook installed: %s -> " VH_HOOK_PATH "; libvirt runs it (it last "
                                           "changed the state at %s, after the link was made)", found, ts);
                } else if (rl == -EACCES || state_dir_hidden()) {
                        r = vh_results_add(out, "install", VH_LEVEL_NOTE, false, VH_AUDIT_RUN_AS_ROOT,
                                           "hook installed: %s -> " VH_HOOK_PATH "; whether %s (started %s, before "
                                           "the link) has loaded it is recorded in /run/vmhooks, which uid %u cannot "
                                           "read", found, where, st_ts, (unsigned)geteuid());
                } else if (*foreign) {
                        r = vh_results_add(out, "install", VH_LEVEL_WARN, false,
                                           "systemctl restart libvirtd, or kill -HUP the daemon's PID",
                                           "%s is installed, but %s (PID %llu) started at %s, before any qemu hook "
                                           "existed (%s is newer too) and has not been reloaded since: it runs "
                                           "neither until it is restarted or sent SIGHUP", found, where,
                                           (unsigned long long)pid, st_ts, foreign);
                } else {
                        r = vh_results_add(out, "install", VH_LEVEL_WARN, false,
                                           "systemctl restart libvirtd, or kill -HUP the daemon's PID",
                                           "%s is installed, but %s (PID %llu) started at %s, before it, had no hook "
                                           "then and has not been reloaded since: it does not call it until it is "
                                           "restarted or sent SIGHUP", found, where, (unsigned long long)pid, st_ts);
                }
        } else
                r = vh_results_add(out, "install", VH_LEVEL_PASS, false, NULL, "hook installed: %s -> " VH_HOOK_PATH,
                                   found);
        if (r < 0)
                return r;
        if (executable(VH_WRAPPER_PATH))
                return vh_results_add(out, "install", VH_LEVEL_PASS, false, NULL,
                                      "wrapper installed: " VH_WRAPPER_PATH);
        return vh_results_add(out, "install", VH_LEVEL_WARN, false, "make install",
                              "the wrapper " VH_WRAPPER_PATH " is not installed: <msix-relocation> and the rescue of "
                              "-set on JSON devices are not available");
}
