/* run.c - `abench run`: expands the run matrix, runs one runner process per cell, records every
 * cell in the run folder (results/README.md), and prints a summary table.
 *
 * Matrix: allocators x variants (a workload with one combination of --param values, or one line
 * of a suite) x threads x reps. Order: reps outermost, allocators innermost, so cells of
 * different allocators interleave (A B C A B C) and drift in the machine hits all alike.
 * Everything is validated before the first cell runs (unknown backend, workload, flag or
 * parameter: one line naming it, exit 2); each variant's parameters are checked by a runner
 * (`--check`), which also resolves their defaults.
 *
 * Invariants: runs.jsonl/runs.csv hold exactly the finished cells, rewritten after each one;
 * a crash, timeout, error or n/a cell is recorded and the matrix goes on; SIGINT/SIGTERM ends
 * the running cell (not recorded) and exits 130 with every finished cell kept.
 */
#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hn.h"
#include "hn_run.h"
#include "runner/hn_runner.h"

#define MAX_LIST 64
#define MAX_KV 24

/* ---- The default suite: one line per workload family (short cells, 2 cores) ----
 * A workload missing from this build is skipped with a note; a new family is one line. */
typedef struct suite_line {
    const char *workload;
    const char *params; /* space-separated name=value */
    const char *threads;
} suite_line;

static const suite_line default_suite[] = {
    {"churn", "ops=2000000", "1,2"},
    {"churn", "dist=golike ops=1000000", "1"},
    {"larson", "steps=100000 rounds=4", "2"},
    {"prodcons", "batches=200", "2"},
    {"threadchurn", "rounds=50", "2"},
    {"fragment", "count=100000", "1"},
    {"fragment", "pattern=robson budget=4M rounds=1", "1"},
    {"burst", "live=4M steady_ops=100000 spike_ops=100000 cycles=1", "1"},
    {"large", "steps=20", "1"},
    {"realloc", "steps=30000 max=256K", "1"},
    {"tiny", "ops=2000000", "1"},
    {"cachescratch", "iterations=20000", "2"},
    {"request", "requests=5000", "1"},
    {"request", "variant=arena requests=5000", "1"},
    {"request", "variant=gc requests=5000", "1"},
    {"binarytrees", "depth=14", "1"},
    {"churn-gc", "ops=500000", "1"},
    {"burst-gc", "steady=4MiB phase_ops=100000", "1"},
    {NULL, NULL, NULL},
};

/* ---- Options and matrix ---- */

typedef struct variant {
    const char *workload;
    char *kv[MAX_KV]; /* "name=value" given for this variant */
    int nkv;
    unsigned threads[MAX_LIST];
    int nthreads;
    json_t *params; /* resolved by the runner's --check: every parameter, name -> text */
} variant;

typedef struct run_opts {
    char *allocs[MAX_LIST];
    int nallocs;
    char *workloads[MAX_LIST];
    int nworkloads;
    unsigned threads[MAX_LIST];
    int nthreads;
    struct {
        char name[64];
        char *values[MAX_LIST];
        int nvalues;
    } params[MAX_KV];
    int nparams;
    unsigned reps;
    unsigned long long seed;
    double timeout;
    const char *out, *label, *suite, *baseline;
    int report, dry_run;
    const char *sample_mean, *sampler_ms, *settle_ms; /* passed through to runners */
} run_opts;

typedef struct cell {
    unsigned idx, rep, threads;
    int alloc, variant;
} cell;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ---- Argument parsing ---- */

/* Splits a comma list in place into out[]; returns the count or -1 (too many / empty item). */
static int split(char *s, char **out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max) return -1;
        out[n++] = tok;
    }
    return n;
}

static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_threads(char *s, unsigned *out, int *n)
{
    char *items[MAX_LIST];
    int k = split(s, items, MAX_LIST);
    if (k <= 0) return -1;
    for (int i = 0; i < k; i++) {
        unsigned long long v;
        if (parse_uint(items[i], 1, 1024, &v)) return -1;
        out[i] = (unsigned)v;
    }
    *n = k;
    return 0;
}

static int add_param(run_opts *o, char *kv)
{
    char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        hn_error("run", "--param '%s': expected name=value[,value...]", kv);
        return -1;
    }
    *eq = '\0';
    for (int i = 0; i < o->nparams; i++)
        if (!strcmp(o->params[i].name, kv)) {
            hn_error("run", "--param '%s' given twice", kv);
            return -1;
        }
    if (o->nparams == MAX_KV || strlen(kv) >= sizeof o->params[0].name) {
        hn_error("run", "--param '%s': too many parameters or name too long", kv);
        return -1;
    }
    snprintf(o->params[o->nparams].name, sizeof o->params[0].name, "%s", kv);
    int n = split(eq + 1, o->params[o->nparams].values, MAX_LIST);
    if (n <= 0) {
        hn_error("run", "--param '%s': no value", kv);
        return -1;
    }
    o->params[o->nparams++].nvalues = n;
    return 0;
}

