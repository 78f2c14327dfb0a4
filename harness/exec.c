/* exec.c - `abench exec`: a real program under each backend through LD_PRELOAD, timed by
 * hyperfine, ingested into the results schema (workload "exec:<command>"), with a table.
 *
 * Per backend, in order:
 *  1. preload check: the command runs once with LD_PRELOAD and LD_DEBUG=bindings written to
 *     files (LD_DEBUG_OUTPUT); every binding of malloc/calloc/realloc/free in every process
 *     must go to the preloaded library (sys: to libc.so.6), and there must be at least one.
 *     This sees what the dynamic linker really did in the real program: a static or setuid
 *     binary (preload ignored, no debug output), a library that failed to load, or a symbol
 *     resolved elsewhere all fail it. A backend that fails is reported, never timed.
 *  2. hyperfine -N --runs N --export-json runs `abench exec --wrap FILE LIB -- COMMAND`: the
 *     wrapper sets LD_PRELOAD for the command only, waits for it with wait4 and appends its
 *     rusage (peak RSS, faults, user/sys time) to FILE, so every timed run has its own RSS.
 *     The wrapper's fork+exec costs the same for every backend.
 * Invariants: abench itself never runs with a preload (LD_PRELOAD is removed from its
 * environment first); rows are written only for runs hyperfine timed; boehm is "na" (Debian's
 * libgc does not replace malloc).
 */
#include "hn.h"
#include "hn_results.h"
#include "hn_run.h"
#include "hn_stats.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <gnu/libc-version.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BACKENDS 16

/* ---- Backends and their preload libraries ---- */

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#else
#define MULTIARCH "unknown-linux-gnu"
#endif

static const char *const lib_dirs[] = {"/usr/lib/" MULTIARCH, "/lib/" MULTIARCH, "/usr/lib64",
                                       "/usr/lib", "/usr/local/lib"};

static const struct backend {
    const char *name, *soname; /* soname NULL: no preload (sys) */
    const char *na;            /* non-NULL: cannot be preloaded, and why */
} backends[] = {
    {"sys", NULL, NULL},
    {"goalloc", "libgoalloc-malloc.so", NULL},
    {"jemalloc", "libjemalloc.so.2", NULL},
    {"mimalloc", "libmimalloc.so.2", NULL},
    {"tcmalloc", "libtcmalloc_minimal.so.4", NULL},
    {"boehm", NULL, "Debian's libgc does not redirect malloc, so it cannot be preloaded"},
};

static const struct backend *find_backend(const char *name)
{
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if (strcmp(backends[i].name, name) == 0) return &backends[i];
    return NULL;
}

/* Absolute path of the backend's library into buf: goalloc's from the build (bin/../lib),
 * the others from the system library folders. 0, or -1 when not found. */
static int find_library(const struct backend *b, char *buf, size_t len)
{
    char cand[PATH_MAX];
    if (strcmp(b->name, "goalloc") == 0) {
        /* the build tree and most installs: bin/../lib; Debian-style /usr installs put
         * libraries under lib/<multiarch> */
        static const char *const rel[] = {"../lib", ("../lib/" MULTIARCH), "../lib64"};
        for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
            snprintf(cand, sizeof cand, "%s/%s/%s", hn_bindir(), rel[i], b->soname);
            if (len >= PATH_MAX && realpath(cand, buf)) return 0;
        }
        return -1;
    }
    for (size_t i = 0; i < sizeof lib_dirs / sizeof *lib_dirs; i++) {
        snprintf(cand, sizeof cand, "%s/%s", lib_dirs[i], b->soname);
        if (access(cand, R_OK) == 0) {
            snprintf(buf, len, "%s", cand);
            return 0;
        }
    }
    return -1;
}

/* ---- The wrapper run by hyperfine ---- */

/* abench exec --wrap FILE LIB|- -- COMMAND...: runs COMMAND with LD_PRELOAD=LIB (none for -),
 * appends "maxrss_kib minflt majflt user_s sys_s status" to FILE, exits like the command. */
