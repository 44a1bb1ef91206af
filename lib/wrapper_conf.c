/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wrapper_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "root.h"
#include "util.h"

#define CONF_MAGIC "vmhooks-wrapper-config 1"

void vh_wrapper_conf_done(vh_wrapper_conf *c)
{
        free(c->stamp);
        free(c->emulator);
        free(c->bar);
        free(c->devices);
        memset(c, 0, sizeof(*c));
}

int vh_wrapper_conf_format(const vh_wrapper_conf *c, char **ret, vh_error **err)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_puts(&b, CONF_MAGIC "\nsource " VH_POLICY_FILE " stamp=");
        if (r == 0)
                r = vh_buf_escape(&b, c->stamp ? c->stamp : "none", false);
        if (r == 0 && c->emulator) {
                r = vh_buf_puts(&b, "\nemulator path=");
                if (r == 0)
                        r = vh_buf_escape(&b, c->emulator, false);
        }
        if (r == 0)
                r = vh_buf_printf(&b, "\nmsix enabled=%d", c->msix);
        if (r == 0 && c->msix) {
                r = vh_buf_puts(&b, " bar=");
                if (r == 0)
                        r = vh_buf_escape(&b, c->bar ? c->bar : "bar2", false);
                if (r == 0)
                        r = vh_buf_puts(&b, " devices=");
                if (r == 0)
                        r = vh_buf_escape(&b, c->devices ? c->devices : "nvme", false);
        }
        if (r == 0)
                r = vh_buf_puts(&b, "\n");
        if (r < 0)
                return vh_fail(err, -r, "format %s", VH_WRAPPER_CONF);
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* "key=value" in `line` after `prefix`; the value unescaped into a new string. */
static int field(const char *line, const char *key, char **ret)
{
        const char *p = strstr(line, key);
        if (!p)
                return -ENOENT;
        p += strlen(key);
        size_t n = strcspn(p, " ");
        char *v = strndup(p, n);
        if (!v)
                return -ENOMEM;
        if (vh_unescape(v) < 0) {
                free(v);
                return -EINVAL;
        }
        free(*ret);
        *ret = v;
        return 0;
}

int vh_wrapper_conf_parse(const char *text, vh_wrapper_conf *ret, vh_error **err)
{
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return vh_fail(err, ENOMEM, "%s", VH_WRAPPER_CONF);
        vh_wrapper_conf c = { 0 };
        unsigned lineno = 0;
        int r = 0;
        for (char *line = copy, *next; r == 0 && line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                if (lineno == 1) {
                        r = streq(line, CONF_MAGIC) ? 0 : -EINVAL;
                } else if (startswith(line, "source ")) {
                        r = field(line, " stamp=", &c.stamp);
                } else if (startswith(line, "emulator ")) {
                        r = field(line, " path=", &c.emulator);
                        if (r == 0 && c.emulator[0] != '/')
                                r = -EINVAL;
                } else if (startswith(line, "msix ")) {
                        c.msix = strstr(line, " enabled=1") != NULL;
                        if (c.msix) {
                                r = field(line, " bar=", &c.bar);
                                if (r == 0)
                                        r = field(line, " devices=", &c.devices);
                        }
                } /* other lines: a newer vmhooks; ignored */
        }
        if (r == 0 && lineno == 0)
                r = -EINVAL;
        if (r < 0) {
                vh_wrapper_conf_done(&c);
                if (r == -ENOMEM)
                        return vh_fail(err, ENOMEM, "%s", VH_WRAPPER_CONF);
                return vh_fail_input(err, "%s: line %u is not understood; run qemu-hook --wrapper-config to rewrite it",
                                     VH_WRAPPER_CONF, lineno);
        }
        vh_wrapper_conf_done(ret);
        *ret = c;
        return 0;
}

int vh_wrapper_conf_load(vh_wrapper_conf *ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_WRAPPER_CONF);
        if (!path)
                return vh_fail(err, ENOMEM, "%s", VH_WRAPPER_CONF);
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file_trusted(path, 1 << 16, &text, NULL, err);
        if (r < 0)
                return r;
        return vh_wrapper_conf_parse(text, ret, err);
}