static void run_usage(FILE *f)
{
    fprintf(
        f,
        "usage: abench run [--alloc a,b] (--workload w1,w2 | --suite default) [--threads 1,2]\n"
        "                  [--param k=v1,v2]... [--reps N] [--seed S] [--out DIR] [--label L]\n"
        "                  [--timeout SECS] [--report [--baseline ALLOC]]\n"
        "                  [--sample-mean OPS] [--sampler-ms MS] [--settle-ms MS] [--dry-run]\n"
        "Comma lists expand into a matrix; cells interleave across allocators. Results go\n"
        "to results/<date>_<host>_<label>/ (see results/README.md). --alloc defaults to\n"
        "every backend this build has. --dry-run validates and prints the cells, runs nothing.\n");
}

static int parse_run_args(int argc, char **argv, run_opts *o)
{
    o->reps = 3;
    o->seed = 1;
    o->timeout = 300;
    o->label = "run";
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *v = NULL, *eq;
        unsigned long long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            exit(HN_EXIT_OK);
        }
        if (!strcmp(a, "--report")) {
            o->report = 1;
            continue;
        }
        if (!strcmp(a, "--dry-run")) {
            o->dry_run = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            hn_error("run", "unexpected argument '%s'", a);
            return -1;
        }
        if ((eq = strchr(a, '='))) {
            *eq = '\0';
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        }
        static const char *const known[] = {
            "--alloc",    "--workload",    "--threads",    "--param",     "--reps",
            "--seed",     "--out",         "--label",      "--timeout",   "--suite",
            "--baseline", "--sample-mean", "--sampler-ms", "--settle-ms", NULL};
        int k = 0;
        while (known[k] && strcmp(known[k], a))
            k++;
        if (!known[k]) {
            hn_error("run", "unknown flag '%s'", a);
            return -1;
        }
        if (!v) {
            hn_error("run", "flag %s needs a value", a);
            return -1;
        }
        if (!strcmp(a, "--alloc")) {
            if ((o->nallocs = split(v, o->allocs, MAX_LIST)) <= 0)
                return hn_error("run", "--alloc '%s': expected a comma list", v), -1;
        } else if (!strcmp(a, "--workload")) {
            if ((o->nworkloads = split(v, o->workloads, MAX_LIST)) <= 0)
                return hn_error("run", "--workload '%s': expected a comma list", v), -1;
        } else if (!strcmp(a, "--threads")) {
            if (parse_threads(v, o->threads, &o->nthreads))
                return hn_error("run", "--threads '%s': expected numbers 1..1024, comma-separated",
                                v),
                       -1;
        } else if (!strcmp(a, "--param")) {
            if (add_param(o, v)) return -1;
        } else if (!strcmp(a, "--reps")) {
            if (parse_uint(v, 1, 100000, &n))
                return hn_error("run", "--reps '%s': expected 1..100000", v), -1;
            o->reps = (unsigned)n;
        } else if (!strcmp(a, "--seed")) {
            if (parse_uint(v, 0, UINT64_MAX, &n))
                return hn_error("run", "--seed '%s': expected an unsigned integer", v), -1;
            o->seed = n;
        } else if (!strcmp(a, "--timeout")) {
            char *end;
            o->timeout = strtod(v, &end);
            if (*end || !(o->timeout > 0) || o->timeout > 1e6)
                return hn_error("run", "--timeout '%s': expected seconds > 0", v), -1;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--label")) {
            for (const char *c = v; *c; c++)
                if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.'))
                    return hn_error("run", "--label '%s': use letters, digits, '-', '_', '.'", v),
                           -1;
            if (!*v) return hn_error("run", "--label: empty"), -1;
            o->label = v;
        } else if (!strcmp(a, "--suite")) {
            if (strcmp(v, "default") != 0)
                return hn_error("run", "unknown suite '%s' (known: default)", v), -1;
            o->suite = v;
        } else if (!strcmp(a, "--baseline")) {
            o->baseline = v;
        } else if (!strcmp(a, "--sample-mean") || !strcmp(a, "--sampler-ms") ||
                   !strcmp(a, "--settle-ms")) {
            if (parse_uint(v, 0, 1u << 30, &n))
                return hn_error("run", "%s '%s': expected an unsigned integer", a, v), -1;
            if (!strcmp(a, "--sample-mean")) o->sample_mean = v;
            if (!strcmp(a, "--sampler-ms")) o->sampler_ms = v;
            if (!strcmp(a, "--settle-ms")) o->settle_ms = v;
        }
    }
    if (!o->suite && o->nworkloads == 0)
        return hn_error("run", "nothing to run: give --workload w1,w2 or --suite default"), -1;
    if (o->suite && o->nworkloads)
        return hn_error("run", "--suite and --workload are exclusive"), -1;
    if (o->baseline && !o->report) return hn_error("run", "--baseline needs --report"), -1;
    return 0;
}

/* ---- Backends ---- */