static int wrap(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[3], "--") != 0) return 2;
    const char *file = argv[1], *lib = argv[2];
    pid_t pid = fork();
    if (pid < 0) return 126;
    if (pid == 0) {
        if (strcmp(lib, "-") != 0)
            setenv("LD_PRELOAD", lib, 1);
        else
            unsetenv("LD_PRELOAD");
        execvp(argv[4], argv + 4);
        fprintf(stderr, "abench exec: cannot run %s: %s\n", argv[4], strerror(errno));
        _exit(127);
    }
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR) return 126;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    FILE *f = fopen(file, "a");
    if (f) {
        fprintf(f, "%ld %ld %ld %.6f %.6f %d\n", ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt,
                (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, code);
        fclose(f);
    }
    return code;
}

/* ---- Preload check ---- */

/* Scans every LD_DEBUG output file <dir>/ld.* for malloc-family bindings. Returns 0 when
 * there is at least one and all bind to `want` (a path, or a basename for sys), else -1 with
 * the reason in why. */
static int check_bindings(const char *dir, const char *want, char *why, size_t whylen)
{
    static const char *const syms[] = {"`malloc'", "`calloc'", "`realloc'", "`free'"};
    DIR *d = opendir(dir);
    size_t good = 0, bad = 0;
    char badline[512] = "";
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "ld.", 3) != 0) continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        char line[2048];
        while (f && fgets(line, sizeof line, f)) {
            const char *sym = NULL;
            for (size_t i = 0; i < 4 && !sym; i++)
                if (strstr(line, syms[i]) && strstr(line, "normal symbol")) sym = syms[i];
            const char *to = strstr(line, " to ");
            if (!sym || !to) continue;
            to += 4;
            const char *end = strstr(to, " [");
            size_t tl = end ? (size_t)(end - to) : strlen(to);
            const char *base = to;
            for (size_t k = 0; k < tl; k++)
                if (to[k] == '/') base = to + k + 1;
            size_t bl = tl - (size_t)(base - to);
            /* A non-PIE program that takes the address of free/malloc owns the canonical
             * PLT entry: libraries bind to the program, whose own binding (checked like any
             * other) says where the calls really go. */
            int is_lib = 0;
            for (size_t k = 0; k + 3 <= bl; k++)
                is_lib |= memcmp(base + k, ".so", 3) == 0;
            if (!is_lib) continue;
            int ok = want[0] == '/' ? (strlen(want) == tl && memcmp(to, want, tl) == 0)
                                    : (strlen(want) == bl && memcmp(base, want, bl) == 0);
            if (ok) {
                good++;
            } else {
                bad++;
                if (!*badline)
                    snprintf(badline, sizeof badline, "%s bound to %.*s", sym, (int)tl, to);
            }
        }
        if (f) fclose(f);
    }
    if (d) closedir(d);
    if (bad) {
        snprintf(why, whylen, "%.500s (not %.400s)", badline, want);
        return -1;
    }
    if (!good) {
        snprintf(why, whylen,
                 "the dynamic linker reported no malloc binding (static or setuid "
                 "program?)");
        return -1;
    }
    snprintf(why, whylen, "%zu malloc-family bindings, all to %.700s", good, want);
    return 0;
}

