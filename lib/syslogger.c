/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "syslogger.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "root.h"
#include "util.h"

#define LINE_MAX_BYTES 2048 /* what every syslog daemon takes in one datagram */

void vh_syslog(int priority, const char *vm, const char *call, const char *msg)
{
        _cleanup_free_ char *path = vh_path(VH_SYSLOG_PATH);
        if (!path)
                return;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        char ts[32] = "";
        time_t now = time(NULL);
        struct tm tm;
        if (localtime_r(&now, &tm))
                (void)strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
        _cleanup_buf_ vh_buf line = { 0 };
        int r = vh_buf_printf(&line, "<%d>%s vmhooks[%ld]: ", LOG_DAEMON | (priority & LOG_PRIMASK), ts,
                              (long)getpid());
        if (r == 0 && vm) {
                r = vh_buf_puts(&line, "VM ");
                if (r == 0)
                        r = vh_buf_escape(&line, vm, true);
                if (r == 0)
                        r = vh_buf_puts(&line, ": ");
        }
        if (r == 0 && call)
                r = vh_buf_printf(&line, "%s: ", call);
        if (r == 0)
                r = vh_buf_escape(&line, msg, true);
        if (r < 0)
                return;
        size_t len = line.len < LINE_MAX_BYTES ? line.len : LINE_MAX_BYTES;
        /* a full or absent socket costs the line, never the call: the per-VM log has it */
        (void)sendto(fd, line.data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa));
}
