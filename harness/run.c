/* run.c - `abench run`: expands the run matrix, runs one runner process per cell, records every
 * cell in the run folder (results/README.md), and prints a summary table.
 *
 * Matrix: allocators x variants (a workload with one combination of --param values, or one line
 * of a suite) x threads x reps. Order: reps outermost, allocators innermost, so cells of
 * different allocators interleave (A B C A B C) and drift in the machine hits all alike.
 * Everything is validated before the first cell runs (unknown backend, workload, flag or
 * parameter: one line naming it, exit 2); each variant's parameters are checked by a runner
 * (`--check`), which also resolves their defaults. The matrix itself is matrix.c's, the final
 * table summary.c's.
 *
 * Invariants: runs.jsonl/runs.csv hold exactly the finished cells, rewritten after each one;
 * a crash, timeout, error or n/a cell is recorded and the matrix goes on; SIGINT/SIGTERM ends
 * the running cell (not recorded) and exits 130 with every finished cell kept.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <getopt.h>
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

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ---- Argument parsing ---- */

static int add_param(hn_run_opts *o, char *kv)
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
    if (o->nparams == HN_MAX_KV || strlen(kv) >= sizeof o->params[0].name) {
        hn_error("run", "--param '%s': too many parameters or name too long", kv);
        return -1;
    }
    snprintf(o->params[o->nparams].name, sizeof o->params[0].name, "%s", kv);
    int n = hn_split_list(eq + 1, o->params[o->nparams].values, HN_MAX_LIST);
    if (n <= 0) {
        hn_error("run", "--param '%s': no value", kv);
        return -1;
    }
    o->params[o->nparams++].nvalues = n;
    return 0;
}

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: abench run [--alloc a,b] (--workload w1,w2 | --suite default|quick)\n"
            "                  [--threads 1,2] [--param k=v1,v2]... [--reps N] [--warmup N]\n"
            "                  [--seed S] [--out DIR] [--label L] [--timeout SECS]\n"
            "                  [--report [--baseline ALLOC]] [--latency | --sample-mean OPS]\n"
            "                  [--instructions] [--sampler-ms MS] [--settle-ms MS] [--dry-run]\n"
            "Comma lists expand into a matrix; cells interleave across allocators. Results go\n"
            "to results/<date>_<host>_<label>/ (see results/README.md). --alloc defaults to\n"
            "every backend this build has, `overhead` (the harness's own cost) and variants\n"
            "such as goalloc-stw (n/a on cells where goalloc does not collect) included.\n"
            "  --reps N         measured repetitions per cell (default 6; 3 with --instructions)\n"
            "  --warmup N       unrecorded repetitions first (default 1; 0 with --instructions)\n"
            "  --latency        sample operation latency (mean 64 ops between timed ones); off by\n"
            "                   default, so the measured loop carries no timer calls\n"
            "  --instructions   run each cell under valgrind's callgrind and record instr_per_op\n"
            "                   (instructions of the measured region / ops: deterministic)\n"
            "  --dry-run        validate and print the cells, run nothing\n");
}

enum run_flag {
    RF_ALLOC = 256,
    RF_WORKLOAD,
    RF_THREADS,
    RF_PARAM,
    RF_REPS,
    RF_WARMUP,
    RF_SEED,
    RF_OUT,
    RF_LABEL,
    RF_TIMEOUT,
    RF_SUITE,
    RF_BASELINE,
    RF_REPORT,
    RF_DRY_RUN,
    RF_LATENCY,
    RF_SAMPLE_MEAN,
    RF_SAMPLER_MS,
    RF_SETTLE_MS,
    RF_INSTRUCTIONS,
};

