/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU command line model and rewrite (lib/argv.h), and build/qemu-kvm
 * end to end.
 *
 * Fixtures in tests/data/argv: NAME.args holds a command line as libvirt
 * 9.x writes it (one argument per line, without argv[0]; taken from
 * the .x86_64-latest.args files of libvirt's tests/qemuxmlconfdata where named),
 * libvirt11-*.args as libvirt 11.3 with QEMU 10.0 wrote them on Debian 13
 * (tests/integration/probe/argv-facts.sh: the probe's argv as the emulator
 * received it, the guests' from `virsh domxml-to-native qemu-argv`),
 * NAME.expected the command line QEMU must get, written by hand.  No
 * .expected means: passed through byte for byte.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "argv.h"
#include "util.h"
#include "wrapper_conf.h"

#define DATA "tests/data/argv/"

typedef struct args {
        int argc;
        char **argv;    /* argv[0] = "qemu-kvm" */
        char *text;
} args;

static args load(const char *name)
{
        char *path = NULL;
        assert_true(asprintf(&path, DATA "%s", name) > 0);
        args a = { 0 };
        a.text = tu_slurp(path);
        if (!a.text)
                fail_msg("cannot read %s", path);
        free(path);
        size_t n = 1;
        for (char *p = a.text; *p; p++)
                n += *p == '\n';
        a.argv = calloc(n + 2, sizeof(char *));
        assert_non_null(a.argv);
        a.argv[a.argc++] = (char *)"qemu-kvm";
        for (char *save = NULL, *l = strtok_r(a.text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                a.argv[a.argc++] = l;
        return a;
}

static void unload(args *a)
{
        free(a->argv);
        free(a->text);
}

static void assert_argv_equal(char *const *got, int got_n, char *const *want, int want_n)
{
        for (int i = 1; i < got_n && i < want_n; i++)
                if (strcmp(got[i], want[i]) != 0)
                        fail_msg("argument %d:\n  got  %s\n  want %s", i, got[i], want[i]);
        assert_int_equal(got_n, want_n);
        assert_null(got[got_n]);
}

static vh_qrelocate R(const char *id, const char *why)
{
        return (vh_qrelocate){ (char *)id, (char *)"bar2", (char *)why };
}

/* Parse NAME.args, rewrite with `rel`, compare with NAME.expected (or the input). */
static void rewrite_fixture(const char *name, const vh_qrelocate *rel, size_t n_rel, vh_qrewrite *w)
{
        char *in = NULL, *out = NULL;
        assert_true(asprintf(&in, "%s.args", name) > 0);
        assert_true(asprintf(&out, DATA "%s.expected", name) > 0);
        args a = load(in);
        vh_qargv q = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_qargv_parse(a.argc, a.argv, &q, &e), 0);
        assert_int_equal(vh_qargv_rewrite(&q, rel, n_rel, w, &e), 0);
        assert_null(e);
        if (access(out, F_OK) == 0) {
                args b = load(out + strlen(DATA));
                assert_argv_equal(w->argv, w->argc, b.argv, b.argc);
                assert_true(w->changed);
                unload(&b);
        } else {
                assert_argv_equal(w->argv, w->argc, a.argv, a.argc);
                assert_false(w->changed);
        }
        vh_qargv_done(&q);
        unload(&a);
        free(in);
        free(out);
}

/* ---- key=value ---- */

static void test_qopts(void **state)
{
        (void)state;
        vh_qopts o = { 0 };
        assert_int_equal(vh_qopts_parse("vfio-pci,host=0000:06:12.1,romfile=/a,,b,,,x=1,rombar=0,x=2,multifunction,nohotplug",
                                        "driver", &o, NULL), 0);
        assert_string_equal(vh_qopts_get(&o, "driver"), "vfio-pci");
        assert_string_equal(vh_qopts_get(&o, "host"), "0000:06:12.1");
        assert_string_equal(vh_qopts_get(&o, "romfile"), "/a,b,");
        assert_string_equal(vh_qopts_get(&o, "x"), "2"); /* the last one wins, as in QemuOpts */
        assert_string_equal(vh_qopts_get(&o, "multifunction"), "on");
        assert_string_equal(vh_qopts_get(&o, "hotplug"), "off");
        assert_false(o.trailing_comma);
        vh_qopts_done(&o);

        assert_int_equal(vh_qopts_parse("guest=a,,b,debug-threads=on,", "guest", &o, NULL), 0);
        assert_string_equal(vh_qopts_get(&o, "guest"), "a,b");
        assert_true(o.trailing_comma);
        vh_qopts_done(&o);

        /* no implied key: the first element without '=' is a flag */
        assert_int_equal(vh_qopts_parse("on,x=,,", NULL, &o, NULL), 0);
        assert_string_equal(vh_qopts_get(&o, "on"), "on");
        assert_string_equal(vh_qopts_get(&o, "x"), ",");
        vh_qopts_done(&o);

        vh_buf b = { 0 };
        assert_int_equal(vh_qopts_escape(&b, ",a,,b,"), 0);
        assert_string_equal(b.data, ",,a,,,,b,,");
        vh_buf_free(&b);
}

static json_object *J(const char *s)
{
        json_object *o = json_tokener_parse(s);
        assert_non_null(o);
        return o;
}

static void expect_kv(const char *json, const char *want)
{
        json_object *o = J(json);
        char *kv = NULL;
        vh_error *e = NULL;
        if (vh_qdev_json_to_keyval(o, NULL, NULL, &kv, &e) < 0)
                fail_msg("%s: %s", json, vh_error_msg(e));
        assert_string_equal(kv, want);
        free(kv);
        json_object_put(o);
}

static void expect_no_kv(const char *json, const char *why)
{
        json_object *o = J(json);
        char *kv = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_qdev_json_to_keyval(o, NULL, NULL, &kv, &e), -EINVAL);
        assert_null(kv);
        tu_assert_contains(vh_error_msg(e), why);
        vh_error_free(e);
        json_object_put(o);
}

static void test_json_to_keyval(void **state)
{
        (void)state;
        expect_kv("{\"driver\":\"virtio-balloon-pci\",\"id\":\"balloon0\",\"deflate-on-oom\":true,\"bus\":\"pci.0\","
                  "\"addr\":\"0x12\"}",
                  "virtio-balloon-pci,id=balloon0,deflate-on-oom=on,bus=pci.0,addr=0x12");
        /* the driver comes first wherever JSON has it; numbers in decimal; empty strings stay empty */
        expect_kv("{\"id\":\"net0\",\"driver\":\"e1000\",\"romfile\":\"\",\"bootindex\":-1,\"x\":18446744073709551615,"
                  "\"on\":false}",
                  "e1000,id=net0,romfile=,bootindex=-1,x=18446744073709551615,on=off");
        /* commas doubled everywhere, also in the driver; '=' in a driver needs driver= */
        expect_kv("{\"driver\":\"a,b\",\"serial\":\",x,,\"}", "a,,b,serial=,,x,,,,");
        expect_kv("{\"driver\":\"a=b\"}", "driver=a=b");
        expect_no_kv("{\"driver\":\"x\",\"a\":{\"b\":1}}", "\"a\" is a nested object");
        expect_no_kv("{\"driver\":\"x\",\"a\":[1]}", "\"a\" is an array");
        expect_no_kv("{\"driver\":\"x\",\"a\":1.5}", "floating-point");
        expect_no_kv("{\"driver\":\"x\",\"a\":null}", "null");
        expect_no_kv("{\"driver\":\"x\",\"a,b\":1}", "cannot be written as key=value");
        expect_no_kv("{\"driver\":\"x\",\"a=b\":1}", "cannot be written as key=value");
        expect_no_kv("{\"driver\":\"x\",\"help\":1}", "help");
        expect_no_kv("{\"driver\":\"x\",\"id\":\"0bad\"}", "not an identifier");
        expect_no_kv("{\"driver\":\"x\",\"s\":\"a\\u0000b\"}", "NUL");
        expect_no_kv("{\"id\":\"x\"}", "no \"driver\"");
        assert_true(vh_qemu_id_wellformed("ua-sm2262"));
        assert_true(vh_qemu_id_wellformed("pci.5"));
        assert_false(vh_qemu_id_wellformed("5pci"));
        assert_false(vh_qemu_id_wellformed("a b"));
}

/* ---- the model ---- */

static void test_parse_model(void **state)
{
        (void)state;
        args a = load("types.args");
        vh_qargv q = { 0 };
        assert_int_equal(vh_qargv_parse(a.argc, a.argv, &q, NULL), 0);
        assert_string_equal(q.name, "a,b");
        assert_string_equal(q.uuid, "3c0e9d5e-0000-4000-8000-000000000007");
        assert_false(q.probe);
        assert_null(q.bad);
        assert_int_equal(q.n_devs, 3);
        assert_int_equal(q.devs[0].form, VH_QDEV_JSON);
        assert_string_equal(q.devs[0].driver, "virtio-net-pci");
        assert_string_equal(q.devs[0].id, "net0");
        assert_string_equal(q.devs[0].bus, "pci.0");
        assert_int_equal(q.devs[0].arg, 10);
        assert_int_equal(q.n_sets, 3);
        assert_string_equal(q.sets[0].group, "device");
        assert_string_equal(q.sets[0].id, "net0");
        assert_string_equal(q.sets[0].prop, "x-txburst");
        assert_string_equal(q.sets[0].value, "512");
        vh_qargv_done(&q);
        unload(&a);

        a = load("keyval-hostdevs.args");
        assert_int_equal(vh_qargv_parse(a.argc, a.argv, &q, NULL), 0);
        assert_string_equal(q.name, "kvguest");
        assert_int_equal(q.devs[1].form, VH_QDEV_KEYVAL);
        assert_string_equal(q.devs[1].host, "06:12.2");
        assert_true(q.devs[1].opts.trailing_comma);
        vh_qargv_done(&q);
        unload(&a);

        a = load("probe.args");
        assert_int_equal(vh_qargv_parse(a.argc, a.argv, &q, NULL), 0);
        assert_true(q.probe);
        vh_qargv_done(&q);
        unload(&a);

        /* libvirt 11 probes with a monitor in a fresh qmp-XXXXXX directory: still -machine none */
        a = load("libvirt11-probe.args");
        assert_int_equal(vh_qargv_parse(a.argc, a.argv, &q, NULL), 0);
        assert_true(q.probe);
        vh_qargv_done(&q);
        unload(&a);

        /* options without an argument do not swallow the next one; "-M none" is a probe too */
        char *v1[] = { (char *)"q", (char *)"-S", (char *)"-nodefaults", (char *)"--device", (char *)"x,id=a",
                       (char *)"disk.img", (char *)"-M", (char *)"none", NULL };
        assert_int_equal(vh_qargv_parse(8, v1, &q, NULL), 0);
        assert_int_equal(q.n_devs, 1);
        assert_string_equal(q.devs[0].id, "a");
        assert_true(q.probe);
        vh_qargv_done(&q);

        /* an option without its argument: the command line is left alone */
        char *v2[] = { (char *)"q", (char *)"-device", NULL };
        assert_int_equal(vh_qargv_parse(2, v2, &q, NULL), 0);
        tu_assert_contains(q.bad, "-device has no argument");
        vh_qargv_done(&q);

        /* JSON is what starts with '{', as in QEMU; " {" is key=value */
        char *v3[] = { (char *)"q", (char *)"-device", (char *)" {\"driver\":\"x\"}", NULL };
        assert_int_equal(vh_qargv_parse(3, v3, &q, NULL), 0);
        assert_null(q.bad);
        assert_int_equal(q.devs[0].form, VH_QDEV_KEYVAL);
        vh_qargv_done(&q);
}

/* ---- the rewrite, on libvirt command lines ---- */

static void test_pc_hostdevs(void **state)
{
        (void)state;
        vh_qrelocate rel[] = { R("hostdev0", "NVMe 126f:2262"), R("hostdev2", "listed") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("pc-hostdevs", rel, 2, &w);
        assert_string_equal(w.changes.data, "hostdev0 (0000:06:12.1, NVMe 126f:2262): x-msix-relocation=bar2\n"
                                            "hostdev2 (0000:06:12.3, listed): x-msix-relocation=bar2\n");
        assert_string_equal(w.notes.data, "");
        vh_qrewrite_done(&w);
}

static void test_nothing_to_change(void **state)
{
        (void)state;
        vh_qrewrite w = { 0 };
        /* a libvirt command line without relocations or -set: identical, unchanged */
        args a = load("pc-hostdevs.args");
        vh_qargv q = { 0 };
        assert_int_equal(vh_qargv_parse(a.argc, a.argv, &q, NULL), 0);
        assert_int_equal(vh_qargv_rewrite(&q, NULL, 0, &w, NULL), 0);
        assert_false(w.changed);
        assert_argv_equal(w.argv, w.argc, a.argv, a.argc);
        assert_string_equal(w.changes.data, "");
        assert_string_equal(w.notes.data, "");
        vh_qrewrite_done(&w);
        vh_qargv_done(&q);
        unload(&a);
}

static void test_probe_untouched(void **state)
{
        (void)state;
        /* even when asked to relocate something */
        vh_qrelocate rel[] = { R("hostdev0", "all") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("probe", rel, 1, &w);
        assert_string_equal(w.changes.data, "");
        assert_string_equal(w.notes.data, "");
        vh_qrewrite_done(&w);
}

static void test_q35_set_and_user_alias(void **state)
{
        (void)state;
        vh_qrelocate rel[] = { R("hostdev0", "NVMe 144d:a808"), R("ua-sm2262", "quirk: ADATA SX8200 (SM2262)") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("q35-nvme-balloon", rel, 2, &w);
        assert_string_equal(
                w.changes.data,
                "pci.5: -device rewritten from JSON to key=value: it provides bus pci.5 of balloon0, and QEMU creates "
                "key=value devices before JSON ones\n"
                "hostdev0 (0000:81:00.1, NVMe 144d:a808): x-msix-relocation=bar2\n"
                "ua-sm2262 (0000:82:00.0, quirk: ADATA SX8200 (SM2262)): x-msix-relocation=bar2\n"
                "balloon0: -device rewritten from JSON to key=value so that -set device.balloon0.deflate-on-oom=on "
                "applies (QEMU accepts -set only on key=value devices)\n");
        assert_string_equal(w.notes.data, "");
        vh_qrewrite_done(&w);
}

/* libvirt 11.3 + QEMU 10.0 (pc-q35-10.0): the same JSON -device syntax as 9.x; balloon0 sits on a root port */
static void test_libvirt11_q35(void **state)
{
        (void)state;
        vh_qrelocate rel[] = { R("hostdev0", "NVMe 144d:a808"), R("ua-nvme1", "listed") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("libvirt11-q35-hostdevs", rel, 2, &w);
        assert_string_equal(
                w.changes.data,
                "pci.4: -device rewritten from JSON to key=value: it provides bus pci.4 of balloon0, and QEMU creates "
                "key=value devices before JSON ones\n"
                "hostdev0 (0000:81:00.0, NVMe 144d:a808): x-msix-relocation=bar2\n"
                "ua-nvme1 (0000:82:00.0, listed): x-msix-relocation=bar2\n"
                "balloon0: -device rewritten from JSON to key=value so that -set device.balloon0.deflate-on-oom=on "
                "applies (QEMU accepts -set only on key=value devices)\n");
        assert_string_equal(w.notes.data, "");
        vh_qrewrite_done(&w);
}

/* libvirt 11.3 + QEMU 10.0 (pc-i440fx-10.0): balloon0 on the built-in pci.0 */
static void test_libvirt11_pc(void **state)
{
        (void)state;
        vh_qrelocate rel[] = { R("hostdev0", "all"), R("ua-nvme1", "all") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("libvirt11-pc-hostdevs", rel, 2, &w);
        assert_string_equal(
                w.changes.data,
                "hostdev0 (0000:81:00.0, all): x-msix-relocation=bar2\n"
                "ua-nvme1 (0000:82:00.0, all): x-msix-relocation=bar2\n"
                "balloon0: -device rewritten from JSON to key=value so that -set device.balloon0.deflate-on-oom=on "
                "applies (QEMU accepts -set only on key=value devices)\n");
        vh_qrewrite_done(&w);
}

static void test_keyval_inline(void **state)
{
        (void)state;
        /* hostdev1 ends with a comma: the new element must not make it ",," */
        vh_qrelocate rel[] = { R("hostdev0", "all"), R("hostdev1", "all"), R("hostdev0", "all") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("keyval-hostdevs", rel, 3, &w);
        assert_string_equal(w.changes.data, "hostdev0 (0000:06:12.1, all): x-msix-relocation=bar2\n"
                                            "hostdev1 (06:12.2, all): x-msix-relocation=bar2\n");
        vh_qrewrite_done(&w);
}

static void test_already_set(void **state)
{
        (void)state;
        vh_qrelocate rel[] = { R("hostdev0", "all"), R("hostdev1", "all"), R("hostdev2", "all") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("already-set", rel, 3, &w);
        assert_string_equal(w.notes.data,
                            "hostdev0: already sets x-msix-relocation=bar1; left as is\n"
                            "hostdev1: -set device.hostdev1.x-msix-relocation=bar0 gives the value; left as is\n"
                            "hostdev2: -set device.hostdev2.x-msix-relocation=bar4 gives the value; left as is\n");
        /* the -set aimed at JSON hostdev2 is rescued; no value of ours is added */
        assert_string_equal(w.changes.data,
                            "hostdev2: -device rewritten from JSON to key=value so that -set "
                            "device.hostdev2.x-msix-relocation=bar4 applies (QEMU accepts -set only on key=value "
                            "devices)\n");
        vh_qrewrite_done(&w);
}

static void test_malformed_passes_through(void **state)
{
        (void)state;
        vh_qrelocate rel[] = { R("hostdev0", "all") };
        vh_qrewrite w = { 0 };
        rewrite_fixture("malformed", rel, 1, &w);
        assert_string_equal(w.changes.data, "");
        tu_assert_contains(w.notes.data, "-device {\"driver\":\"virtio-balloon-pci\",\"id\":\"balloon0\",\"bus\":"
                                         "\"pci.0\",\"addr\":\"0x6\": not valid JSON (");
        tu_assert_contains(w.notes.data, "); the command line goes to QEMU as it is\n");
        vh_qrewrite_done(&w);

        /* trailing text, not an object */
        char *v[] = { (char *)"q", (char *)"-device", (char *)"{\"driver\":\"x\"} x", (char *)"-device",
                      (char *)"[1]", NULL };
        vh_qargv q = { 0 };
        assert_int_equal(vh_qargv_parse(3, v, &q, NULL), 0);
        tu_assert_contains(q.bad, "-device {\"driver\":\"x\"} x: not valid JSON (");
        vh_qargv_done(&q);
        v[2] = (char *)"{\"driver\":\"x\",}";
        assert_int_equal(vh_qargv_parse(3, v, &q, NULL), 0);
        assert_non_null(q.bad);
        vh_qargv_done(&q);
        v[2] = (char *)"{'driver':'x'}";
        assert_int_equal(vh_qargv_parse(3, v, &q, NULL), 0);
        assert_non_null(q.bad);
        vh_qargv_done(&q);
}

static void test_types_and_commas(void **state)
{
        (void)state;
        vh_qrewrite w = { 0 };
        rewrite_fixture("types", NULL, 0, &w);
        assert_string_equal(w.changes.data,
                            "net0: -device rewritten from JSON to key=value so that -set device.net0.x-txburst=512 "
                            "applies (QEMU accepts -set only on key=value devices)\n");
        assert_string_equal(w.notes.data,
                            "-set device.virtio-disk0.serial=abc left as is: virtio-disk0 cannot be written as "
                            "key=value: \"x-nested\" is a nested object (QEMU 7.2 rejects -set on a JSON -device)\n"
                            "-set device.rng0.period=1000 left as is: rng0 cannot be written as key=value: "
                            "\"max-bytes\" is a floating-point number (QEMU 7.2 rejects -set on a JSON -device)\n");
        vh_qrewrite_done(&w);
}

static void test_odd_targets(void **state)
{
        (void)state;
        char *v[] = { (char *)"q",
                      (char *)"-set",
                      (char *)"device.early.x=1",
                      (char *)"-device",
                      (char *)"{\"driver\":\"virtio-rng-pci\",\"id\":\"early\"}",
                      (char *)"-device",
                      (char *)"{\"driver\":\"virtio-rng-pci\",\"id\":\"rng1\",\"bus\":\"br0.1\"}",
                      (char *)"-device",
                      (char *)"{\"driver\":\"pci-bridge\",\"id\":\"br0\",\"chassis_nr\":1,\"x\":[1]}",
                      (char *)"-set",
                      (char *)"device.rng1.x=2",
                      (char *)"-set",
                      (char *)"drive.d0.x=3",
                      NULL };
        vh_qargv q = { 0 };
        assert_int_equal(vh_qargv_parse(13, v, &q, NULL), 0);
        assert_int_equal(q.n_sets, 2); /* only group "device" */
        vh_qrelocate rel[] = { R("nosuch", "all"), R("early", "all"), { (char *)"rng1", (char *)"bar2\"", (char *)"x" } };
        vh_qrewrite w = { 0 };
        assert_int_equal(vh_qargv_rewrite(&q, rel, 3, &w, NULL), 0);
        assert_false(w.changed);
        assert_string_equal(w.notes.data,
                            "nosuch: no -device with this id; x-msix-relocation not added\n"
                            "early: a virtio-rng-pci device, not vfio-pci; x-msix-relocation not added\n"
                            "rng1: a virtio-rng-pci device, not vfio-pci; x-msix-relocation not added\n"
                            "-set device.early.x=1 left as is: it comes before its -device\n"
                            "-set device.rng1.x=2 left as is: its bus provider br0 cannot be written as key=value: "
                            "\"x\" is an array (QEMU 7.2 rejects -set on a JSON -device)\n");
        vh_qrewrite_done(&w);
        vh_qargv_done(&q);
}

/* ---- build/qemu-kvm ---- */

static const char *wrapper_path(void)
{
        const char *w = getenv("VH_WRAPPER");
        return w && *w ? w : "build/qemu-kvm";
}

/*
 * Run the wrapper with `argv` (argv[0] ignored), env VMHOOKS_ROOT=root and
 * VMHOOKS_EMULATOR=emulator, fd 5 open (not close-on-exec), stdin from
 * `input`; collect stdout and stderr.  Returns the exit status.
 */
static int run_wrapper(const char *root, const char *emulator, char *const *argv, const char *input, char **ret_out,
                       char **ret_err)
{
        char *outp = NULL, *errp = NULL, *inp = NULL;
        assert_true(asprintf(&outp, "%s/out", root) > 0);
        assert_true(asprintf(&errp, "%s/err", root) > 0);
        assert_true(asprintf(&inp, "%s/in", root) > 0);
        FILE *f = fopen(inp, "we");
        assert_non_null(f);
        fputs(input ? input : "", f);
        fclose(f);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int in = open(inp, O_RDONLY), out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644),
                    err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644), five = open("/dev/null", O_RDONLY);
                if (in < 0 || out < 0 || err < 0 || five < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
                    dup2(err, 2) < 0 || dup2(five, 5) < 0)
                        _exit(126);
                char *env[4] = { NULL };
                if (asprintf(&env[0], "VMHOOKS_ROOT=%s", root) < 0 ||
                    asprintf(&env[1], "VMHOOKS_EMULATOR=%s", emulator) < 0 ||
                    asprintf(&env[2], "PATH=%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin") < 0)
                        _exit(126);
                const char *v[256];
                size_t n = 0;
                char *prefix = getenv("VH_HOOK_PREFIX") ? strdup(getenv("VH_HOOK_PREFIX")) : NULL;
                for (char *s = prefix ? strtok(prefix, " ") : NULL; s && n < 16; s = strtok(NULL, " "))
                        v[n++] = s;
                v[n++] = wrapper_path();
                for (size_t i = 1; argv[i] && n < 255; i++)
                        v[n++] = argv[i];
                v[n] = NULL;
                execvpe(v[0], (char *const *)v, env);
                _exit(127);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        *ret_out = tu_slurp(outp);
        *ret_err = tu_slurp(errp);
        assert_non_null(*ret_out);
        assert_non_null(*ret_err);
        free(outp);
        free(errp);
        free(inp);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A fake emulator: prints whether fd 5 is open, then its argv, one per line. */
static char *fake_emulator(const char *root)
{
        tu_write(root, "/fake-qemu",
                 "#!/bin/sh\n"
                 "if [ -e /proc/self/fd/5 ]; then echo fd5=open; else echo fd5=closed; fi\n"
                 "for a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/fake-qemu", root) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        return p;
}

/* "fd5=open\n" + emulator + the expected arguments. */
static char *expected_output(const char *emulator, char *const *argv, int argc)
{
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_printf(&b, "fd5=open\n%s\n", emulator), 0);
        for (int i = 1; i < argc; i++)
                assert_int_equal(vh_buf_printf(&b, "%s\n", argv[i]), 0);
        return b.data;
}

static void test_wrapper_execs_with_plan(void **state)
{
        const char *root = *state;
        char *emu = fake_emulator(root);
        /* the plan the hook writes for q35-nvme-balloon at start begin */
        tu_write(root, "/run/vmhooks-wrapper/virt-manager-basic.plan",
                 "vmhooks-wrapper-plan 1\n"
                 "vm uuid=1b826c23-8767-47ad-a6b5-c83a88277f71 name=virt-manager-basic\n"
                 "msix enabled=1 bar=bar2 devices=nvme%20quirks\n"
                 "relocate alias=hostdev0 bdf=0000:81:00.1 bar=bar2 why=NVMe%20144d:a808\n"
                 "relocate alias=ua-sm2262 bdf=0000:82:00.0 bar=bar2 why=quirk:%20ADATA%20SX8200%20(SM2262)\n");
        args a = load("q35-nvme-balloon.args");
        args b = load("q35-nvme-balloon.expected");
        char *out = NULL, *err = NULL;
        int rc = run_wrapper(root, emu, a.argv, NULL, &out, &err);
        if (rc != 0)
                fail_msg("exit %d: %s", rc, err);
        char *want = expected_output(emu, b.argv, b.argc);
        assert_string_equal(out, want);
        assert_string_equal(err,
                            "vmhooks: pci.5: -device rewritten from JSON to key=value: it provides bus pci.5 of "
                            "balloon0, and QEMU creates key=value devices before JSON ones\n"
                            "vmhooks: hostdev0 (0000:81:00.1, NVMe 144d:a808): x-msix-relocation=bar2\n"
                            "vmhooks: ua-sm2262 (0000:82:00.0, quirk: ADATA SX8200 (SM2262)): x-msix-relocation=bar2\n"
                            "vmhooks: balloon0: -device rewritten from JSON to key=value so that -set "
                            "device.balloon0.deflate-on-oom=on applies (QEMU accepts -set only on key=value devices)\n");
        /* the same lines in the VM's log, when the wrapper may write there */
        char *log = tu_read(root, "/var/log/vmhooks/virt-manager-basic.log");
        tu_assert_contains(log, "qemu wrapper: hostdev0 (0000:81:00.1, NVMe 144d:a808): x-msix-relocation=bar2\n");
        free(log);
        free(want);
        free(out);
        free(err);

        /* a plan for another UUID is ignored: no host policy, so only the -set is rescued */
        tu_write(root, "/run/vmhooks-wrapper/virt-manager-basic.plan",
                 "vmhooks-wrapper-plan 1\nvm uuid=00000000-0000-0000-0000-000000000000 name=virt-manager-basic\n"
                 "msix enabled=1 bar=bar2 devices=all\n"
                 "relocate alias=hostdev0 bdf=0000:81:00.1 bar=bar2 why=all\n");
        rc = run_wrapper(root, emu, a.argv, NULL, &out, &err);
        assert_int_equal(rc, 0);
        tu_assert_contains(err, "virt-manager-basic.plan is for UUID 00000000-0000-0000-0000-000000000000, not "
                                "1b826c23-8767-47ad-a6b5-c83a88277f71; ignored; using the host policy\n");
        assert_null(strstr(err, "x-msix-relocation=bar2"));
        tu_assert_contains(out, "\nvirtio-balloon-pci,id=balloon0,bus=pci.5,addr=0x0\n");
        free(out);
        free(err);
        unload(&a);
        unload(&b);
        free(emu);
}

static void test_wrapper_host_policy(void **state)
{
        const char *root = *state;
        char *emu = fake_emulator(root);
        /* no plan: the host policy decides, reading the fake sysfs */
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\"><msix-relocation bar=\"bar4\" devices=\"quirks\"/></policy>\n");
        /* the wrapper reads the host policy from the text the hook derives from policy.xml */
        args a0 = load("keyval-hostdevs.args");
        char *out0 = NULL, *err0 = NULL;
        assert_int_equal(run_wrapper(root, emu, a0.argv, NULL, &out0, &err0), 0);
        assert_null(strstr(out0, "x-msix-relocation")); /* no wrapper.conf yet: no host policy */
        free(out0);
        free(err0);
        unload(&a0);
        assert_int_equal(vh_wrapper_conf_refresh(false, NULL), 1);
        assert_int_equal(vh_wrapper_conf_refresh(false, NULL), 0); /* up to date: not rewritten */
        tu_write(root, "/sys/bus/pci/devices/0000:06:12.1/vendor", "0x126f\n");
        tu_write(root, "/sys/bus/pci/devices/0000:06:12.1/device", "0x2263\n");
        tu_write(root, "/sys/bus/pci/devices/0000:06:12.2/vendor", "0x8086\n");
        tu_write(root, "/sys/bus/pci/devices/0000:06:12.2/device", "0x1572\n");
        args a = load("keyval-hostdevs.args");
        char *out = NULL, *err = NULL;
        assert_int_equal(run_wrapper(root, emu, a.argv, NULL, &out, &err), 0);
        char *want = NULL;
        assert_true(asprintf(&want,
                             "vmhooks: hostdev2 (0000:06:12.3): cannot open %s/sys/bus/pci/devices/0000:06:12.3/vendor: "
                             "No such file or directory; left as is\n"
                             "vmhooks: hostdev0 (0000:06:12.1, quirk: aigo P2000 (SM2263)): x-msix-relocation=bar4\n",
                             root) > 0);
        assert_string_equal(err, want);
        tu_assert_contains(out, "\nvfio-pci,host=0000:06:12.1,id=hostdev0,bus=pci.0,addr=0x2,x-msix-relocation=bar4\n-device\n"
                                "vfio-pci,host=06:12.2,id=hostdev1,bus=pci.0,addr=0x3,\n");
        free(want);
        free(out);
        free(err);
        unload(&a);
        free(emu);
}

static void test_wrapper_untouched(void **state)
{
        const char *root = *state;
        char *emu = fake_emulator(root);
        const char *files[] = { "probe.args", "pc-hostdevs.args", "libvirt11-probe.args", "malformed.args" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                args a = load(files[i]);
                char *out = NULL, *err = NULL;
                assert_int_equal(run_wrapper(root, emu, a.argv, NULL, &out, &err), 0);
                char *want = expected_output(emu, a.argv, a.argc);
                assert_string_equal(out, want);
                if (i < 3)
                        assert_string_equal(err, ""); /* silent */
                else
                        tu_assert_contains(err, "not valid JSON");
                free(want);
                free(out);
                free(err);
                unload(&a);
        }
        free(emu);
}

static void test_wrapper_missing_emulator(void **state)
{
        const char *root = *state;
        char *argv[] = { (char *)"qemu-kvm", (char *)"-version", NULL };
        char *out = NULL, *err = NULL;
        char *emu = NULL;
        assert_true(asprintf(&emu, "%s/no/such/qemu", root) > 0);
        assert_int_equal(run_wrapper(root, emu, argv, NULL, &out, &err), 127);
        char *want = NULL;
        assert_true(asprintf(&want,
                             "vmhooks: cannot execute the emulator %s: No such file or directory (set <wrapper "
                             "emulator=\"...\"/> in /etc/vmhooks/policy.xml)\n",
                             emu) > 0);
        assert_string_equal(err, want);
        free(want);
        free(out);
        free(err);
        assert_int_equal(run_wrapper(root, "qemu", argv, NULL, &out, &err), 127);
        assert_string_equal(err, "vmhooks: the emulator \"qemu\" is not an absolute path\n");
        free(out);
        free(err);
        free(emu);
}

/*
 * The real QEMU accepts what the wrapper makes: a q35 guest whose balloon
 * sits on a pcie-root-port, with `-set device.balloon0.deflate-on-oom=on`,
 * and a JSON network device rewritten with a comma in a string, a number
 * and booleans.  Skipped where QEMU is not installed.
 */
static void test_real_qemu(void **state)
{
        const char *root = *state;
        const char *qemu = "/usr/bin/qemu-system-x86_64";
        if (access(qemu, X_OK) != 0) {
                tu_skip("%s is not installed (apt-get install qemu-system-x86)", qemu);
                return;
        }
        char *rom = NULL, *net = NULL;
        assert_true(asprintf(&rom, "%s/a,b.rom", root) > 0);
        tu_write(root, "/a,b.rom", "");
        assert_int_equal(truncate(rom, 2048), 0);
        assert_true(asprintf(&net,
                             "{\"driver\":\"virtio-net-pci\",\"netdev\":\"hostnet0\",\"id\":\"net0\",\"romfile\":\"%s\","
                             "\"host_mtu\":9000,\"mq\":true,\"ctrl_guest_offloads\":false,\"bus\":\"pci.1\","
                             "\"addr\":\"0x0\"}",
                             rom) > 0);
        char *argv[] = { (char *)"qemu-kvm", (char *)"-name", (char *)"guest=real,debug-threads=on", (char *)"-S",
                         (char *)"-machine", (char *)"q35", (char *)"-accel", (char *)"tcg", (char *)"-display",
                         (char *)"none", (char *)"-nodefaults", (char *)"-no-user-config", (char *)"-qmp",
                         (char *)"stdio",
                         (char *)"-device",
                         (char *)"{\"driver\":\"pcie-root-port\",\"port\":16,\"chassis\":1,\"id\":\"pci.1\",\"bus\":"
                                 "\"pcie.0\",\"multifunction\":true,\"addr\":\"0x2\"}",
                         (char *)"-device",
                         (char *)"{\"driver\":\"pcie-root-port\",\"port\":17,\"chassis\":2,\"id\":\"pci.2\",\"bus\":"
                                 "\"pcie.0\",\"addr\":\"0x2.0x1\"}",
                         (char *)"-netdev", (char *)"{\"type\":\"user\",\"id\":\"hostnet0\"}", (char *)"-device", net,
                         (char *)"-device",
                         (char *)"{\"driver\":\"virtio-balloon-pci\",\"id\":\"balloon0\",\"bus\":\"pci.2\",\"addr\":"
                                 "\"0x0\"}",
                         (char *)"-set", (char *)"device.balloon0.deflate-on-oom=on", (char *)"-set",
                         (char *)"device.net0.x-txburst=128", NULL };
        const char *qmp =
                "{\"execute\":\"qmp_capabilities\"}\n"
                "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/balloon0\",\"property\":"
                "\"deflate-on-oom\"}}\n"
                "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/net0\",\"property\":\"romfile\"}}\n"
                "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/net0\",\"property\":\"host_mtu\"}}\n"
                "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/net0\",\"property\":\"mq\"}}\n"
                "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/net0\",\"property\":"
                "\"ctrl_guest_offloads\"}}\n"
                "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/net0\",\"property\":\"x-txburst\"}}\n"
                "{\"execute\":\"quit\"}\n";
        char *out = NULL, *err = NULL;
        int rc = run_wrapper(root, qemu, argv, qmp, &out, &err);
        if (rc != 0)
                fail_msg("QEMU exited %d: %s", rc, err);
        char *w = out;
        for (char *r = out; *r; r++)
                if (*r != '\r')
                        *w++ = *r; /* QMP on stdio ends lines with CRLF */
        *w = '\0';
        char *want = NULL;
        assert_true(asprintf(&want, "{\"return\": {}}\n{\"return\": true}\n{\"return\": \"%s\"}\n{\"return\": 9000}\n"
                                    "{\"return\": true}\n{\"return\": false}\n{\"return\": 128}\n",
                             rom) > 0);
        tu_assert_contains(out, want);
        tu_assert_contains(err, "vmhooks: net0: -device rewritten from JSON to key=value so that -set "
                                "device.net0.x-txburst=128 applies");
        tu_assert_contains(err, "vmhooks: pci.2: -device rewritten from JSON to key=value: it provides bus pci.2");
        free(want);
        free(out);
        free(err);
        free(net);
        free(rom);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_qopts),
                cmocka_unit_test(test_json_to_keyval),
                cmocka_unit_test(test_parse_model),
                cmocka_unit_test(test_pc_hostdevs),
                cmocka_unit_test(test_nothing_to_change),
                cmocka_unit_test(test_probe_untouched),
                cmocka_unit_test(test_q35_set_and_user_alias),
                cmocka_unit_test(test_libvirt11_q35),
                cmocka_unit_test(test_libvirt11_pc),
                cmocka_unit_test(test_keyval_inline),
                cmocka_unit_test(test_already_set),
                cmocka_unit_test(test_malformed_passes_through),
                cmocka_unit_test(test_types_and_commas),
                cmocka_unit_test(test_odd_targets),
                cmocka_unit_test_setup_teardown(test_wrapper_execs_with_plan, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_wrapper_host_policy, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_wrapper_untouched, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_wrapper_missing_emulator, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_real_qemu, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
