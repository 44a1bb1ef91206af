/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "fileio.h"
#include "lifecycle.h"
#include "root.h"
#include "syslogger.h"
#include "util.h"

#define NAME_MAX_ESCAPED 200

static bool plain_name_byte(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '+' || c == '.' || c == '-';
}

char *vh_log_file_name(const char *vm)
{
        static const char hex[] = "0123456789ABCDEF";
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_puts(&b, "") < 0)
                return NULL;
        for (const unsigned char *p = (const unsigned char *)vm; *p; p++) {
                int r;
                if (plain_name_byte(*p) && !(p == (const unsigned char *)vm && *p == '.')) {
                        r = vh_buf_append(&b, (const char *)p, 1);
                } else {
                        char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
                        r = vh_buf_append(&b, e, 3);
                }
                if (r < 0)
                        return NULL;
        }
        if (b.len == 0 && vh_buf_puts(&b, "%00") < 0)
                return NULL;
        if (b.len > NAME_MAX_ESCAPED) {
                /* FNV-1a over the whole name keeps long names apart. */
                uint64_t h = 1469598103934665603ull;
                for (const unsigned char *p = (const unsigned char *)vm; *p; p++)
                        h = (h ^ *p) * 1099511628211ull;
                size_t keep = NAME_MAX_ESCAPED - 17;
                while (keep > 0 && b.data[keep - 1] == '%')
                        keep--; /* never cut inside an escape */
                if (keep > 1 && b.data[keep - 2] == '%')
                        keep -= 2;
                b.len = keep;
                b.data[b.len] = '\0';
                if (vh_buf_printf(&b, "~%016llx", (unsigned long long)h) < 0)
                        return NULL;
        }
        char *out = NULL;
        if (asprintf(&out, "%s.log", b.data) < 0)
                return NULL;
        return out;
}

void vh_log_open(vh_logger *l, const char *vm, const char *call)
{
        l->fd = -1;
        l->call = vh_strdup0(call);
        l->vm = vh_strdup0(vm);
        _cleanup_free_ char *dir = vh_path(VH_LOG_DIR);
        _cleanup_free_ char *file = vh_log_file_name(vm);
        if (!dir || !file)
                return;
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_dir_ensure(dir, 0750, false, &e);
        if (r < 0) {
                /* a directory that is not what it must be: said once, on stderr (libvirtd's log) */
                if (r != -EACCES)
                        fprintf(stderr, "vmhooks: not logging: %s\n", vh_error_msg(e));
                return;
        }
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return;
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
}

void vh_log_close(vh_logger *l)
{
        (void)vh_log_batch_flush(l);
        vh_buf_free(&l->batch);
        if (l->fd >= 0)
                (void)close(l->fd);
        l->fd = -1;
        free(l->call);
        free(l->vm);
        l->call = l->vm = NULL;
}

/* A line (with its '\n') the log did not take, on stderr: "vmhooks: VM: CALL: MSG", without the timestamp. */
static void to_stderr(const vh_logger *l, const char *line, size_t len)
{
        const char *sp = memchr(line, ' ', len);
        size_t skip = sp ? (size_t)(sp - line) + 1 : 0;
        _cleanup_buf_ vh_buf e = { 0 };
        int r = vh_buf_puts(&e, "vmhooks: ");
        if (r == 0 && l->vm)
                r = vh_buf_escape(&e, l->vm, true);
        if (r == 0)
                r = vh_buf_puts(&e, ": ");
        if (r == 0)
                r = vh_buf_append(&e, line + skip, len - skip);
        if (r == 0)
                (void)vh_write_all(STDERR_FILENO, e.data, e.len);
}

/*
 * Whole lines in one write(2) to the log; when that fails, each on stderr
 * (unless they were echoed there already).
 */