/* The one option table of `abench run`. */
static const struct option run_options[] = {
    {"alloc", required_argument, NULL, RF_ALLOC},
    {"workload", required_argument, NULL, RF_WORKLOAD},
    {"threads", required_argument, NULL, RF_THREADS},
    {"param", required_argument, NULL, RF_PARAM},
    {"reps", required_argument, NULL, RF_REPS},
    {"warmup", required_argument, NULL, RF_WARMUP},
    {"seed", required_argument, NULL, RF_SEED},
    {"out", required_argument, NULL, RF_OUT},
    {"label", required_argument, NULL, RF_LABEL},
    {"timeout", required_argument, NULL, RF_TIMEOUT},
    {"suite", required_argument, NULL, RF_SUITE},
    {"baseline", required_argument, NULL, RF_BASELINE},
    {"report", no_argument, NULL, RF_REPORT},
    {"dry-run", no_argument, NULL, RF_DRY_RUN},
    {"latency", no_argument, NULL, RF_LATENCY},
    {"sample-mean", required_argument, NULL, RF_SAMPLE_MEAN},
    {"sampler-ms", required_argument, NULL, RF_SAMPLER_MS},
    {"settle-ms", required_argument, NULL, RF_SETTLE_MS},
    {"instructions", no_argument, NULL, RF_INSTRUCTIONS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A runner flag's value, checked here with the runner's own bounds, so a bad one is refused
 * before any cell is spawned. */
static int runner_flag(const char *flag, const char *v, unsigned long long lo,
                       unsigned long long hi, const char **out)
{
    unsigned long long n;
    if (hn_parse_uint(v, lo, hi, &n))
        return hn_error("run", "--%s '%s': expected an integer in %llu..%llu", flag, v, lo, hi), -1;
    *out = v;
    return 0;
}

/* One flag of the table; -1 after a one-line error. */
static int run_flag_apply(hn_run_opts *o, int c, char *v, int *reps_set, int *warm_set,
                          int *timeout_set)
{
    unsigned long long n;
    switch (c) {
    case RF_ALLOC:
        if ((o->nallocs = hn_split_list(v, o->allocs, HN_MAX_LIST)) <= 0)
            return hn_error("run", "--alloc '%s': expected a comma list", v), -1;
        return 0;
    case RF_WORKLOAD:
        if ((o->nworkloads = hn_split_list(v, o->workloads, HN_MAX_LIST)) <= 0)
            return hn_error("run", "--workload '%s': expected a comma list", v), -1;
        return 0;
    case RF_THREADS:
        if (hn_parse_threads(v, o->threads, &o->nthreads))
            return hn_error("run", "--threads '%s': expected numbers 1..1024, comma-separated", v),
                   -1;
        return 0;
    case RF_PARAM:
        return add_param(o, v);
    case RF_REPS:
        if (hn_parse_uint(v, 1, 100000, &n))
            return hn_error("run", "--reps '%s': expected 1..100000", v), -1;
        o->reps = (unsigned)n;
        *reps_set = 1;
        return 0;
    case RF_WARMUP:
        if (hn_parse_uint(v, 0, 100, &n))
            return hn_error("run", "--warmup '%s': expected 0..100", v), -1;
        o->warmup = (unsigned)n;
        *warm_set = 1;
        return 0;
    case RF_SEED:
        if (hn_parse_uint(v, 0, UINT64_MAX, &n))
            return hn_error("run", "--seed '%s': expected an unsigned integer", v), -1;
        o->seed = n;
        return 0;
    case RF_TIMEOUT: {
        char *end;
        o->timeout = strtod(v, &end);
        if (*end || !(o->timeout > 0) || o->timeout > 1e6)
            return hn_error("run", "--timeout '%s': expected seconds > 0", v), -1;
        *timeout_set = 1;
        return 0;
    }
    case RF_OUT:
        o->out = v;
        return 0;
    case RF_LABEL:
        if (!*v) return hn_error("run", "--label: empty"), -1;
        for (const char *c2 = v; *c2; c2++)
            if (!(isalnum((unsigned char)*c2) || *c2 == '-' || *c2 == '_' || *c2 == '.'))
                return hn_error("run", "--label '%s': use letters, digits, '-', '_', '.'", v), -1;
        o->label = v;
        return 0;
    case RF_SUITE:
        if (strcmp(v, "default") != 0 && strcmp(v, "quick") != 0)
            return hn_error("run", "unknown suite '%s' (known: default, quick)", v), -1;
        o->suite = v;
        return 0;
    case RF_BASELINE:
        o->baseline = v;
        return 0;
    case RF_REPORT:
        o->report = 1;
        return 0;
    case RF_DRY_RUN:
        o->dry_run = 1;
        return 0;
    case RF_LATENCY:
        if (!o->sample_mean) o->sample_mean = "64";
        return 0;
    case RF_SAMPLE_MEAN:
        return runner_flag("sample-mean", v, 1, 1u << 30, &o->sample_mean);
    case RF_SAMPLER_MS:
        return runner_flag("sampler-ms", v, 1, 60000, &o->sampler_ms);
    case RF_SETTLE_MS:
        return runner_flag("settle-ms", v, 0, 60000, &o->settle_ms);
    case RF_INSTRUCTIONS:
        o->instructions = 1;
        return 0;
    default:
        return hn_error("run", "internal: unhandled flag %d", c), -1;
    }
}

static int parse_run_args(int argc, char **argv, hn_run_opts *o)
{
    int reps_set = 0, warm_set = 0, timeout_set = 0, c;
    o->seed = 1;
    o->timeout = 300;
    o->label = "run";
    opterr = 0; /* our own one-line messages */
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:h", run_options, NULL)) != -1) {
        if (c == 'h') {
            run_usage(stdout);
            exit(HN_EXIT_OK);
        }
        if (c == '?')
            return hn_error("run", "unknown flag '%s' (see abench run --help)", argv[optind - 1]),
                   -1;
        if (c == ':') return hn_error("run", "flag %s needs a value", argv[optind - 1]), -1;
        if (run_flag_apply(o, c, optarg, &reps_set, &warm_set, &timeout_set) != 0) return -1;
    }
    if (optind < argc) return hn_error("run", "unexpected argument '%s'", argv[optind]), -1;
    /* Instruction counts are deterministic: fewer repetitions say as much, none need warming,
     * and a cell under valgrind runs some 50 times slower. */
    if (!reps_set) o->reps = o->instructions ? 3 : 6;
    if (!warm_set) o->warmup = o->instructions ? 0 : 1;
    if (!timeout_set && o->instructions) o->timeout *= 10;
    if (o->instructions && o->sample_mean)
        return hn_error("run", "--instructions counts the loop without timer calls: drop "
                               "--latency/--sample-mean"),
               -1;
    if (!o->suite && o->nworkloads == 0)
        return hn_error("run", "nothing to run: give --workload w1,w2 or --suite default"), -1;
    if (o->suite && o->nworkloads)
        return hn_error("run", "--suite and --workload are exclusive"), -1;
    if (o->baseline && !o->report) return hn_error("run", "--baseline needs --report"), -1;
    return 0;
}

/* --instructions needs valgrind with callgrind: found on PATH and asked for its version
 * before any cell runs. */
static int find_valgrind(hn_run_opts *o)
{
    static char path[4096];
    const char *env = getenv("PATH");
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", env ? env : "/usr/bin:/bin");
    path[0] = '\0';
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        snprintf(path, sizeof path, "%s/valgrind", *dir ? dir : ".");
        if (access(path, X_OK) == 0) break;
        path[0] = '\0';
    }
    char *argv[] = {path, "--tool=callgrind", "--version", NULL}, *out = NULL, err[256] = "";
    if (!path[0] || hn_capture(argv, 30, &out, err, sizeof err) != 0) {
        free(out);
        return hn_error("run",
                        "--instructions needs valgrind (callgrind) on PATH%s%s; "
                        "install it: apt-get install valgrind",
                        path[0] ? ": " : "", path[0] ? err : ""),
               -1;
    }
    free(out);
    o->valgrind = path;
    return 0;
}

