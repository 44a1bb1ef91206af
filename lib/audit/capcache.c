/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt's QEMU capability cache, /var/cache/libvirt/qemu/capabilities/
 * HASH.xml: <emulator> and <qemuctime>, the emulator's ctime when libvirt
 * probed it.  libvirt re-probes when that ctime changes.  A VM whose
 * <emulator> is the vmhooks wrapper makes libvirt watch the wrapper, not
 * the real QEMU behind it: after a QEMU upgrade the cache describes the old
 * QEMU and libvirt builds command lines for it.  FAIL when the real
 * emulator changed after the probe; the fix makes libvirt probe again.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "policy.h"
#include "root.h"
#include "util.h"
#include "xml.h"

#define CACHE_DIR "/var/cache/libvirt/qemu/capabilities"
#define FIX_REPROBE "touch " VH_WRAPPER_PATH " or the emulator it names (libvirt re-probes QEMU when its ctime " \
                    "changes), then restart libvirtd"

/* The emulator the wrapper execs: the host policy's <wrapper emulator>, else what is installed. */
static char *real_emulator(const char *arch)
{
        _cleanup_policy_ vh_policy p = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vh_policy_load_host(&p, &e) == 0 && vh_policy_on(&p, VH_P_WRAPPER) && p.wrapper_emulator)
                return strdup(p.wrapper_emulator);
        if (vh_host_exists("/usr/libexec/qemu-kvm"))
                return strdup("/usr/libexec/qemu-kvm");
        return vh_strf("/usr/bin/qemu-system-%s", arch && *arch ? arch : "x86_64");
}

static int one_file(const char *name, vh_results *out, size_t *n_wrapper, size_t *n_unreadable)
{
        _cleanup_free_ char *path = vh_pathf(CACHE_DIR "/%s", name);
        if (!path)
                return -ENOMEM;
        _cleanup_xmldoc_ xmlDocPtr doc = NULL;
        _cleanup_error_ vh_error *e = NULL;
        if (vh_xml_parse_file(path, &doc, &e) < 0) {
                if ((e->code == EACCES || e->code == EPERM) && geteuid() != 0) {
                        (*n_unreadable)++; /* one NOTE for all of them, below */
                        return 0;
                }
                /* libvirt's own file: never suggest deleting it; libvirt validates and re-probes itself */
                return vh_results_add(out, "capcache", VH_LEVEL_WARN, false, FIX_REPROBE, "%s", vh_error_msg(e));
        }
        xmlNodePtr root = xmlDocGetRootElement(doc);
        _cleanup_free_ char *emu = vh_xml_child_text(root, "emulator");
        _cleanup_free_ char *ct = vh_xml_child_text(root, "qemuctime");
        _cleanup_free_ char *arch = vh_xml_child_text(root, "arch");
        uint64_t probed;
        if (!emu || !ct || vh_parse_u64(ct, INT64_MAX, &probed) < 0)
                return vh_results_add(out, "capcache", VH_LEVEL_WARN, false, FIX_REPROBE,
                                      CACHE_DIR "/%s has no <emulator> or <qemuctime>", name);
        if (!streq(emu, VH_WRAPPER_PATH))
                return 0; /* libvirt watches that emulator itself */
        (*n_wrapper)++;
        _cleanup_free_ char *real = real_emulator(arch);
        if (!real)
                return -ENOMEM;
        _cleanup_free_ char *rpath = vh_path(real);
        struct stat st;
        if (!rpath || stat(rpath, &st) < 0)
                return vh_results_add(out, "capcache", VH_LEVEL_FAIL, false,
                                      "install QEMU, or set <wrapper emulator=\"...\"/> in /etc/vmhooks/policy.xml",
                                      "the wrapper's real emulator %s does not exist", real);
        if ((uint64_t)st.st_ctime > probed) {
                _cleanup_free_ char *fix = vh_strf("touch " VH_WRAPPER_PATH " (libvirt re-probes when its ctime "
                                                   "changes), then restart libvirtd");
                if (!fix)
                        return -ENOMEM;
                return vh_results_add(out, "capcache", VH_LEVEL_FAIL, false, fix,
                                      CACHE_DIR "/%s was probed through the wrapper before %s changed (ctime %lld > "
                                      "%llu): libvirt still uses the old QEMU's capabilities",
                                      name, real, (long long)st.st_ctime, (unsigned long long)probed);
        }
        return vh_results_add(out, "capcache", VH_LEVEL_PASS, false, NULL,
                              CACHE_DIR "/%s (wrapper) is newer than %s", name, real);
}

int vh_audit_capcache(vh_results *out)
{
        _cleanup_free_ char *dir = vh_path(CACHE_DIR);
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d && (errno == EACCES || errno == EPERM)) {
                int n = vh_audit_needs_root(out, "capcache", errno, CACHE_DIR);
                return n < 0 ? n : 0;
        }
        if (!d)
                return vh_results_add(out, "capcache", VH_LEVEL_NOTE, false, NULL,
                                      "no capability cache (" CACHE_DIR "): libvirt has not probed QEMU yet");
        size_t n_wrapper = 0, n_unreadable = 0;
        int r = 0;
        for (struct dirent *e; r == 0 && (e = readdir(d));) {
                size_t len = strlen(e->d_name);
                if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".xml") != 0)
                        continue;
                r = one_file(e->d_name, out, &n_wrapper, &n_unreadable);
        }
        closedir(d);
        if (r == 0 && n_unreadable) {
                _cleanup_free_ char *what = vh_strf("%zu file%s in " CACHE_DIR, n_unreadable,
                                                    n_unreadable == 1 ? "" : "s");
                if (!what)
                        return -ENOMEM;
                int n = vh_audit_needs_root(out, "capcache", EACCES, what);
                return n < 0 ? n : 0;
        }
        if (r == 0 && n_wrapper == 0)
                r = vh_results_add(out, "capcache", VH_LEVEL_NOTE, false, NULL,
                                   "no cached capabilities for the wrapper (no VM has used it yet)");
        return r;
}