/* Validates --alloc (or picks every available backend) and asks each runner for --info. */
static int resolve_allocs(run_opts *o, json_t *infos)
{
    char path[4096], err[512];
    if (o->nallocs == 0) {
        for (int i = 0; hn_known_backends[i] && o->nallocs < MAX_LIST; i++)
            if (hn_runner_path(hn_known_backends[i], path, sizeof path))
                o->allocs[o->nallocs++] = (char *)hn_known_backends[i];
        if (o->nallocs == 0) return hn_error("run", "no runner in %s", hn_bindir()), -1;
    }
    for (int i = 0; i < o->nallocs; i++) {
        const char *a = o->allocs[i];
        int known = !strcmp(a, "null");
        for (int k = 0; hn_known_backends[k]; k++)
            known |= !strcmp(a, hn_known_backends[k]);
        for (int k = 0; k < i; k++)
            if (!strcmp(o->allocs[k], a)) return hn_error("run", "backend '%s' given twice", a), -1;
        if (!hn_runner_path(a, path, sizeof path)) {
            if (known)
                hn_error("run", "backend '%s' is unavailable in this build (no %s)", a, path);
            else
                hn_error("run",
                         "unknown backend '%s' (known: sys jemalloc mimalloc tcmalloc "
                         "boehm goalloc go-runtime)",
                         a);
            return -1;
        }
        json_t *info = hn_runner_info(a, err, sizeof err);
        if (!info) return hn_error("run", "backend '%s': %s", a, err), -1;
        const char *chk = json_string_value(json_object_get(info, "malloc_check"));
        if (chk && strcmp(chk, "ok") != 0) {
            hn_error("run",
                     "backend '%s' is refusing to run: the process malloc is not its own "
                     "(%s)",
                     a, chk);
            json_decref(info);
            return -1;
        }
        json_object_set_new(infos, a, info);
    }
    return 0;
}

/* ---- Variants ---- */

static int workload_has_param(json_t *w, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(w, "params"), i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "name")), name)) return 1;
    }
    return 0;
}

static char *kv_dup(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s=%s", name, value);
    return s;
}

/* Sets name=value in v (replacing an earlier value of the same name). */
static void kv_set(variant *v, const char *name, const char *value)
{
    size_t ln = strlen(name);
    for (int i = 0; i < v->nkv; i++)
        if (!strncmp(v->kv[i], name, ln) && v->kv[i][ln] == '=') {
            free(v->kv[i]);
            v->kv[i] = kv_dup(name, value);
            return;
        }
    if (v->nkv < MAX_KV) v->kv[v->nkv++] = kv_dup(name, value);
}

/* Appends to vs[] every combination of the --param values that apply to workload w, on top of
 * the base "k=v" list. Returns the new count, or -1 when there are too many variants. */
static int expand(const run_opts *o, json_t *w, const char *base, const unsigned *threads,
                  int nthreads, variant *vs, int nv, int maxv)
{
    int idx[MAX_KV] = {0}, app[MAX_KV], napp = 0;
    for (int i = 0; i < o->nparams; i++)
        if (workload_has_param(w, o->params[i].name)) app[napp++] = i;
    for (;;) {
        if (nv == maxv) return -1;
        variant *v = &vs[nv++];
        memset(v, 0, sizeof *v);
        v->workload = json_string_value(json_object_get(w, "name"));
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", base ? base : "");
        for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
            char *eq = strchr(tok, '=');
            if (!eq) continue;
            *eq = '\0';
            kv_set(v, tok, eq + 1);
        }
        for (int k = 0; k < napp; k++)
            kv_set(v, o->params[app[k]].name, o->params[app[k]].values[idx[k]]);
        memcpy(v->threads, threads, sizeof(unsigned) * (size_t)nthreads);
        v->nthreads = nthreads;
        int k = 0; /* odometer over the applicable parameters */
        for (; k < napp; k++) {
            if (++idx[k] < o->params[app[k]].nvalues) break;
            idx[k] = 0;
        }
        if (k == napp) return nv;
    }
}