/* ---- Backends ---- */

/* Validates --alloc (or picks every available backend) and asks each runner for --info. */
static int resolve_allocs(hn_run_opts *o, json_t *infos)
{
    char path[4096], err[512];
    if (o->nallocs == 0) {
        for (int i = 0; hn_known_backends[i] && o->nallocs < HN_MAX_LIST; i++)
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
            else {
                char names[512] = "";
                for (int k = 0; hn_known_backends[k]; k++) {
                    size_t l = strlen(names);
                    snprintf(names + l, sizeof names - l, "%s%s", k ? " " : "",
                             hn_known_backends[k]);
                }
                hn_error("run", "unknown backend '%s' (known: %s)", a, names);
            }
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
        if (json_object_get(info, "config_error")) {
            json_decref(info);
            return hn_backend_config_check("run", a);
        }
        json_object_set_new(infos, a, info);
    }
    return 0;
}

/* ---- The run folder ---- */

static int make_run_dir(const hn_run_opts *o, char *dir, size_t len)
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

static json_t *make_meta(int argc, char **argv, const hn_run_opts *o, json_t *infos,
                         const hn_variant *vs, int nv, unsigned ncells)
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
    json_t *variants = json_object();
    json_object_foreach(infos, name, info) if (json_object_get(info, "variant_of"))
    {
        json_t *e = json_object();
        json_object_set(e, "backend", json_object_get(info, "variant_of"));
        json_object_set(e, "env", json_object_get(info, "env"));
        json_object_set_new(variants, name, e);
    }
    if (json_object_size(variants))
        json_object_set_new(meta, "backend_variants", variants);
    else
        json_decref(variants);
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
    json_object_set_new(m, "warmup", json_integer(o->warmup));
    json_object_set_new(m, "instructions", json_boolean(o->instructions));
    json_object_set_new(m, "cells", json_integer(ncells));
    json_object_set_new(meta, "matrix", m);
    return meta;
}