static int write_lines(const vh_logger *l, const char *data, size_t len)
{
        int wr = -EBADF;
        if (l->fd >= 0) {
                wr = vh_fault_point("log-write");
                if (wr == 0)
                        wr = vh_write_all(l->fd, data, len);
        }
        if (wr < 0 && !l->to_stderr_too)
                for (const char *line = data, *end = data + len; line < end;) {
                        const char *nl = memchr(line, '\n', (size_t)(end - line));
                        const char *next = nl ? nl + 1 : end;
                        to_stderr(l, line, (size_t)(next - line));
                        line = next;
                }
        return wr < 0 ? wr : 0;
}

void vh_log_batch_begin(vh_logger *l)
{
        l->batching = true;
}

int vh_log_batch_flush(vh_logger *l)
{
        l->batching = false;
        if (!l->batch.len)
                return 0;
        int r = write_lines(l, l->batch.data, l->batch.len);
        l->batch.len = 0;
        l->batch.data[0] = '\0';
        return r;
}

static int emit(vh_logger *l, const char *msg)
{
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        if (!gmtime_r(&now, &tm) || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(ts, sizeof(ts), "%lld", (long long)now);
        _cleanup_buf_ vh_buf line = { 0 };
        int r = vh_buf_printf(&line, "%s %s: ", ts, l->call ? l->call : "vmhooks");
        if (r == 0)
                r = vh_buf_escape(&line, msg, true);
        if (r == 0)
                r = vh_buf_puts(&line, "\n");
        if (r < 0)
                return r;
        if (l->to_stderr_too)
                to_stderr(l, line.data, line.len);
        /* batching: the line waits for the flush (no memory for it: on its own, now) */
        if (l->batching && l->fd >= 0 && vh_buf_append(&l->batch, line.data, line.len) == 0)
                return 0;
        return write_lines(l, line.data, line.len);
}

int vh_log(vh_logger *l, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = NULL;
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        /* errors and refusals: the system log too (journalctl -t vmhooks) */
        if (startswith(msg, "error: ") || startswith(msg, "refused the start: "))
                vh_syslog(LOG_ERR, l->vm, l->call, msg);
        return emit(l, msg);
}

char *vh_change_line(const vh_change *c)
{
        char *m = NULL;
        int n;
        switch (c->kind) {
        case VH_CHANGE_SET:
        case VH_CHANGE_RESTORE:
                /* "" is a value of its own (no CPU banned, AllowedCPUs unset): shown as "" */
                n = asprintf(&m, "%s: %s -> %s; %s", c->knob, c->from && !*c->from ? "\"\"" : c->from,
                             c->to && !*c->to ? "\"\"" : c->to, c->why);
                break;
        case VH_CHANGE_DRIFT:
                n = asprintf(&m, "%s: now %s; %s", c->knob, c->to, c->why);
                break;
        case VH_CHANGE_CONFLICT:
                n = asprintf(&m, "note: %s", c->why);
                break;
        case VH_CHANGE_FAILED:
                n = c->to ? asprintf(&m, "error: %s: %s -> %s failed: %s", c->knob, c->from ? c->from : "?", c->to,
                                     c->why)
                          : asprintf(&m, "error: %s: %s", c->knob, c->why);
                break;
        default:
                n = asprintf(&m, "note: %s: %s", c->knob, c->why);
                break;
        }
        return n < 0 ? NULL : m;
}

void vh_log_dropped(vh_logger *l, const vh_txn_result *res)
{
        for (size_t i = 0; i < res->n_dropped; i++)
                (void)vh_log(l, "dropped the registration of VM %s: %s", res->dropped[i],
                             res->dropped_why && res->dropped_why[i] ? res->dropped_why[i] : "it no longer runs");
}

int vh_log_change(vh_logger *l, const vh_change *c)
{
        _cleanup_free_ char *line = vh_change_line(c);
        return line ? vh_log(l, "%s", line) : -ENOMEM;
}

int vh_log_report(vh_logger *l, const vh_report *rep)
{
        int ret = 0;
        for (size_t i = 0; i < rep->n; i++) {
                if (vh_change_is_note(rep->changes[i].kind))
                        continue; /* notes are for the VM they concern: the caller picks them */
                int r = vh_log_change(l, &rep->changes[i]);
                if (r < 0)
                        ret = r;
        }
        return ret;
}
