/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wrapper_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "kv.h"
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
        int r = vh_buf_puts(&b, CONF_MAGIC "\nsource ");
        if (r == 0)
                r = vh_buf_escape(&b, VH_POLICY_FILE, false);
        if (r == 0)
                r = vh_kv_put(&b, "stamp", c->stamp ? c->stamp : "none");
        if (r == 0 && c->emulator) {
                r = vh_buf_puts(&b, "\nemulator");
                if (r == 0)
                        r = vh_kv_put(&b, "path", c->emulator);
        }
        if (r == 0)
                r = vh_buf_puts(&b, "\nmsix");
        if (r == 0)
                r = vh_kv_put_u64(&b, "enabled", c->msix ? 1 : 0);
        if (r == 0 && c->msix)
                r = vh_kv_put(&b, "bar", c->bar ? c->bar : "bar2");
        if (r == 0 && c->msix)
                r = vh_kv_put(&b, "devices", c->devices ? c->devices : "nvme");
        if (r == 0)
                r = vh_buf_puts(&b, "\n");
        if (r < 0)
                return vh_fail(err, -r, "format %s", VH_WRAPPER_CONF);
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* One record of the file into `c`: 0, -EINVAL (malformed), -ENOMEM. */
static int parse_record(const char *line, size_t len, vh_wrapper_conf *c)
{
        _cleanup_kv_ vh_kv_record rec = { 0 };
        int r = vh_kv_parse(line, len, &rec);
        if (r < 0)
                return r;
        if (streq(rec.type, "source"))
                return vh_kv_dup(&rec, "stamp", &c->stamp) == -ENOMEM ? -ENOMEM : 0;
        if (streq(rec.type, "emulator")) {
                r = vh_kv_dup(&rec, "path", &c->emulator);
                if (r == -ENOMEM)
                        return r;
                return r == 0 && c->emulator[0] == '/' ? 0 : -EINVAL;
        }
        if (streq(rec.type, "msix")) {
                const char *en = vh_kv_get(&rec, "enabled");
                if (!streq(en, "0") && !streq(en, "1"))
                        return -EINVAL;
                c->msix = streq(en, "1");
                if (!c->msix)
                        return 0;
                r = vh_kv_dup(&rec, "bar", &c->bar);
                if (r == 0)
                        r = vh_kv_dup(&rec, "devices", &c->devices);
                return r == -ENOENT ? -EINVAL : r;
        }
        return 0; /* other records: a newer vmhooks; ignored */
}

int vh_wrapper_conf_parse(const char *text, vh_wrapper_conf *ret, vh_error **err)
{
        vh_wrapper_conf c = { 0 };
        unsigned lineno = 0;
        int r = 0;
        for (const char *line = text, *next; r == 0 && line && *line; line = next) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                next = nl ? nl + 1 : NULL;
                lineno++;
                if (lineno == 1)
                        r = len == strlen(CONF_MAGIC) && strncmp(line, CONF_MAGIC, len) == 0 ? 0 : -EINVAL;
                else if (len)
                        r = parse_record(line, len, &c);
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