/* Timer calibration of the first backend's runner, for meta.json. */
static void add_timer(json_t *meta, const char *alloc, const hn_run_opts *o)
{
    char path[4096], err[256];
    char *out = NULL;
    hn_runner_path(alloc, path, sizeof path);
    char *argv[] = {path, "--calibrate", NULL};
    if (hn_capture_env(argv, hn_backend_env(alloc), 60, &out, err, sizeof err) == 0) {
        json_t *t = json_loads(out, 0, NULL);
        if (t) {
            json_object_set_new(t, "mean_sample_interval_ops",
                                json_real(o->sample_mean ? atof(o->sample_mean) : 0.0));
            json_object_set_new(meta, "timer", t);
        }
    }
    free(out);
}

/* ---- One cell ---- */

static void cell_id(const hn_cell *c, const char *alloc, const hn_variant *v, int vi, char *buf,
                    size_t len)
{
    snprintf(buf, len, "%04u_%s_%s_v%d_t%u_%s%u", c->idx, alloc, v->workload, vi, c->threads,
             c->warmup ? "w" : "r", c->rep);
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

/* The fields every row has, whatever became of the cell. */
static json_t *row_new(const hn_run_opts *o, const hn_cell *c, const char *alloc, json_t *info,
                       const hn_variant *v, const char *id)
{
    json_t *row = json_object();
    json_object_set_new(row, "schema", json_integer(1));
    json_object_set_new(row, "cell_id", json_string(id));
    json_object_set_new(row, "alloc", json_string(alloc));
    json_object_set(row, "alloc_version", json_object_get(info, "version"));
    if (json_object_get(info, "env"))
        json_object_set(row, "alloc_env", json_object_get(info, "env"));
    json_object_set_new(row, "workload", json_string(v->workload));
    json_object_set_new(row, "threads", json_integer(c->threads));
    json_object_set(row, "params", v->params);
    json_object_set_new(row, "rep", json_integer(c->rep));
    json_object_set_new(row, "seed", json_integer((json_int_t)o->seed));
    return row;
}

/* A cell that cannot run on this backend in this mode, recorded without spawning it. */
static json_t *na_row(const hn_run_opts *o, const hn_cell *c, const char *alloc, json_t *info,
                      const hn_variant *v, const char *id, const char *why)
{
    json_t *row = row_new(o, c, alloc, info, v, id);
    json_object_set_new(row, "status", json_string("na"));
    json_object_set_new(row, "error", json_string(why));
    return row;
}

/* Total instructions (Ir) of a callgrind output file: its "summary:" line (older files) or
 * "totals:" line. 0, or -1 when the file has neither. */
static int callgrind_total(const char *path, unsigned long long *ir)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int found = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "summary:", 8) || !strncmp(line, "totals:", 7)) {
            *ir = strtoull(strchr(line, ':') + 1, NULL, 10);
            found = 0;
        }
    fclose(f);
    return found;
}