static int build_variants(run_opts *o, json_t *cat, variant *vs, int maxv)
{
    int nv = 0;
    static const unsigned one[] = {1};
    for (int i = 0; i < o->nparams; i++) {
        int used = 0;
        if (o->suite) {
            for (int k = 0; default_suite[k].workload; k++) {
                json_t *w = hn_workload_find(cat, default_suite[k].workload);
                used |= w && workload_has_param(w, o->params[i].name);
            }
        } else {
            for (int k = 0; k < o->nworkloads; k++) {
                json_t *w = hn_workload_find(cat, o->workloads[k]);
                used |= w && workload_has_param(w, o->params[i].name);
            }
        }
        if (!used) {
            hn_error("run",
                     "unknown parameter '%s' (no selected workload has it; see abench "
                     "list -v)",
                     o->params[i].name);
            return -1;
        }
    }
    if (o->suite) {
        for (int k = 0; default_suite[k].workload; k++) {
            json_t *w = hn_workload_find(cat, default_suite[k].workload);
            if (!w) {
                fprintf(stderr, "abench run: suite: workload '%s' is not in this build, skipped\n",
                        default_suite[k].workload);
                continue;
            }
            unsigned th[MAX_LIST];
            int nth = o->nthreads;
            memcpy(th, o->threads, sizeof th);
            if (!nth) {
                char buf[128];
                snprintf(buf, sizeof buf, "%s", default_suite[k].threads);
                if (parse_threads(buf, th, &nth)) return -1;
            }
            nv = expand(o, w, default_suite[k].params, th, nth, vs, nv, maxv);
            if (nv < 0) return hn_error("run", "too many variants (at most %d)", maxv), -1;
        }
        return nv;
    }
    for (int k = 0; k < o->nworkloads; k++) {
        json_t *w = hn_workload_find(cat, o->workloads[k]);
        if (!w) {
            hn_error("run", "unknown workload '%s' (see abench list)", o->workloads[k]);
            return -1;
        }
        nv = expand(o, w, NULL, o->nthreads ? o->threads : one, o->nthreads ? o->nthreads : 1, vs,
                    nv, maxv);
        if (nv < 0) return hn_error("run", "too many variants (at most %d)", maxv), -1;
    }
    return nv;
}

/* Asks a runner to validate a variant (`--check`); stores the resolved parameters. */
static int check_variant(const char *alloc, variant *v)
{
    char path[4096], err[512], th[16];
    char *argv[8 + 2 * MAX_KV];
    int n = 0;
    hn_runner_path(alloc, path, sizeof path);
    snprintf(th, sizeof th, "%u", v->threads[0]);
    argv[n++] = path;
    argv[n++] = "--check";
    argv[n++] = "--workload";
    argv[n++] = (char *)v->workload;
    argv[n++] = "--threads";
    argv[n++] = th;
    for (int i = 0; i < v->nkv; i++) {
        argv[n++] = "--param";
        argv[n++] = v->kv[i];
    }
    argv[n] = NULL;
    char *out = NULL;
    int rc = hn_capture(argv, 120, &out, err, sizeof err);
    if (rc == 0) {
        json_t *j = json_loads(out, 0, NULL);
        v->params = json_incref(json_object_get(j, "params"));
        json_decref(j);
    }
    free(out);
    if (rc == 0 && v->params) return 0;
    /* The runner's message names the parameter; drop its program prefix. */
    const char *msg = err;
    if (!strncmp(msg, HN_RUNNER_PREFIX, strlen(HN_RUNNER_PREFIX)) && strstr(msg, ": "))
        msg = strstr(msg, ": ") + 2;
    hn_error("run", "workload '%s': %s", v->workload, msg[0] ? msg : "parameter check failed");
    return -1;
}

/* ---- The run folder ---- */

static int make_run_dir(const run_opts *o, char *dir, size_t len)
{
    struct stat st;
    if (o->out) {
        snprintf(dir, len, "%s", o->out);
        char p[4200];
        snprintf(p, sizeof p, "%s/runs.jsonl", dir);
        if (stat(p, &st) == 0)
            return hn_error("run",
                            "--out %s already holds a run (runs.jsonl); choose another "
                            "folder",
                            dir),
                   -1;
    } else {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(dir, len, "results/%s_%s_%s", stamp, hn_hostname(), o->label);
        for (int k = 2; stat(dir, &st) == 0 && k < 100; k++)
            snprintf(dir, len, "results/%s_%s_%s-%d", stamp, hn_hostname(), o->label, k);
    }
    if (hn_mkdir_p(dir) != 0)
        return hn_error("run", "cannot create %s: %s", dir, strerror(errno)), -1;
    return 0;
}

