/* spawn.c - child processes for the CLI: one runner per cell with a timeout, and captured
 * short commands (runner --info / --check, git).
 *
 * Invariants: every child runs in its own process group (a terminal's Ctrl-C reaches only
 * abench, which then ends the child itself); every child is reaped with wait4 before the call
 * returns, so its rusage is the child's own and no zombie is left behind.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hn_run.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
}

/* In the child: own process group, default signal handling, env's "NAME=VALUE" settings
 * (NULL: none) on top of the inherited environment, then exec. The CLI has one thread, so
 * changing the environment between fork and exec is safe. */
static void child_exec(char *const argv[], char *const env[])
{
    setpgid(0, 0);
    for (int i = 0; env && env[i]; i++)
        putenv(env[i]);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    fprintf(stderr, "abench: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Polls for the child's end; kills it at the deadline or on *stop. */
static void wait_child(pid_t pid, double timeout_s, volatile sig_atomic_t *stop, hn_proc_result *r)
{
    double t0 = now_s(), killed_at = 0;
    int status = 0, why = 0; /* why: 0 none, HN_PROC_TIMEOUT or HN_PROC_INTERRUPTED */
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &r->ru);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        double t = now_s();
        if (!why && ((timeout_s > 0 && t - t0 > timeout_s) || (stop && *stop))) {
            why = (stop && *stop) ? HN_PROC_INTERRUPTED : HN_PROC_TIMEOUT;
            kill(-pid, SIGTERM);
            kill(pid, SIGTERM);
            killed_at = t;
        } else if (why && killed_at > 0 && t - killed_at > 1.0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            killed_at = -1; /* sent */
        }
        nap_ms(t - t0 < 0.2 ? 2 : 10);
    }
    r->wall_s = now_s() - t0;
    if (why) {
        r->end = (hn_proc_end)why;
    } else if (WIFSIGNALED(status)) {
        r->end = HN_PROC_SIGNALED;
        r->sig = WTERMSIG(status);
    } else {
        r->end = HN_PROC_EXITED;
        r->exit_code = WEXITSTATUS(status);
    }
}

int hn_spawn(char *const argv[], const char *out_path, double timeout_s,
             volatile sig_atomic_t *stop, hn_proc_result *r)
{
    return hn_spawn_env(argv, NULL, out_path, timeout_s, stop, r);
}

int hn_spawn_env(char *const argv[], char *const env[], const char *out_path, double timeout_s,
                 volatile sig_atomic_t *stop, hn_proc_result *r)
{
    memset(r, 0, sizeof *r);
    int fd =
        open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        r->end = HN_PROC_SPAWN_FAILED;
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        r->end = HN_PROC_SPAWN_FAILED;
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        child_exec(argv, env);
    }
    close(fd);
    setpgid(pid, pid); /* also from the parent, so a kill before exec reaches the group */
    wait_child(pid, timeout_s, stop, r);
    return 0;
}

/* ---- Captured commands ---- */

/* Appends what fd has to *buf (grown with realloc); 0 at EOF, 1 when more may come. */
static int drain(int fd, char **buf, size_t *len, size_t *cap)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (n == 0) return 0;
    if (*len + (size_t)n + 1 > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 8192) + (size_t)n;
        char *nb = realloc(*buf, ncap);
        if (!nb) return 0;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, tmp, (size_t)n);
    *len += (size_t)n;
    (*buf)[*len] = '\0';
    return 1;
}

static void last_line(const char *s, char *out, size_t outlen)
{
    const char *end = s + strlen(s);
    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(out, outlen, "%.*s", (int)(end - start), start);
}

int hn_capture(char *const argv[], double timeout_s, char **out, char *errline, size_t errlen)
{
    return hn_capture_env(argv, NULL, timeout_s, out, errline, errlen);
}

int hn_capture_env(char *const argv[], char *const env[], double timeout_s, char **out,
                   char *errline, size_t errlen)
{
    int po[2], pe[2];
    *out = NULL;
    if (errlen) errline[0] = '\0';
    if (pipe2(po, O_CLOEXEC) != 0) return -1;
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        snprintf(errline, errlen, "fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        child_exec(argv, env);
    }
    close(po[1]);
    close(pe[1]);
    char *ob = NULL, *eb = NULL;
    size_t ol = 0, oc = 0, el = 0, ec = 0;
    int open_o = 1, open_e = 1;
    double t0 = now_s();
    while (open_o || open_e) {
        struct pollfd pf[2] = {{open_o ? po[0] : -1, POLLIN, 0}, {open_e ? pe[0] : -1, POLLIN, 0}};
        int n = poll(pf, 2, 100);
        if (n < 0 && errno != EINTR) break;
        if (pf[0].revents) open_o = drain(po[0], &ob, &ol, &oc);
        if (pf[1].revents) open_e = drain(pe[0], &eb, &el, &ec);
        if (timeout_s > 0 && now_s() - t0 > timeout_s) break;
    }
    close(po[0]);
    close(pe[0]);
    hn_proc_result r;
    memset(&r, 0, sizeof r);
    double rem = timeout_s > 0 ? timeout_s - (now_s() - t0) : 0;
    if (timeout_s > 0 && rem < 0.01) rem = 0.01;
    wait_child(pid, rem, NULL, &r);
    if (eb) last_line(eb, errline, errlen);
    free(eb);
    *out = ob ? ob : strdup("");
    if (r.end == HN_PROC_EXITED) return r.exit_code;
    if (r.end == HN_PROC_SIGNALED)
        snprintf(errline, errlen, "%s killed by signal %d (%s)", argv[0], r.sig, strsignal(r.sig));
    else
        snprintf(errline, errlen, "%s did not answer within %.0f s", argv[0], timeout_s);
    return -1;
}