/* --instructions: instr and instr_per_op from the cell's callgrind.out; the wall-clock fields
 * of a run under valgrind mean nothing for the allocator and are renamed (valgrind_wall_s) or
 * dropped, so no comparison can take them for real figures. */
static int add_instructions(json_t *row, const char *cdir, char *msg, size_t msglen)
{
    char p[4600];
    unsigned long long ir = 0;
    snprintf(p, sizeof p, "%s/callgrind.out", cdir);
    if (callgrind_total(p, &ir) != 0) {
        snprintf(msg, msglen, "no instruction total in %.900s (valgrind failed?)", p);
        return -1;
    }
    json_t *ops = json_object_get(row, "ops");
    json_object_set_new(row, "instr", json_integer((json_int_t)ir));
    if (json_is_number(ops) && json_number_value(ops) > 0)
        json_object_set_new(row, "instr_per_op", json_real((double)ir / json_number_value(ops)));
    json_t *w = json_object_get(row, "wall_s");
    if (w) json_object_set(row, "valgrind_wall_s", w);
    json_object_del(row, "wall_s");
    json_object_del(row, "ns_per_op");
    json_object_del(row, "ops_per_s");
    json_object_set_new(row, "instrumented", json_string("callgrind"));
    return 0;
}

/* Runs one cell; returns its row (NULL when interrupted). */
static json_t *run_cell(const hn_run_opts *o, const char *dir, const hn_cell *c, const char *alloc,
                        json_t *info, hn_variant *v)
{
    char id[256], cdir[4400], outp[4600], path[4096], th[16], seed[32], msg[1024], cgout[4500];
    char *argv[40 + 2 * HN_MAX_KV];
    int n = 0;
    cell_id(c, alloc, v, c->variant, id, sizeof id);
    snprintf(cdir, sizeof cdir, "%s/cells/%s", dir, id);
    snprintf(outp, sizeof outp, "%s/stderr.txt", cdir);
    hn_mkdir_p(cdir);
    hn_runner_path(alloc, path, sizeof path);
    snprintf(th, sizeof th, "%u", c->threads);
    snprintf(seed, sizeof seed, "%llu", o->seed);
    if (v->uncollected[c->alloc]) {
        const hn_backend_variant *bv = hn_backend_variant_of(alloc);
        snprintf(msg, sizeof msg, "%s is %s; this cell does not collect on %s", alloc,
                 bv ? bv->summary : "a variant", bv ? bv->base : "its backend");
        FILE *f = fopen(outp, "w"); /* the cell's folder says why, as a runner's n/a does */
        if (f) fprintf(f, "abench run: n/a: %s\n", msg), fclose(f);
        return na_row(o, c, alloc, info, v, id, msg);
    }
    if (o->instructions && !strcmp(alloc, "go-runtime"))
        return na_row(o, c, alloc, info, v, id,
                      "--instructions: the Go runtime's runner cannot bracket its measured "
                      "region for callgrind (no client requests in Go)");
    snprintf(cgout, sizeof cgout, "--callgrind-out-file=%s/callgrind.out", cdir);
    if (o->instructions) {
        argv[n++] = (char *)o->valgrind;
        argv[n++] = "--tool=callgrind";
        argv[n++] = "--instr-atstart=no";
        argv[n++] = "--cache-sim=no";
        argv[n++] = "--branch-sim=no";
        argv[n++] = "--dump-instr=no";
        argv[n++] = "-q";
        argv[n++] = cgout;
    }
    argv[n++] = path;
    if (o->instructions) argv[n++] = "--instructions";
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
    hn_spawn_env(argv, hn_backend_env(alloc), outp, o->timeout, &g_stop, &r);
    if (r.end == HN_PROC_INTERRUPTED) return NULL;

    json_t *row = row_new(o, c, alloc, info, v, id);
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
            /* The cell's own runner resolved the parameters (setup may record a choice that
             * depends on the backend, e.g. arena_impl=auto): its view wins over the check's. */
            if (json_is_object(json_object_get(res, "params")))
                json_object_set(row, "params", json_object_get(res, "params"));
            json_decref(res);
            if (o->instructions && add_instructions(row, cdir, msg, sizeof msg) != 0)
                status = "error";
        }
    }
    json_object_set_new(row, "status", json_string(status));
    if (msg[0]) json_object_set_new(row, "error", json_string(msg));
    if (r.end != HN_PROC_SPAWN_FAILED) {
        json_object_set_new(row, "user_s", json_real(tv_s(r.ru.ru_utime)));
        json_object_set_new(row, "sys_s", json_real(tv_s(r.ru.ru_stime)));
        /* Under valgrind the process's peak RSS is valgrind's, not the allocator's. */
        json_object_set_new(row, o->instructions ? "valgrind_peak_rss_bytes" : "peak_rss_bytes",
                            json_integer((json_int_t)r.ru.ru_maxrss * 1024));
        json_object_set_new(row, "minflt", json_integer(r.ru.ru_minflt));
        json_object_set_new(row, "majflt", json_integer(r.ru.ru_majflt));
        json_object_set_new(row, "process_wall_s", json_real(r.wall_s));
    }
    return row;
}