static json_t *str_array(char *const *items, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

static json_t *make_meta(int argc, char **argv, const run_opts *o, json_t *infos, const variant *vs,
                         int nv, unsigned ncells)
{
    char now[64];
    json_t *meta = json_object();
    json_object_set_new(meta, "schema", json_integer(1));
    json_t *cmd = json_array();
    json_array_append_new(cmd, json_string("abench"));
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    json_object_set_new(meta, "command", cmd);
    json_object_set_new(meta, "started", json_string(hn_iso_now(now, sizeof now)));
    json_object_set_new(meta, "finished", json_null());
    hn_sysinfo_fill(meta);
    json_t *allocs = json_object(), *caps = json_object();
    const char *name;
    json_t *info;
    json_object_foreach(infos, name, info)
    {
        json_object_set(allocs, name, json_object_get(info, "version"));
        json_object_set(caps, name, json_object_get(info, "caps"));
    }
    json_object_set_new(meta, "allocators", allocs);
    json_object_set_new(meta, "allocator_caps", caps);
    json_t *m = json_object(), *jv = json_array();
    json_object_set_new(m, "alloc", str_array(o->allocs, o->nallocs));
    for (int i = 0; i < nv; i++) {
        json_t *e = json_object(), *th = json_array();
        json_object_set_new(e, "workload", json_string(vs[i].workload));
        json_object_set(e, "params", vs[i].params);
        json_object_set_new(e, "given", str_array(vs[i].kv, vs[i].nkv));
        for (int k = 0; k < vs[i].nthreads; k++)
            json_array_append_new(th, json_integer(vs[i].threads[k]));
        json_object_set_new(e, "threads", th);
        json_array_append_new(jv, e);
    }
    json_object_set_new(m, "variants", jv);
    json_object_set_new(m, "suite", o->suite ? json_string(o->suite) : json_null());
    json_object_set_new(m, "reps", json_integer(o->reps));
    json_object_set_new(m, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(m, "timeout_s", json_real(o->timeout));
    json_object_set_new(m, "cells", json_integer(ncells));
    json_object_set_new(meta, "matrix", m);
    return meta;
}

/* Timer calibration of the first backend's runner, for meta.json. */
static void add_timer(json_t *meta, const char *alloc, const run_opts *o)
{
    char path[4096], err[256];
    char *out = NULL;
    hn_runner_path(alloc, path, sizeof path);
    char *argv[] = {path, "--calibrate", NULL};
    if (hn_capture(argv, 60, &out, err, sizeof err) == 0) {
        json_t *t = json_loads(out, 0, NULL);
        if (t) {
            json_object_set_new(t, "mean_sample_interval_ops",
                                json_real(o->sample_mean ? atof(o->sample_mean) : 64.0));
            json_object_set_new(meta, "timer", t);
        }
    }
    free(out);
}

/* ---- One cell ---- */

static void cell_id(const cell *c, const char *alloc, const variant *v, int vi, char *buf,
                    size_t len)
{
    snprintf(buf, len, "%04u_%s_%s_v%d_t%u_r%u", c->idx, alloc, v->workload, vi, c->threads,
             c->rep);
}

static const char *last_line_of(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    buf[0] = '\0';
    if (!f) return buf;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0]) snprintf(buf, len, "%s", line);
    }
    fclose(f);
    return buf;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Runs one cell; returns its row (NULL when interrupted). */
static json_t *run_cell(const run_opts *o, const char *dir, const cell *c, const char *alloc,
                        json_t *info, variant *v)
{
    char id[256], cdir[4400], outp[4600], path[4096], th[16], seed[32], msg[1024];
    char *argv[24 + 2 * MAX_KV];
    int n = 0;
    cell_id(c, alloc, v, c->variant, id, sizeof id);
    snprintf(cdir, sizeof cdir, "%s/cells/%s", dir, id);
    snprintf(outp, sizeof outp, "%s/stderr.txt", cdir);
    hn_mkdir_p(cdir);
    hn_runner_path(alloc, path, sizeof path);
    snprintf(th, sizeof th, "%u", c->threads);
    snprintf(seed, sizeof seed, "%llu", o->seed);
    argv[n++] = path;
    argv[n++] = "--workload";
    argv[n++] = (char *)v->workload;
    argv[n++] = "--threads";
    argv[n++] = th;
    argv[n++] = "--seed";
    argv[n++] = seed;
    argv[n++] = "--out";
    argv[n++] = cdir;
    if (o->sample_mean) argv[n++] = "--sample-mean", argv[n++] = (char *)o->sample_mean;
    if (o->sampler_ms) argv[n++] = "--sampler-ms", argv[n++] = (char *)o->sampler_ms;
    if (o->settle_ms) argv[n++] = "--settle-ms", argv[n++] = (char *)o->settle_ms;
    for (int i = 0; i < v->nkv; i++)
        argv[n++] = "--param", argv[n++] = v->kv[i];
    argv[n] = NULL;

    hn_proc_result r;
    hn_spawn(argv, outp, o->timeout, &g_stop, &r);
    if (r.end == HN_PROC_INTERRUPTED) return NULL;

    json_t *row = json_object();
    json_object_set_new(row, "schema", json_integer(1));
    json_object_set_new(row, "cell_id", json_string(id));
    json_object_set_new(row, "alloc", json_string(alloc));
    json_object_set(row, "alloc_version", json_object_get(info, "version"));
    json_object_set_new(row, "workload", json_string(v->workload));
    json_object_set_new(row, "threads", json_integer(c->threads));
    json_object_set(row, "params", v->params);
    json_object_set_new(row, "rep", json_integer(c->rep));
    json_object_set_new(row, "seed", json_integer((json_int_t)o->seed));
    const char *status = "error";
    msg[0] = '\0';
    switch (r.end) {
    case HN_PROC_EXITED:
        json_object_set_new(row, "exit_code", json_integer(r.exit_code));
        if (r.exit_code == HN_RUNNER_OK) status = "ok";
        if (r.exit_code == HN_RUNNER_NA) status = "na";
        if (r.exit_code != HN_RUNNER_OK) last_line_of(outp, msg, sizeof msg);
        break;
    case HN_PROC_SIGNALED:
        status = "crash";
        json_object_set_new(row, "signal", json_integer(r.sig));
        snprintf(msg, sizeof msg, "killed by signal %d (%s)", r.sig, strsignal(r.sig));
        break;
    case HN_PROC_TIMEOUT:
        status = "timeout";
        snprintf(msg, sizeof msg, "no result within the %.0f s timeout; killed", o->timeout);
        break;
    default:
        snprintf(msg, sizeof msg, "cannot start %.900s", path);
        break;
    }
    if (!strcmp(status, "ok")) {
        char rp[4600];
        json_error_t je;
        snprintf(rp, sizeof rp, "%s/result.json", cdir);
        json_t *res = json_load_file(rp, 0, &je);
        if (!res) {
            status = "error";
            snprintf(msg, sizeof msg, "runner exited 0 but %.700s is unreadable: %.200s", rp,
                     je.text);
        } else {
            const char *k;
            json_t *val;
            json_object_foreach(res, k, val) if (!json_object_get(row, k))
                json_object_set(row, k, val);
            json_decref(res);
        }
    }
    json_object_set_new(row, "status", json_string(status));
    if (msg[0]) json_object_set_new(row, "error", json_string(msg));
    if (r.end != HN_PROC_SPAWN_FAILED) {
        json_object_set_new(row, "user_s", json_real(tv_s(r.ru.ru_utime)));
        json_object_set_new(row, "sys_s", json_real(tv_s(r.ru.ru_stime)));
        json_object_set_new(row, "peak_rss_bytes", json_integer((json_int_t)r.ru.ru_maxrss * 1024));
        json_object_set_new(row, "minflt", json_integer(r.ru.ru_minflt));
        json_object_set_new(row, "majflt", json_integer(r.ru.ru_majflt));
        json_object_set_new(row, "process_wall_s", json_real(r.wall_s));
    }
    return row;
}

