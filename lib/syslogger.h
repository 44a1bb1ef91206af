/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * syslogger.h — errors and refusals also go to the system log, so that
 * `journalctl -t vmhooks` (or /var/log/syslog) shows them beside
 * libvirt's own; the per-VM logs stay the full story.
 *
 * One datagram per line to /dev/log (under VMHOOKS_ROOT in test builds),
 * facility daemon, tag "vmhooks", the VM's name in the line:
 *
 *   <27>Dec  1 20:40:01 vmhooks[4242]: VM web1: prepare begin: error: ...
 *
 * Written here rather than with syslog(3), which would keep a socket
 * open across exec and cannot be pointed at a test's socket.  Nothing is
 * sent, and nothing is said, when /dev/log does not exist (containers,
 * the sandbox) or does not answer: the per-VM log has the line anyway.
 */
#ifndef VH_SYSLOGGER_H
#define VH_SYSLOGGER_H

#define VH_SYSLOG_PATH "/dev/log"

/* LOG_ERR for errors and refusals, LOG_NOTICE for a restore. */
void vh_syslog(int priority, const char *vm, const char *call, const char *msg);

#endif
