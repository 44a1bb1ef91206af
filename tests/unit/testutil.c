/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "root.h"
#include "util.h"

/* vmhooks' own directories get the modes of etc/tmpfiles/vmhooks.conf (the hook refuses others). */
static mode_t dir_mode(const char *p)
{
        size_t n = strlen(p), k = strlen("/run/vmhooks");
        return n >= k && strcmp(p + n - k, "/run/vmhooks") == 0 ? 0700 : 0755;
}

static void mkparents(const char *path)
{
        char *p = strdup(path);
        assert_non_null(p);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, dir_mode(p)) < 0 && errno != EEXIST)
                        fail_msg("mkdir %s: %s", p, strerror(errno));
                *s = '/';
        }
        free(p);
}

void tu_write(const char *root, const char *rel, const char *content)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, rel) > 0);
        mkparents(path);
        FILE *f = fopen(path, "we");
        if (!f)
                fail_msg("open %s: %s", path, strerror(errno));
        assert_true(fputs(content, f) >= 0);
        assert_int_equal(fclose(f), 0);
        free(path);
}

void tu_write_bytes(const char *root, const char *rel, const void *data, size_t len)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, rel) > 0);
        mkparents(path);
        FILE *f = fopen(path, "we");
        if (!f)
                fail_msg("open %s: %s", path, strerror(errno));
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        free(path);
}

char *tu_slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        vh_buf b = { 0 };
        char chunk[4096];
        size_t n;
        assert_int_equal(vh_buf_puts(&b, ""), 0);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                assert_int_equal(vh_buf_append(&b, chunk, n), 0);
        fclose(f);
        return b.data;
}

char *tu_read(const char *root, const char *rel)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, rel) > 0);
        char *s = tu_slurp(path);
        if (!s)
                fail_msg("read %s: %s", path, strerror(errno));
        free(path);
        vh_rstrip(s);
        return s;
}

bool tu_exists(const char *root, const char *rel)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, rel) > 0);
        bool ok = access(path, F_OK) == 0;
        free(path);
        return ok;
}