/* ---- Summary and progress ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct sum_line {
    const char *workload, *alloc;
    char params[256], med[32], spread[64], rss[32], notes[160];
    unsigned threads;
    int n;
} sum_line;

/* One summary line per variant x threads x alloc that has cells; returns 0 when none. */
static int summarize(const run_opts *o, const variant *v, unsigned threads, int ai,
                     const cell *cells, json_t *const *rows, unsigned ncells, int vi, double *ns,
                     double *rss, sum_line *L)
{
    int n = 0, nr = 0, bad = 0;
    char kinds[64] = "";
    for (unsigned k = 0; k < ncells; k++) {
        const cell *c = &cells[k];
        if (c->variant != vi || c->alloc != ai || c->threads != threads || !rows[k]) continue;
        const char *st = json_string_value(json_object_get(rows[k], "status"));
        json_t *x = json_object_get(rows[k], "ns_per_op");
        if (!strcmp(st, "ok") && x && n < (int)o->reps) {
            ns[n++] = json_number_value(x);
            rss[nr++] = json_number_value(json_object_get(rows[k], "peak_rss_bytes"));
        } else if (strcmp(st, "ok") != 0) {
            bad++;
            if (!strstr(kinds, st) && strlen(kinds) + strlen(st) + 2 < sizeof kinds)
                strcat(strcat(kinds, kinds[0] ? "," : ""), st);
        }
    }
    if (n + bad == 0) return 0;
    memset(L, 0, sizeof *L);
    L->workload = v->workload;
    L->alloc = o->allocs[ai];
    L->threads = threads;
    L->n = n;
    snprintf(L->params, sizeof L->params, "-");
    for (int i = 0, used = 0; i < v->nkv && used < (int)sizeof L->params; i++)
        used += snprintf(L->params + used, sizeof L->params - (size_t)used, "%s%s", i ? "," : "",
                         v->kv[i]);
    snprintf(L->med, sizeof L->med, "-");
    snprintf(L->rss, sizeof L->rss, "-");
    if (n > 0) {
        snprintf(L->med, sizeof L->med, "%.2f", median(ns, n)); /* median() sorts ns */
        snprintf(L->spread, sizeof L->spread, "%.2f..%.2f", ns[0], ns[n - 1]);
        snprintf(L->rss, sizeof L->rss, "%.1f MiB", median(rss, nr) / 1048576.0);
    }
    if (bad) snprintf(L->notes, sizeof L->notes, "%d %s", bad, kinds);
    return 1;
}