/* Removes DIR/cells/ID and the files in it (a cell folder holds no subfolders). */
static void remove_cell_dir(const char *dir, const char *id)
{
    char cdir[4400], p[4700];
    snprintf(cdir, sizeof cdir, "%s/cells/%s", dir, id);
    DIR *d = opendir(cdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", cdir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(cdir);
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

/* Runs every cell in order (the loop body is the progress line and the per-cell writes), then
 * closes meta.json, prints the summary and calls the report. */
static int execute(int argc, char **argv, hn_run_opts *o, json_t *infos, hn_variant *vs, int nv)
{
    static hn_cell cells[HN_MAX_CELLS];
    unsigned ncells = hn_matrix_plan(o, vs, nv, cells, HN_MAX_CELLS);
    char dir[4096], eta[32], el[32];
    if (make_run_dir(o, dir, sizeof dir) != 0) return HN_EXIT_EX_USAGE;
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
        const hn_cell *c = &cells[done];
        const char *alloc = o->allocs[c->alloc];
        double el_s = mono_s() - t0;
        fmt_dur(el_s, el, sizeof el);
        fmt_dur(done ? el_s / done * (ncells - done) : 0, eta, sizeof eta);
        if (tty)
            fprintf(stderr, "\r\033[K[%u/%u] %s %s t=%u %s %u  elapsed %s  ETA %s", done + 1,
                    ncells, alloc, vs[c->variant].workload, c->threads,
                    c->warmup ? "warm-up" : "rep", c->rep, el, done ? eta : "?");
        json_t *row = run_cell(o, dir, c, alloc, json_object_get(infos, alloc), &vs[c->variant]);
        if (!row) break; /* interrupted */
        const char *st = json_string_value(json_object_get(row, "status"));
        if (c->warmup && (!strcmp(st, "ok") || !strcmp(st, "na"))) {
            /* A warm-up that went well is not a result: its folder goes, its row is not kept. */
            if (!tty)
                fprintf(stderr, "abench run: [%u/%u] %s %s t=%u warm-up %u: %s (not recorded)\n",
                        done + 1, ncells, alloc, vs[c->variant].workload, c->threads, c->rep, st);
            remove_cell_dir(dir, json_string_value(json_object_get(row, "cell_id")));
            json_decref(row);
            continue;
        }
        if (c->warmup) json_object_set_new(row, "warmup", json_true()); /* kept: it failed */
        by_cell[done] = row;
        json_array_append_new(rows, row);
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
            json_t *ip = json_object_get(row, "instr_per_op");
            if (ip) fprintf(stderr, ", %.1f instr/op", json_number_value(ip));
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
    hn_run_summary(o, vs, nv, cells, by_cell, done);
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
static int dry_run(const hn_run_opts *o, const hn_variant *vs, int nv)
{
    static hn_cell cells[HN_MAX_CELLS];
    unsigned n = hn_matrix_plan(o, vs, nv, cells, HN_MAX_CELLS);
    for (unsigned i = 0; i < n; i++) {
        const hn_variant *v = &vs[cells[i].variant];
        printf("%u %s %s threads=%u rep=%u", cells[i].idx, o->allocs[cells[i].alloc], v->workload,
               cells[i].threads, cells[i].rep);
        for (int k = 0; k < v->nkv; k++)
            printf(" %s", v->kv[k]);
        printf("%s\n", v->uncollected[cells[i].alloc] ? " n/a" : "");
    }
    fprintf(stderr, "abench run: dry run: %u cells, nothing run\n", n);
    return HN_EXIT_OK;
}

int hn_cmd_run(int argc, char **argv)
{
    static hn_run_opts o;
    static hn_variant vs[1024];
    char err[512];
    memset(&o, 0, sizeof o);
    /* The parser splits lists in place: it works on a copy, meta.json gets argv as given. */
    char **av = calloc((size_t)argc + 1, sizeof *av);
    for (int i = 0; av && i < argc; i++)
        av[i] = strdup(argv[i]);
    if (!av || parse_run_args(argc, av, &o) != 0) return HN_EXIT_EX_USAGE;
    if (hn_check_go_env("run") != HN_EXIT_OK) return HN_EXIT_EX_USAGE;
    /* No valgrind: nothing wrong with the command, but this machine cannot measure it (2). */
    if (o.instructions && find_valgrind(&o) != 0) return HN_EXIT_CANNOT_JUDGE;
    json_t *infos = json_object();
    if (resolve_allocs(&o, infos) != 0) return HN_EXIT_EX_USAGE;
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
            return HN_EXIT_EX_USAGE;
        }
    }
    int nv = hn_variants_build(&o, cat, vs, (int)(sizeof vs / sizeof vs[0]));
    if (nv < 0) return HN_EXIT_EX_USAGE;
    if (nv == 0) {
        hn_error("run", "nothing to run (no workload of the suite is in this build)");
        return HN_EXIT_EX_USAGE;
    }
    /* A suite line the build rejects (a renamed parameter) is skipped with its reason; a
     * variant from the command line must be valid. */
    int kept = 0;
    for (int i = 0; i < nv; i++) {
        if (hn_variant_check(prefer[0], &vs[i]) == 0)
            vs[kept++] = vs[i];
        else if (!o.suite)
            return HN_EXIT_EX_USAGE;
    }
    if (o.suite && kept < nv)
        fprintf(stderr, "abench run: suite: %d line(s) skipped (see above)\n", nv - kept);
    nv = kept;
    if (nv == 0) return HN_EXIT_EX_USAGE;
    for (int i = 0; i < nv; i++)
        hn_variant_mark_uncollected(&o, &vs[i]);
    unsigned long long planned = 0;
    for (int i = 0; i < nv; i++)
        planned += (unsigned long long)vs[i].nthreads;
    planned *= (unsigned long long)o.nallocs * (o.reps + o.warmup);
    if (planned > HN_MAX_CELLS) {
        hn_error("run",
                 "the matrix has %llu cells; at most %d in one run (lower --reps or split "
                 "the lists)",
                 planned, HN_MAX_CELLS);
        return HN_EXIT_EX_USAGE;
    }
    int rc = o.dry_run ? dry_run(&o, vs, nv) : execute(argc, argv, &o, infos, vs, nv);
    json_decref(cat);
    json_decref(infos);
    return rc;
}