char *tu_mkroot(void)
{
        const char *tmp = getenv("TMPDIR");
        char *root = NULL;
        assert_true(asprintf(&root, "%s/vmhooks-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
        assert_non_null(mkdtemp(root));
        tu_write(root, "/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
        tu_write(root, "/sys/kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never\n");
        tu_write(root, "/sys/kernel/mm/transparent_hugepage/shmem_enabled",
                 "always within_size advise [never] deny force\n");
        tu_write(root, "/sys/devices/virtual/workqueue/cpumask", "f\n");
        tu_write(root, "/sys/bus/workqueue/devices/writeback/cpumask", "f\n");
        tu_write(root, "/sys/devices/system/cpu/online", "0-3\n");
        tu_write(root, "/sys/module/kvm/parameters/halt_poll_ns", "200000\n");
        /* a 2 MiB hugepage pool with room for a few 1 GiB guests */
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "2048\n");
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "2048\n");
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "0\n");
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-2048kB/surplus_hugepages", "0\n");
        assert_int_equal(setenv("VMHOOKS_ROOT", root, 1), 0);
        vh_root_reset();
        /* a library built without the test seams would work on the real host: never */
        char *probe = vh_path("/probe");
        if (!probe || strncmp(probe, root, strlen(root)) != 0) {
                fprintf(stderr, "tests/unit: this test is built without the test seams (VMHOOKS_ROOT ignored) and "
                                "would change the real host; build it with make check (build/test)\n");
                abort();
        }
        free(probe);
        return root;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

void tu_rmroot(char *root)
{
        if (!root)
                return;
        /* Tests may chmod things away; give the owner access back first. */
        (void)nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(root);
        unsetenv("VMHOOKS_ROOT");
        vh_root_reset();
}

int tu_setup_root(void **state)
{
        *state = tu_mkroot();
        return 0;
}

int tu_teardown_root(void **state)
{
        tu_rmroot(*state);
        return 0;
}

static const char *hook_path(void)
{
        const char *h = getenv("VH_HOOK");
        return h && *h ? h : "build/qemu-hook";
}

int tu_run_hook(const char *root, const char *stdin_data, char **ret_stderr, const char *extra_env,
                const char *name, const char *op, const char *subop)
{
        return tu_run_hook_out(root, stdin_data, NULL, ret_stderr, extra_env, name, op, subop);
}

int tu_run_hook_out(const char *root, const char *stdin_data, char **ret_stdout, char **ret_stderr,
                    const char *extra_env, const char *name, const char *op, const char *subop)
{
        char outpath[] = "/tmp/vmhooks-test-out.XXXXXX";
        int outfd = mkostemp(outpath, O_CLOEXEC);
        assert_true(outfd >= 0);
        int in[2], errp[2];
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(in[0], 0);
                dup2(outfd, 1);
                dup2(errp[1], 2);
                char *env_root = NULL;
                if (asprintf(&env_root, "VMHOOKS_ROOT=%s", root) < 0)
                        _exit(127);
                char *envp[] = { env_root, (char *)extra_env, NULL, NULL };
                /* VH_HOOK_PREFIX="valgrind --error-exitcode=99 ..." runs the hook under a checker */
                const char *argv[32];
                size_t n = 0;
                char *prefix = getenv("VH_HOOK_PREFIX") ? strdup(getenv("VH_HOOK_PREFIX")) : NULL;
                for (char *w = prefix ? strtok(prefix, " ") : NULL; w && n < 24; w = strtok(NULL, " "))
                        argv[n++] = w;
                const char *tail[] = { hook_path(), name, op, subop, "-", NULL };
                for (size_t i = 0; i < 6; i++)
                        argv[n++] = tail[i];
                if (prefix) {
                        char *path = NULL;
                        if (asprintf(&path, "PATH=%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin") < 0)
                                _exit(127);
                        envp[extra_env ? 2 : 1] = path;
                        char *envp2[] = { envp[0], envp[1], envp[2], NULL };
                        execvpe(argv[0], (char *const *)argv, envp2);
                } else {
                        execve(argv[0], (char *const *)argv, envp);
                }
                _exit(127);
        }
        close(in[0]);
        close(errp[1]);
        /* Feed stdin and collect stderr without deadlocking on big inputs. */
        const char *p = stdin_data ? stdin_data : "";
        size_t left = strlen(p);
        vh_buf err = { 0 };
        assert_int_equal(vh_buf_puts(&err, ""), 0);
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        sigaction(SIGPIPE, &ign, &old);
        int infd = in[1];
        if (left == 0) {
                close(infd);
                infd = -1;
        }
        for (;;) {
                struct pollfd fds[2] = { { errp[0], POLLIN, 0 }, { infd, POLLOUT, 0 } };
                if (poll(fds, infd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fail_msg("poll: %s", strerror(errno));
                }
                if (infd >= 0 && fds[1].revents) {
                        ssize_t n = write(infd, p, left > 65536 ? 65536 : left);
                        if (n < 0) {
                                close(infd);
                                infd = -1;
                        } else {
                                p += n;
                                left -= (size_t)n;
                                if (left == 0) {
                                        close(infd);
                                        infd = -1;
                                }
                        }
                }
                if (fds[0].revents) {
                        char buf[4096];
                        ssize_t n = read(errp[0], buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        assert_int_equal(vh_buf_append(&err, buf, (size_t)n), 0);
                }
        }
        if (infd >= 0)
                close(infd);
        close(errp[0]);
        sigaction(SIGPIPE, &old, NULL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(outfd);
        char *out = tu_slurp(outpath);
        unlink(outpath);
        if (ret_stdout)
                *ret_stdout = out;
        else
                free(out);
        if (ret_stderr)
                *ret_stderr = err.data;
        else
                free(err.data);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

char *tu_domain_xml(const char *name, const char *uuid, const char *const *pins, bool hugepages,
                    const char *policy)
{
        vh_buf b = { 0 };
        size_t nvcpu = 0;
        while (pins && pins[nvcpu])
                nvcpu++;
        assert_int_equal(vh_buf_printf(&b,
                                       "<domain type='kvm'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n"
                                       "  <memory unit='KiB'>1048576</memory>\n",
                                       name, uuid), 0);
        if (hugepages)
                assert_int_equal(vh_buf_puts(&b, "  <memoryBacking><hugepages><page size='2048' unit='KiB'/>"
                                                 "</hugepages></memoryBacking>\n"), 0);
        assert_int_equal(vh_buf_printf(&b, "  <vcpu placement='static'>%zu</vcpu>\n", nvcpu ? nvcpu : 1), 0);
        if (nvcpu) {
                assert_int_equal(vh_buf_puts(&b, "  <cputune>\n"), 0);
                for (size_t i = 0; i < nvcpu; i++)
                        assert_int_equal(vh_buf_printf(&b, "    <vcpupin vcpu='%zu' cpuset='%s'/>\n", i, pins[i]), 0);
                assert_int_equal(vh_buf_puts(&b, "  </cputune>\n"), 0);
        }
        if (policy)
                assert_int_equal(vh_buf_printf(&b,
                                               "  <metadata>\n    <vmhooks:policy xmlns:vmhooks=\"urn:vmhooks:policy:1\">%s"
                                               "</vmhooks:policy>\n  </metadata>\n",
                                               policy), 0);
        assert_int_equal(vh_buf_puts(&b, "  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>\n"
                                         "  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>\n"
                                         "</domain>\n"), 0);
        return b.data;
}

void tu_assert_contains_impl(const char *haystack, const char *needle, const char *file, int line)
{
        if (haystack && strstr(haystack, needle))
                return;
        print_error("expected to find\n  \"%s\"\nin\n  \"%s\"\n", needle, haystack ? haystack : "(null)");
        _fail(file, line);
}

const char *tu_tool(void)
{
        const char *t = getenv("VH_TOOL");
        return t && *t ? t : "build/vmhooks";
}

int tu_run_tool(const char *in_path, char **ret_out, char **ret_err, const char *const *args)
{
        char out_path[] = "/tmp/vmhooks-test-out.XXXXXX", err_path[] = "/tmp/vmhooks-test-err.XXXXXX";
        int of = mkostemp(out_path, O_CLOEXEC), ef = mkostemp(err_path, O_CLOEXEC);
        assert_true(of >= 0 && ef >= 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int in = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
                if (in < 0)
                        _exit(126);
                dup2(in, 0);
                dup2(of, 1);
                dup2(ef, 2);
                const char *argv[48];
                size_t n = 0;
                char *prefix = getenv("VH_HOOK_PREFIX") ? strdup(getenv("VH_HOOK_PREFIX")) : NULL;
                for (char *w = prefix ? strtok(prefix, " ") : NULL; w && n < 24; w = strtok(NULL, " "))
                        argv[n++] = w;
                argv[n++] = tu_tool();
                for (size_t i = 0; args[i] && n < 47; i++)
                        argv[n++] = args[i];
                argv[n] = NULL;
                execvp(argv[0], (char *const *)argv);
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
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