static void summary(const run_opts *o, const variant *vs, int nv, const cell *cells,
                    json_t *const *rows, unsigned ncells)
{
    int cap = 0, nl = 0;
    for (int vi = 0; vi < nv; vi++)
        cap += vs[vi].nthreads * o->nallocs;
    sum_line *L = calloc((size_t)cap + 1, sizeof *L);
    double *ns = malloc(sizeof(double) * o->reps), *rss = malloc(sizeof(double) * o->reps);
    int ww = 8, pw = 6, aw = 5, sw = 6;
    for (int vi = 0; vi < nv; vi++)
        for (int ti = 0; ti < vs[vi].nthreads; ti++)
            for (int ai = 0; ai < o->nallocs; ai++) {
                sum_line *l = &L[nl];
                if (!summarize(o, &vs[vi], vs[vi].threads[ti], ai, cells, rows, ncells, vi, ns, rss,
                               l))
                    continue;
                nl++;
                if ((int)strlen(l->workload) > ww) ww = (int)strlen(l->workload);
                if ((int)strlen(l->params) > pw) pw = (int)strlen(l->params);
                if ((int)strlen(l->alloc) > aw) aw = (int)strlen(l->alloc);
                if ((int)strlen(l->spread) > sw) sw = (int)strlen(l->spread);
            }
    printf("\nSummary: ns/op = median over ok reps (per thread); spread = min..max over ok reps;\n"
           "peak RSS = median of the runner processes' ru_maxrss; n = ok reps\n");
    printf("%-*s  %-*s  %7s  %-*s  %3s  %12s  %-*s  %10s  %s\n", ww, "workload", pw, "params",
           "threads", aw, "alloc", "n", "ns/op", sw, "spread", "peak RSS", "not ok");
    for (int i = 0; i < nl; i++)
        printf("%-*s  %-*s  %7u  %-*s  %3d  %12s  %-*s  %10s  %s\n", ww, L[i].workload, pw,
               L[i].params, L[i].threads, aw, L[i].alloc, L[i].n, L[i].med, sw, L[i].spread,
               L[i].rss, L[i].notes);
    free(ns);
    free(rss);
    free(L);
}

static void fmt_dur(double s, char *buf, size_t len)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- The command ---- */

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waits return early */
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGINT, &sa, NULL) | sigaction(SIGTERM, &sa, NULL);
}

static unsigned plan(const run_opts *o, const variant *vs, int nv, cell *cells, unsigned max)
{
    unsigned n = 0;
    for (unsigned rep = 0; rep < o->reps; rep++)
        for (int vi = 0; vi < nv; vi++)
            for (int ti = 0; ti < vs[vi].nthreads; ti++)
                for (int ai = 0; ai < o->nallocs; ai++) {
                    if (n == max) return n;
                    cells[n] = (cell){n, rep, vs[vi].threads[ti], ai, vi};
                    n++;
                }
    return n;
}

static int execute(int argc, char **argv, run_opts *o, json_t *infos, variant *vs, int nv)
{
    enum { MAX_CELLS = 100000 };
    static cell cells[MAX_CELLS];
    unsigned ncells = plan(o, vs, nv, cells, MAX_CELLS);
    char dir[4096], eta[32], el[32];
    if (make_run_dir(o, dir, sizeof dir) != 0) return HN_EXIT_USAGE;
    json_t *meta = make_meta(argc, argv, o, infos, vs, nv, ncells);
    add_timer(meta, o->allocs[0], o);
    if (hn_write_meta(dir, meta) != 0) {
        hn_error("run", "cannot write %s/meta.json: %s", dir, strerror(errno));
        return HN_EXIT_FAIL;
    }
    install_signals();
    int tty = isatty(2), failed = 0;
    json_t *rows = json_array();
    json_t **by_cell = calloc(ncells, sizeof *by_cell);
    fprintf(stderr, "abench run: %u cells -> %s\n", ncells, dir);
    double t0 = mono_s();
    unsigned done = 0;
    for (; done < ncells && !g_stop; done++) {
        const cell *c = &cells[done];
        const char *alloc = o->allocs[c->alloc];
        double el_s = mono_s() - t0;
        fmt_dur(el_s, el, sizeof el);
        fmt_dur(done ? el_s / done * (ncells - done) : 0, eta, sizeof eta);
        if (tty)
            fprintf(stderr, "\r\033[K[%u/%u] %s %s t=%u rep %u  elapsed %s  ETA %s", done + 1,
                    ncells, alloc, vs[c->variant].workload, c->threads, c->rep, el,
                    done ? eta : "?");
        json_t *row = run_cell(o, dir, c, alloc, json_object_get(infos, alloc), &vs[c->variant]);
        if (!row) break; /* interrupted */
        by_cell[done] = row;
        json_array_append_new(rows, row);
        const char *st = json_string_value(json_object_get(row, "status"));
        if (strcmp(st, "ok") && strcmp(st, "na")) failed++;
        if (hn_write_runs(dir, rows) != 0) {
            hn_error("run", "cannot write %s/runs.jsonl: %s", dir, strerror(errno));
            return HN_EXIT_FAIL;
        }
        if (!tty) {
            json_t *x = json_object_get(row, "ns_per_op");
            json_t *e = json_object_get(row, "error");
            fprintf(stderr, "abench run: [%u/%u] %s %s t=%u rep %u: %s", done + 1, ncells, alloc,
                    vs[c->variant].workload, c->threads, c->rep, st);
            if (x) fprintf(stderr, ", %.2f ns/op", json_number_value(x));
            if (e) fprintf(stderr, " (%s)", json_string_value(e));
            fprintf(stderr, "\n");
        } else if (strcmp(st, "ok") != 0) {
            json_t *e = json_object_get(row, "error");
            fprintf(stderr, "\r\033[Kabench run: %s: %s%s%s\n",
                    json_string_value(json_object_get(row, "cell_id")), st, e ? ": " : "",
                    e ? json_string_value(e) : "");
        }
    }
    if (tty) fprintf(stderr, "\r\033[K");
    char now[64];
    json_object_set_new(meta, "finished", json_string(hn_iso_now(now, sizeof now)));
    json_object_set_new(meta, "cells_finished", json_integer(done));
    json_object_set_new(meta, "interrupted", json_boolean(g_stop != 0));
    hn_write_meta(dir, meta);
    json_decref(meta);
    summary(o, vs, nv, cells, by_cell, done);
    fmt_dur(mono_s() - t0, el, sizeof el);
    printf("\n%u of %u cells in %s, %d failed; results in %s\n", done, ncells, el, failed, dir);
    free(by_cell);
    json_decref(rows);
    if (g_stop) {
        hn_error("run", "interrupted: %u finished cells kept in %s", done, dir);
        return 130;
    }
    int rc = failed ? HN_EXIT_FAIL : HN_EXIT_OK;
    if (o->report) {
        fflush(NULL);
        int rr = hn_report_run(dir, o->baseline);
        if (rr != HN_EXIT_OK && rc == HN_EXIT_OK) rc = rr;
    }
    return rc;
}