/* Runs the command once under the preload with LD_DEBUG=bindings into a fresh folder. */
static int preload_check(const char *workdir, const char *lib, char **cmd, double timeout,
                         char *why, size_t whylen)
{
    char dir[PATH_MAX], out[PATH_MAX + 32], dbg[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%.3500s/lddebug", workdir);
    if (hn_mkdir_p(dir) != 0) {
        snprintf(why, whylen, "cannot create %.600s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(out, sizeof out, "%s/check_output.txt", workdir);
    snprintf(dbg, sizeof dbg, "%s/ld", dir);
    setenv("LD_DEBUG", "bindings", 1);
    setenv("LD_DEBUG_OUTPUT", dbg, 1);
    if (lib) setenv("LD_PRELOAD", lib, 1);
    hn_proc_result r;
    int rc = hn_spawn(cmd, out, timeout, NULL, &r);
    unsetenv("LD_DEBUG");
    unsetenv("LD_DEBUG_OUTPUT");
    unsetenv("LD_PRELOAD");
    if (rc != 0 || r.end != HN_PROC_EXITED) {
        snprintf(why, whylen, "the command did not run to completion under the preload%s",
                 r.end == HN_PROC_TIMEOUT ? " (timed out)" : "");
        return -1;
    }
    return check_bindings(dir, lib ? lib : "libc.so.6", why, whylen);
}

/* ---- Timing with hyperfine ---- */

/* Absolute path of an executable found on PATH. 0, or -1. */
static int find_in_path(const char *name, char *buf, size_t len)
{
    const char *path = getenv("PATH");
    char copy[8192];
    snprintf(copy, sizeof copy, "%s", path && *path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, len, "%s/%s", d, name);
        if (access(buf, X_OK) == 0) return 0;
    }
    return -1;
}

/* Appends s to buf single-quoted for hyperfine's shell-words splitting. */
static void quote_into(char *buf, size_t len, const char *s)
{
    size_t l = strlen(buf);
    if (l + 1 < len) buf[l++] = '\'';
    for (; *s && l + 5 < len; s++) {
        if (*s == '\'') {
            memcpy(buf + l, "'\\''", 4);
            l += 4;
        } else {
            buf[l++] = *s;
        }
    }
    if (l + 2 < len) buf[l++] = '\'';
    buf[l++] = ' ';
    buf[l] = 0;
}

typedef struct timing {
    size_t n;
    double *wall;    /* per run, from hyperfine */
    int *exit_code;  /* per run, from hyperfine */
    double (*ru)[6]; /* per run, from the wrapper: maxrss KiB, minflt, majflt, user, sys */
    int has_ru;
} timing;

static void timing_free(timing *t)
{
    free(t->wall);
    free(t->exit_code);
    free(t->ru);
}

/* Reads the wrapper's rusage lines, skipping the warmup runs. */
static void read_rusage(const char *file, unsigned warmup, timing *t)
{
    FILE *f = fopen(file, "r");
    char line[512];
    size_t i = 0, k = 0;
    t->ru = calloc(t->n ? t->n : 1, sizeof *t->ru);
    while (f && t->ru && fgets(line, sizeof line, f)) {
        double v[6];
        if (sscanf(line, "%lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
            continue;
        if (i++ < warmup || k >= t->n) continue;
        memcpy(t->ru[k++], v, sizeof v);
    }
    if (f) fclose(f);
    t->has_ru = k == t->n;
}

static int run_hyperfine(const char *workdir, const char *lib, char **cmd, unsigned runs,
                         unsigned warmup, double timeout, timing *t, char *why, size_t whylen)
{
    char json[PATH_MAX + 32], ru[PATH_MAX + 32], log[PATH_MAX + 32], self[PATH_MAX + 8];
    char command[16384] = "", nruns[32], nwarm[32];
    snprintf(json, sizeof json, "%s/hyperfine.json", workdir);
    snprintf(ru, sizeof ru, "%s/rusage.txt", workdir);
    snprintf(log, sizeof log, "%s/hyperfine.txt", workdir);
    snprintf(self, sizeof self, "%s/abench", hn_bindir());
    unlink(ru);
    const char *pre[] = {self, "exec", "--wrap", ru, lib ? lib : "-", "--"};
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++)
        quote_into(command, sizeof command, pre[i]);
    for (char **a = cmd; *a; a++)
        quote_into(command, sizeof command, *a);
    snprintf(nruns, sizeof nruns, "%u", runs);
    snprintf(nwarm, sizeof nwarm, "%u", warmup);
    char *argv[] = {"hyperfine", "-N",    "-i",       "--style", "basic",
                    "--runs",    nruns,   "--warmup", nwarm,     "--export-json",
                    json,        command, NULL};
    char hf[PATH_MAX];
    if (find_in_path("hyperfine", hf, sizeof hf) != 0) {
        snprintf(why, whylen, "hyperfine is not installed (Debian package hyperfine)");
        return -1;
    }
    argv[0] = hf;
    hn_proc_result r;
    if (hn_spawn(argv, log, timeout, NULL, &r) != 0 || r.end != HN_PROC_EXITED ||
        r.exit_code != 0) {
        snprintf(why, whylen, "hyperfine failed (see %.900s)", log);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_load_file(json, 0, &jerr);
    json_t *res = json_array_get(json_object_get(root, "results"), 0);
    json_t *times = json_object_get(res, "times"), *codes = json_object_get(res, "exit_codes");
    if (!json_is_array(times) || json_array_size(times) == 0) {
        snprintf(why, whylen, "%.900s: no results[0].times array", json);
        json_decref(root);
        return -1;
    }
    t->n = json_array_size(times);
    t->wall = calloc(t->n, sizeof *t->wall);
    t->exit_code = calloc(t->n, sizeof *t->exit_code);
    for (size_t i = 0; i < t->n && t->wall && t->exit_code; i++) {
        t->wall[i] = json_number_value(json_array_get(times, i));
        json_t *c = json_array_get(codes, i);
        t->exit_code[i] = json_is_integer(c) ? (int)json_integer_value(c) : -1;
    }
    json_decref(root);
    read_rusage(ru, warmup, t);
    return 0;
}

/* ---- Options ---- */

typedef struct exec_opts {
    const char *allocs[MAX_BACKENDS];
    size_t nallocs;
    unsigned runs, warmup;
    double timeout;
    const char *out, *label;
    char **cmd;
    const char *shown0;
    int report; /* --report: abench report on the folder at the end */
} exec_opts;

static void exec_usage(FILE *f)
{
    fputs("usage: abench exec [--alloc a,b,c] [--runs N] [--warmup W] [--out DIR] [--label L]\n"
          "                   [--timeout SECS] [--report] -- COMMAND [ARGS...]\n"
          "Runs COMMAND under each backend through LD_PRELOAD (sys: none; goalloc: the build's\n"
          "lib/libgoalloc-malloc.so; jemalloc, mimalloc, tcmalloc: the Debian libraries), timed\n"
          "by hyperfine (default 10 runs, 1 warmup), peak RSS from wait4. A backend whose\n"
          "preload does not take (checked with LD_DEBUG=bindings) is refused. Writes a run\n"
          "folder (results/README.md) and prints a table. Default --alloc: "
          "sys,goalloc,jemalloc,mimalloc,tcmalloc.\n",
          f);
}

/* getopt_long over the options; options end at "--", then the command and the backend list
 * are checked before anything runs. 1: --help shown; -1: a usage error (reported); 0: ok. */
static int parse_exec_args(int argc, char **argv, exec_opts *o)
{
    static const struct option opts[] = {{"alloc", required_argument, NULL, 'A'},
                                         {"runs", required_argument, NULL, 'r'},
                                         {"warmup", required_argument, NULL, 'w'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"report", no_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static char alloc_buf[1024];
    memset(o, 0, sizeof *o);
    o->runs = 10;
    o->warmup = 1;
    o->label = "exec";
    const char *alloc = "sys,goalloc,jemalloc,mimalloc,tcmalloc";
    int c;
    /* "+": stop at the first non-option, so the command's own flags are never taken */
    while ((c = hn_getopt("exec", argc, argv, "+:h", opts)) != -1) {
        char *end;
        switch (c) {
        case 'h':
            exec_usage(stdout);
            return 1;
        case 'R':
            o->report = 1;
            break;
        case 'A':
            alloc = optarg;
            break;
        case 'r':
        case 'w': {
            unsigned long n = strtoul(optarg, &end, 10);
            int runs = c == 'r';
            if (!*optarg || *end || optarg[0] == '-' || n > 100000 || (runs && n < 2)) {
                hn_error("exec", "--%s: '%s' is not a count (%s)", runs ? "runs" : "warmup", optarg,
                         runs ? ">= 2" : ">= 0");
                return -1;
            }
            *(runs ? &o->runs : &o->warmup) = (unsigned)n;
            break;
        }
        case 't':
            o->timeout = strtod(optarg, &end);
            if (!*optarg || *end || !(o->timeout > 0)) {
                hn_error("exec", "--timeout: '%s' is not a positive number of seconds", optarg);
                return -1;
            }
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'l':
            o->label = optarg;
            break;
        default:
            return -1;
        }
    }
    int i = optind;
    if (i < argc && strcmp(argv[i - 1], "--") != 0) {
        hn_error("exec", "'%s': the command must follow -- (abench exec [options] -- COMMAND)",
                 argv[i]);
        return -1;
    }
    if (i >= argc) {
        hn_error("exec", "no command: abench exec [options] -- COMMAND [ARGS...]");
        return -1;
    }
    o->cmd = argv + i;
    static char prog[PATH_MAX];
    if (strchr(o->cmd[0], '/') ? access(o->cmd[0], X_OK) != 0
                               : find_in_path(o->cmd[0], prog, sizeof prog) != 0) {
        hn_error("exec", "'%s': no such executable%s", o->cmd[0],
                 strchr(o->cmd[0], '/') ? "" : " on PATH");
        return -1;
    }
    o->shown0 = o->cmd[0]; /* the command as typed names the workload */
    if (!strchr(o->cmd[0], '/'))
        o->cmd[0] = prog; /* the runner of the check (hn_spawn) does not search PATH */
    snprintf(alloc_buf, sizeof alloc_buf, "%s", alloc);
    for (char *save = NULL, *tok = strtok_r(alloc_buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!find_backend(tok)) {
            hn_error("exec",
                     "--alloc: unknown backend '%s' (sys goalloc jemalloc mimalloc "
                     "tcmalloc boehm)",
                     tok);
            return -1;
        }
        if (o->nallocs == MAX_BACKENDS) {
            hn_error("exec", "--alloc: too many backends");
            return -1;
        }
        o->allocs[o->nallocs++] = tok;
    }
    if (o->nallocs == 0) {
        hn_error("exec", "--alloc: empty list");
        return -1;
    }
    return 0;
}

/* ---- The command ---- */

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[PATH_MAX + 300];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static json_t *str_array(char **items)
{
    json_t *a = json_array();
    for (; *items; items++)
        json_array_append_new(a, json_string(*items));
    return a;
}

/* Appends one word to buf as a POSIX shell would need it: bare when it holds only safe
 * characters, else single-quoted ('\'' for a quote), so the printed command can be pasted. */
static void shell_word(char *buf, size_t len, const char *w)
{
    size_t l = strlen(buf);
    int safe = *w != 0;
    for (const char *p = w; *p && safe; p++)
        safe = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-",
                      *p) != NULL;
    if (safe) {
        snprintf(buf + l, len - l, "%s", w);
        return;
    }
    if (l + 1 < len) buf[l++] = '\'';
    for (; *w && l + 5 < len; w++) {
        if (*w == '\'') {
            memcpy(buf + l, "'\\''", 4);
            l += 4;
        } else {
            buf[l++] = *w;
        }
    }
    if (l + 1 < len) buf[l++] = '\'';
    buf[l] = 0;
}

/* The command as a shell line: each word quoted when it needs it. */
static void command_text(const char *first, char **cmd, char *buf, size_t len)
{
    buf[0] = 0;
    shell_word(buf, len, first);
    for (char **a = cmd + 1; *a; a++) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, " ");
        shell_word(buf, len, *a);
    }
}

static json_t *base_row(const char *alloc, const char *version, const char *workload, int rep)
{
    char id[256];
    snprintf(id, sizeof id, rep >= 0 ? "exec_%s_r%d" : "exec_%s", alloc, rep);
    json_t *r = json_object();
    json_object_set_new(r, "schema", json_integer(HN_RESULTS_SCHEMA));
    json_object_set_new(r, "cell_id", json_string(id));
    json_object_set_new(r, "alloc", json_string(alloc));
    if (version) json_object_set_new(r, "alloc_version", json_string(version));
    json_object_set_new(r, "workload", json_string(workload));
    json_object_set_new(r, "params", json_object());
    if (rep >= 0) json_object_set_new(r, "rep", json_integer(rep));
    return r;
}

/* One table line per backend. */
typedef struct line {
    char alloc[32], preload[32], n[24], med[32], range[48], user[24], sys[24], rss[24], exit[24];
    int timed;       /* every run exited 0: takes part in the ranking */
    double mean, sd; /* wall seconds over the timed runs */
} line;

static void print_table(const line *l, size_t n)
{
    printf("%-9s %-10s %4s %12s %22s %9s %9s %11s %s\n", "alloc", "preload", "n", "median wall",
           "min..max", "user", "sys", "peak RSS", "exit");
    for (size_t i = 0; i < n; i++)
        printf("%-9s %-10s %4s %12s %22s %9s %9s %11s %s\n", l[i].alloc, l[i].preload, l[i].n,
               l[i].med, l[i].range, l[i].user, l[i].sys, l[i].rss, l[i].exit);
}

/* hyperfine's summary: the fastest backend by mean wall time, and how many times faster it
 * ran than each other one, with the ratio's standard deviation propagated from both sides'
 * relative standard deviations. */
static void print_ranking(const line *l, size_t n)
{
    size_t idx[MAX_BACKENDS], k = 0;
    for (size_t i = 0; i < n; i++)
        if (l[i].timed && l[i].mean > 0) idx[k++] = i;
    if (k < 2) return;
    for (size_t i = 1; i < k; i++) /* insertion sort by mean, fastest first */
        for (size_t j = i; j > 0 && l[idx[j]].mean < l[idx[j - 1]].mean; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    const line *f = &l[idx[0]];
    printf("\nSummary (mean wall time)\n  %s ran\n", f->alloc);
    for (size_t i = 1; i < k; i++) {
        const line *s = &l[idx[i]];
        double r = s->mean / f->mean;
        double e = r * sqrt(pow(s->sd / s->mean, 2) + pow(f->sd / f->mean, 2));
        printf("    %.2f ± %.2f times faster than %s\n", r, e, s->alloc);
    }
}

static double med_of(const timing *t, int col)
{
    double *v = calloc(t->n, sizeof *v);
    for (size_t i = 0; v && i < t->n; i++)
        v[i] = col < 0 ? t->wall[i] : t->ru[i][col];
    double m = v ? hn_median(v, t->n) : NAN;
    free(v);
    return m;
}

/* Measures one backend; appends its rows; fills its table line. Returns 0 or HN_EXIT_FAIL. */
static int one_backend(const exec_opts *o, const char *dir, const char *workload,
                       const struct backend *b, json_t *rows, json_t *versions, line *ln)
{
    char lib[PATH_MAX] = "", version[PATH_MAX + 64], why[1024], cdir[PATH_MAX];
    memset(ln, 0, sizeof *ln);
    snprintf(ln->alloc, sizeof ln->alloc, "%s", b->name);
    snprintf(ln->preload, sizeof ln->preload, "-");
    if (b->na) {
        json_t *r = base_row(b->name, NULL, workload, -1);
        json_object_set_new(r, "status", json_string("na"));
        json_object_set_new(r, "error", json_string(b->na));
        json_array_append_new(rows, r);
        snprintf(ln->preload, sizeof ln->preload, "n/a");
        printf("abench exec: %s: n/a: %s\n", b->name, b->na);
        return 0;
    }
    if (b->soname && find_library(b, lib, sizeof lib) != 0) {
        snprintf(why, sizeof why, "%s not found%s", b->soname,
                 strcmp(b->name, "goalloc") == 0 ? " in the build's lib/ (build the goalloc "
                                                   "preload library)"
                                                 : " (install its Debian package)");
        json_t *r = base_row(b->name, NULL, workload, -1);
        json_object_set_new(r, "status", json_string("error"));
        json_object_set_new(r, "error", json_string(why));
        json_array_append_new(rows, r);
        snprintf(ln->preload, sizeof ln->preload, "missing");
        hn_error("exec", "%s: %s", b->name, why);
        return HN_EXIT_FAIL;
    }
    if (b->soname) {
        char real[PATH_MAX];
        const char *p = realpath(lib, real) ? real : lib;
        const char *base = strrchr(p, '/');
        snprintf(version, sizeof version, "%s", base ? base + 1 : p);
    } else {
        snprintf(version, sizeof version, "glibc %s", gnu_get_libc_version());
    }
    json_object_set_new(versions, b->name, json_string(version));
    snprintf(cdir, sizeof cdir, "%.3000s/cells/exec_%.32s", dir, b->name);
    if (hn_mkdir_p(cdir) != 0) {
        hn_error("exec", "cannot create %s: %s", cdir, strerror(errno));
        return HN_EXIT_FAIL;
    }
    int ok = preload_check(cdir, b->soname ? lib : NULL, o->cmd, o->timeout, why, sizeof why) == 0;
    char lddir[PATH_MAX + 16], note[PATH_MAX + 64];
    snprintf(lddir, sizeof lddir, "%s/lddebug", cdir);
    remove_tree(lddir); /* the LD_DEBUG logs are large; the verdict is kept instead */
    snprintf(note, sizeof note, "%s/preload_check.txt", cdir);
    FILE *nf = fopen(note, "w");
    if (nf) {
        fprintf(nf, "%s: %s\n", ok ? "ok" : "FAILED", why);
        fclose(nf);
    }
    if (!ok) {
        char msg[1200];
        snprintf(msg, sizeof msg, "preload did not take: %s", why);
        json_t *r = base_row(b->name, version, workload, -1);
        json_object_set_new(r, "status", json_string("error"));
        json_object_set_new(r, "error", json_string(msg));
        json_array_append_new(rows, r);
        snprintf(ln->preload, sizeof ln->preload, "REFUSED");
        hn_error("exec", "%s: %s: not timed", b->name, msg);
        return HN_EXIT_FAIL;
    }
    snprintf(ln->preload, sizeof ln->preload, b->soname ? "verified" : "none (libc)");
    timing t = {0};
    if (run_hyperfine(cdir, b->soname ? lib : NULL, o->cmd, o->runs, o->warmup, o->timeout, &t, why,
                      sizeof why) != 0) {
        json_t *r = base_row(b->name, version, workload, -1);
        json_object_set_new(r, "status", json_string("error"));
        json_object_set_new(r, "error", json_string(why));
        json_array_append_new(rows, r);
        hn_error("exec", "%s: %s", b->name, why);
        timing_free(&t);
        return HN_EXIT_FAIL;
    }
    int failed = 0;
    for (size_t i = 0; i < t.n; i++) {
        json_t *r = base_row(b->name, version, workload, (int)i);
        json_object_set_new(r, "status", json_string(t.exit_code[i] == 0 ? "ok" : "error"));
        json_object_set_new(r, "exit_code", json_integer(t.exit_code[i]));
        if (t.exit_code[i] != 0) {
            json_object_set_new(r, "error", json_string("the command exited non-zero"));
            failed = 1;
        }
        json_object_set_new(r, "wall_s", json_real(t.wall[i]));
        if (t.has_ru) {
            json_object_set_new(r, "user_s", json_real(t.ru[i][3]));
            json_object_set_new(r, "sys_s", json_real(t.ru[i][4]));
            json_object_set_new(r, "peak_rss_bytes", json_integer((json_int_t)t.ru[i][0] * 1024));
            json_object_set_new(r, "minflt", json_integer((json_int_t)t.ru[i][1]));
            json_object_set_new(r, "majflt", json_integer((json_int_t)t.ru[i][2]));
        }
        json_object_set_new(r, "preload", json_string(b->soname ? lib : ""));
        json_object_set_new(r, "timed_by", json_string("hyperfine"));
        json_array_append_new(rows, r);
    }
    double lo = t.wall[0], hi = t.wall[0];
    for (size_t i = 1; i < t.n; i++) {
        lo = fmin(lo, t.wall[i]);
        hi = fmax(hi, t.wall[i]);
    }
    double sum = 0, sq = 0;
    for (size_t i = 0; i < t.n; i++)
        sum += t.wall[i];
    ln->mean = sum / (double)t.n;
    for (size_t i = 0; i < t.n; i++)
        sq += (t.wall[i] - ln->mean) * (t.wall[i] - ln->mean);
    ln->sd = t.n > 1 ? sqrt(sq / (double)(t.n - 1)) : 0;
    ln->timed = !failed;
    snprintf(ln->n, sizeof ln->n, "%zu", t.n);
    snprintf(ln->med, sizeof ln->med, "%.1f ms", med_of(&t, -1) * 1e3);
    snprintf(ln->range, sizeof ln->range, "%.1f..%.1f ms", lo * 1e3, hi * 1e3);
    if (t.has_ru) {
        snprintf(ln->user, sizeof ln->user, "%.1f ms", med_of(&t, 3) * 1e3);
        snprintf(ln->sys, sizeof ln->sys, "%.1f ms", med_of(&t, 4) * 1e3);
        snprintf(ln->rss, sizeof ln->rss, "%.1f MiB", med_of(&t, 0) / 1024);
    } else {
        snprintf(ln->user, sizeof ln->user, "-");
        snprintf(ln->sys, sizeof ln->sys, "-");
        snprintf(ln->rss, sizeof ln->rss, "-");
    }
    snprintf(ln->exit, sizeof ln->exit, "%s", failed ? "non-zero!" : "0");
    timing_free(&t);
    return failed ? HN_EXIT_FAIL : 0;
}

static int make_out_dir(const exec_opts *o, char *dir, size_t len)
{
    if (o->out) {
        snprintf(dir, len, "%s", o->out);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(dir, len, "results/%s_%s_%s", stamp, hn_hostname(), o->label);
    }
    char runs[PATH_MAX + 16];
    snprintf(runs, sizeof runs, "%s/runs.jsonl", dir);
    if (access(runs, F_OK) == 0) {
        hn_error("exec", "%s already holds a run (choose another --out)", dir);
        return -1;
    }
    if (hn_mkdir_p(dir) != 0) {
        hn_error("exec", "cannot create %.600s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int hn_cmd_exec(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--wrap") == 0) return wrap(argc - 1, argv + 1);
    exec_opts o;
    int prc = parse_exec_args(argc, argv, &o);
    if (prc) return prc > 0 ? HN_EXIT_OK : HN_EXIT_EX_USAGE;
    if (hn_check_go_env("exec") != HN_EXIT_OK) return HN_EXIT_EX_USAGE;
    for (size_t i = 0; i < o.nallocs; i++)
        if (hn_backend_config_check("exec", o.allocs[i]) != 0) return HN_EXIT_EX_USAGE;
    unsetenv("LD_PRELOAD"); /* abench and hyperfine run without any preload */
    char dir[PATH_MAX], started[64], finished[64], cmdtext[4096], workload[4200];
    if (make_out_dir(&o, dir, sizeof dir) != 0) return HN_EXIT_EX_USAGE;
    command_text(o.shown0, o.cmd, cmdtext, sizeof cmdtext);
    snprintf(workload, sizeof workload, "exec:%s", cmdtext);
    hn_iso_now(started, sizeof started);
    json_t *rows = json_array(), *versions = json_object(), *meta = json_object();
    line lines[MAX_BACKENDS];
    int rc = HN_EXIT_OK, written = 1;
    for (size_t i = 0; i < o.nallocs; i++) {
        fprintf(stderr, "abench exec: %s (%zu/%zu)...\n", o.allocs[i], i + 1, o.nallocs);
        int r =
            one_backend(&o, dir, workload, find_backend(o.allocs[i]), rows, versions, &lines[i]);
        if (r > rc) rc = r;
        hn_write_runs(dir, rows); /* an interrupted exec keeps every finished backend */
    }
    hn_sysinfo_fill(meta);
    json_object_set_new(meta, "schema", json_integer(HN_RESULTS_SCHEMA));
    json_t *command = str_array(argv); /* argv[0] is "exec" */
    json_array_insert_new(command, 0, json_string("abench"));
    json_object_set_new(meta, "command", command);
    json_object_set_new(meta, "started", json_string(started));
    json_object_set_new(meta, "finished", json_string(hn_iso_now(finished, sizeof finished)));
    json_object_set_new(meta, "allocators", versions);
    json_t *matrix = json_object();
    json_t *al = json_array();
    for (size_t i = 0; i < o.nallocs; i++)
        json_array_append_new(al, json_string(o.allocs[i]));
    json_object_set_new(matrix, "alloc", al);
    json_object_set_new(matrix, "runs", json_integer(o.runs));
    json_object_set_new(matrix, "warmup", json_integer(o.warmup));
    json_object_set_new(matrix, "exec_command", str_array(o.cmd));
    json_object_set_new(meta, "matrix", matrix);
    if (hn_write_meta(dir, meta) != 0 || hn_write_runs(dir, rows) != 0) {
        hn_error("exec", "cannot write the results in %s: %s", dir, strerror(errno));
        rc = HN_EXIT_FAIL;
        written = 0;
    }
    json_decref(meta);
    json_decref(rows);
    printf("\nabench exec: %s  (hyperfine, %u runs + %u warmup; medians; RSS from wait4)\n",
           cmdtext, o.runs, o.warmup);
    print_table(lines, o.nallocs);
    printf("results in %s\n", dir);
    print_ranking(lines, o.nallocs);
    if (o.report && written) {
        int rrc = hn_report_run(dir, NULL);
        if (rrc > rc) rc = rrc;
    }
    return rc;
}
