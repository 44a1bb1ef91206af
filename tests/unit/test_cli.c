/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vmhooks command's own help: `vmhooks --help` in columns, `vmhooks
 * help COMMAND` = `COMMAND --help` with one line per option (each in
 * vmhooks(8)), `vmhooks policy` with the origin of each element, and the
 * bash completion with and without the bash-completion package.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BASH_COMPLETION "/usr/share/bash-completion/bash_completion"
#define COMMANDS "patch", "diff", "apply", "check", "policy", "audit", "facts", "status", "restore", "version", "help"

static int tool(char **out, char **err, const char *const *args)
{
        return tu_run_tool(NULL, out, err, args);
}

/* Every command on one line: name in the first column, the summaries all starting in the same column. */
static void test_help_columns(void **state)
{
        (void)state;
        char *out, *err;
        assert_int_equal(tool(&out, &err, (const char *const[]){ "--help", NULL }), 0);
        static const char *const names[] = { COMMANDS };
        long column = -1;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char needle[64];
                snprintf(needle, sizeof(needle), "\n  %s ", names[i]);
                const char *at = strstr(out, needle);
                assert_non_null(at);
                at += 1; /* the line */
                const char *text = at + 2 + strlen(names[i]);
                text += strspn(text, " ");
                assert_true(text - at >= (long)strlen(names[i]) + 4); /* at least two blanks between */
                if (column < 0)
                        column = text - at;
                assert_int_equal(text - at, column);
                assert_true(strcspn(text, "\n") > 10); /* a summary, not the usage's options */
        }
        tu_assert_contains(out, "vmhooks help COMMAND");
        char *out2, *err2;
        assert_int_equal(tool(&out2, &err2, (const char *const[]){ "help", NULL }), 0);
        assert_string_equal(out, out2);
        free(out);
        free(err);
        free(out2);
        free(err2);
}

/* The man page text with groff's \- as -, for looking options up. */
static char *man_text(void)
{
        char *m = tu_slurp("man/vmhooks.8");
        assert_non_null(m);
        char *w = m;
        for (const char *r = m; *r; r++) {
                if (r[0] == '\\' && r[1] == '-') {
                        *w++ = '-';
                        r++;
                } else if (r[0] == '\\' && r[1] == 'f' && r[2]) {
                        r += 2; /* \fI, \fP */
                } else {
                        *w++ = *r;
                }
        }
        *w = '\0';
        return m;
}

/* help COMMAND and COMMAND --help are the same, list each option once with its line, and the man page has it. */
static void test_help_command_options(void **state)
{
        (void)state;
        static const char *const names[] = { COMMANDS };
        char *man = man_text();
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char *a, *ae, *b, *be;
                assert_int_equal(tool(&a, &ae, (const char *const[]){ "help", names[i], NULL }), 0);
                assert_int_equal(tool(&b, &be, (const char *const[]){ names[i], "--help", NULL }), 0);
                assert_string_equal(a, b);
                char usage[64];
                snprintf(usage, sizeof(usage), "usage: vmhooks %s", names[i]);
                assert_true(strncmp(a, usage, strlen(usage)) == 0);
                const char *opts = strstr(a, "\noptions:\n");
                if (!opts) {
                        tu_assert_contains(a, "no options");
                } else {
                        /* "  --opt ARG   text": each option of the usage has a line, and a man page line */
                        for (const char *l = opts + 10; *l; l = strchr(l, '\n') + 1) {
                                assert_true(l[0] == ' ' && l[1] == ' ');
                                const char *gap = strstr(l + 2, "  ");
                                assert_non_null(gap);
                                assert_true(gap < strchr(l, '\n'));
                                const char *text = gap + strspn(gap, " ");
                                assert_true(text < strchr(l, '\n')); /* a description */
                                char opt[64];
                                size_t n = strcspn(l + 2, " ,=\n");
                                assert_true(n < sizeof(opt));
                                memcpy(opt, l + 2, n);
                                opt[n] = '\0';
                                if (opt[0] == '-')
                                        tu_assert_contains(man, opt);
                        }
                }
                char sec[64];
                snprintf(sec, sizeof(sec), ".SS \"%s", names[i]);
                if (!strstr(man, sec)) {
                        snprintf(sec, sizeof(sec), ".SS %s", names[i]);
                        tu_assert_contains(man, sec);
                }
                free(a);
                free(ae);
                free(b);
                free(be);
        }
        char *o, *e;
        assert_int_equal(tool(&o, &e, (const char *const[]){ "help", "frobnicate", NULL }), 2);
        tu_assert_contains(e, "vmhooks help: unknown command \"frobnicate\"");
        free(o);
        free(e);
        assert_int_equal(tool(&o, &e, (const char *const[]){ "apply", "--help", NULL }), 0);
        tu_assert_contains(o, "  --dry-run ");
        tu_assert_contains(o, "  --msix=override ");
        tu_assert_contains(o, "  -v, --verbose ");
        free(o);
        free(e);
        free(man);
}

/* vmhooks policy --file: each element with its value and where it comes from. */
static void test_policy_origins(void **state)
{
        char *root = *state;
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<?xml version=\"1.0\"?>\n<policy xmlns=\"urn:vmhooks:policy:1\">\n  <thp mode=\"auto\"/>\n"
                 "  <kworkers isolate=\"yes\"/>\n  <halt-poll ns=\"200000\"/>\n</policy>\n");
        char *x = tu_domain_xml("web1", "55555555-5555-5555-5555-555555555555", NULL, false,
                                "\n      <vmhooks:halt-poll ns=\"400000\"/>\n      <vmhooks:svirt mode=\"warn\"/>\n    ");
        char *path = NULL;
        assert_true(asprintf(&path, "%s/dom.xml", root) > 0);
        tu_write(root, "/dom.xml", x);
        char *out, *err;
        assert_int_equal(tool(&out, &err, (const char *const[]){ "policy", "--file", path, NULL }), 0);
        char *host = NULL;
        assert_true(asprintf(&host, "%s/etc/vmhooks/policy.xml", root) > 0);
        char *want = NULL;
        assert_true(asprintf(&want, "  thp        auto                      %s line 3\n", host) > 0);
        tu_assert_contains(out, want);
        free(want);
        assert_true(asprintf(&want, "  halt-poll  400000                    metadata of VM web1, line 2 of the <policy> "
                                    "element (replaces %s line 5)\n", host) > 0);
        tu_assert_contains(out, want);
        free(want);
        tu_assert_contains(out, "  svirt      warn                      metadata of VM web1, line 3 of the <policy> element\n");
        tu_assert_contains(out, "not set: isolate, msix-relocation,");
        free(out);
        free(err);

        /* a broken host file: shown, with what it means, and exit 1 */
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<?xml version=\"1.0\"?>\n<policy xmlns=\"urn:vmhooks:policy:1\">\n  <thp mode=\"auto\">\n</policy>\n");
        assert_int_equal(tool(&out, &err, (const char *const[]){ "policy", "--file", path, NULL }), 1);
        tu_assert_contains(out, "ERROR host policy: ");
        tu_assert_contains(out, "line 3: <thp> is not closed before </policy> on line 4");
        tu_assert_contains(out, "the VM's metadata applies alone");
        tu_assert_contains(out, "  halt-poll  400000 ");
        assert_null(strstr(out, "  thp "));
        free(out);
        free(err);
        free(host);
        free(path);
        free(x);
}

/* Run a bash script (no rc files); returns the exit status. */
static int bash(const char *script, char **ret_out, char **ret_err)
{
        char out_path[] = "/tmp/vmhooks-test-out.XXXXXX", err_path[] = "/tmp/vmhooks-test-err.XXXXXX";
        int of = mkostemp(out_path, O_CLOEXEC), ef = mkostemp(err_path, O_CLOEXEC);
        assert_true(of >= 0 && ef >= 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(of, 1);
                dup2(ef, 2);
                execlp("bash", "bash", "--norc", "--noprofile", "-c", script, (char *)NULL);
                _exit(127);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(of);
        close(ef);
        *ret_out = tu_slurp(out_path);
        *ret_err = tu_slurp(err_path);
        unlink(out_path);
        unlink(err_path);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * `comp LINE`: complete LINE as bash would at its end (COMP_WORDS split at
 * bash's COMP_WORDBREAKS) and print COMPREPLY, one per line.
 */
#define COMP_FN                                                                                                   \
        "comp() { COMP_LINE=$1; COMP_POINT=${#1}; local IFS=$' \\t\\n'; "                                     \
        "local l=${1//=/ = }; read -ra COMP_WORDS <<<\"$l\"; [[ $1 == *' ' || $1 == *= ]] && COMP_WORDS+=(''); " \
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _vmhooks vmhooks \"${COMP_WORDS[COMP_CWORD]}\" "  \
        "\"${COMP_WORDS[COMP_CWORD-1]}\"; printf '%%s\\n' \"${COMPREPLY[@]}\"; echo '--'; }; "

static void check_completion(const char *preamble)
{
        char *script = NULL;
        assert_true(asprintf(&script,
                             "%s . etc/bash-completion/vmhooks || exit 9; " COMP_FN
                             "comp 'vmhooks pol'; comp 'vmhooks help a'; comp 'vmhooks apply --dr'; "
                             "comp 'vmhooks patch --msix='; comp 'vmhooks policy --f'; "
                             "comp 'vmhooks check --file tests/data/domain/pinned-nv'",
                             preamble) > 0);
        char *out, *err;
        assert_int_equal(bash(script, &out, &err), 0);
        assert_string_equal(err, "");   /* no "_init_completion: command not found" */
        tu_assert_contains(out, "policy\n--\n");
        tu_assert_contains(out, "\n--\napply\naudit\n--\n");
        tu_assert_contains(out, "--dry-run\n--\n");
        tu_assert_contains(out, "wrapper\noverride\n--\n");
        tu_assert_contains(out, "--file\n--\n");
        tu_assert_contains(out, "tests/data/domain/pinned-nvme.xml\n--");
        free(out);
        free(err);
        free(script);
}

static void test_completion_plain_bash(void **state)
{
        (void)state;
        check_completion("declare -F _init_completion && exit 8;");
}

static void test_completion_with_bash_completion(void **state)
{
        (void)state;
        if (access(BASH_COMPLETION, R_OK) != 0) {
                printf("[  SKIP    ] " BASH_COMPLETION " is missing: apt-get install bash-completion (make deps)\n");
                skip();
        }
        check_completion(". " BASH_COMPLETION " || exit 7; declare -F _init_completion >/dev/null || exit 8;");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_help_columns),
                cmocka_unit_test(test_help_command_options),
                cmocka_unit_test_setup_teardown(test_policy_origins, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_completion_plain_bash),
                cmocka_unit_test(test_completion_with_bash_completion),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