/* --dry-run: the planned cells, one per line, in run order. */
static int dry_run(const run_opts *o, const variant *vs, int nv)
{
    enum { MAX_CELLS = 100000 };
    static cell cells[MAX_CELLS];
    unsigned n = plan(o, vs, nv, cells, MAX_CELLS);
    for (unsigned i = 0; i < n; i++) {
        const variant *v = &vs[cells[i].variant];
        printf("%u %s %s threads=%u rep=%u", cells[i].idx, o->allocs[cells[i].alloc], v->workload,
               cells[i].threads, cells[i].rep);
        for (int k = 0; k < v->nkv; k++)
            printf(" %s", v->kv[k]);
        printf("\n");
    }
    fprintf(stderr, "abench run: dry run: %u cells, nothing run\n", n);
    return HN_EXIT_OK;
}

int hn_cmd_run(int argc, char **argv)
{
    static run_opts o;
    static variant vs[1024];
    char err[512];
    memset(&o, 0, sizeof o);
    if (parse_run_args(argc, argv, &o) != 0) return HN_EXIT_USAGE;
    json_t *infos = json_object();
    if (resolve_allocs(&o, infos) != 0) return HN_EXIT_USAGE;
    /* The catalogue and parameter checks come from a C runner: go-runtime's knows only the
     * GC workloads. */
    const char *prefer[] = {o.allocs[0], NULL};
    for (int i = o.nallocs - 1; i >= 0; i--)
        if (strcmp(o.allocs[i], "go-runtime") != 0) prefer[0] = o.allocs[i];
    char path[4096];
    if (!strcmp(prefer[0], "go-runtime") && hn_runner_path("sys", path, sizeof path))
        prefer[0] = "sys";
    json_t *cat = hn_workloads_load(prefer, err, sizeof err);
    if (!cat) {
        hn_error("run", "%s", err);
        return HN_EXIT_FAIL;
    }
    if (o.baseline) {
        int found = 0;
        for (int i = 0; i < o.nallocs; i++)
            found |= !strcmp(o.allocs[i], o.baseline);
        if (!found) {
            hn_error("run", "--baseline '%s' is not one of --alloc", o.baseline);
            return HN_EXIT_USAGE;
        }
    }
    int nv = build_variants(&o, cat, vs, (int)(sizeof vs / sizeof vs[0]));
    if (nv < 0) return HN_EXIT_USAGE;
    if (nv == 0) {
        hn_error("run", "nothing to run (no workload of the suite is in this build)");
        return HN_EXIT_USAGE;
    }
    /* A suite line the build rejects (a renamed parameter) is skipped with its reason; a
     * variant from the command line must be valid. */
    int kept = 0;
    for (int i = 0; i < nv; i++) {
        if (check_variant(prefer[0], &vs[i]) == 0)
            vs[kept++] = vs[i];
        else if (!o.suite)
            return HN_EXIT_USAGE;
    }
    if (o.suite && kept < nv)
        fprintf(stderr, "abench run: suite: %d line(s) skipped (see above)\n", nv - kept);
    nv = kept;
    if (nv == 0) return HN_EXIT_USAGE;
    int rc = o.dry_run ? dry_run(&o, vs, nv) : execute(argc, argv, &o, infos, vs, nv);
    json_decref(cat);
    json_decref(infos);
    return rc;
}
