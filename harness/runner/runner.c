/* runner.c - main of bin/abench-runner-<backend>: one cell (workload x threads x params x seed)
 * on exactly one allocator, linked in at build time (HN_RUNNER_ALLOC names its ab_allocator).
 *
 * Order of a cell: init the backend; refuse (exit 3) unless check_process_malloc() proves the
 * process malloc is the backend's; parse and validate parameters (exit 2 naming the bad one);
 * "n/a" (exit 4) when the backend lacks a needed capability; setup; start N worker threads
 * together after a barrier (each brackets the workload with thread_init/thread_exit); measure
 * the region between barrier and last join; teardown; write CELLDIR/result.json atomically
 * beside timeline.csv, events.csv and lat_<op>.hgrm. Flags and exit codes: hn_runner.h.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "hn_measure.h"
#include "hn_runner.h"
#include "wl_params.h"

#ifndef HN_RUNNER_ALLOC
#error "HN_RUNNER_ALLOC must name the backend's ab_allocator (set by harness/runner/CMakeLists.txt)"
#endif

#define PROG_LEN 64
static char prog[PROG_LEN]; /* "abench-runner-<name>", for messages */

typedef struct opts {
    int info, calibrate, list, check;
    const char *workload, *out;
    unsigned threads;
    uint64_t seed;
    const char *params[WL_MAX_PARAMS + 1];
    int nparams;
    hn_measure_opts m;
} opts;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- Arguments ---- */

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    o->threads = 1;
    o->seed = 1;
    o->m.sample_mean_ops = 0; /* latency sampling only when asked (--sample-mean) */
    o->m.sampler_ms = 5;
    o->m.settle_ms = 200;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: %s --info | --calibrate | --list-workloads\n"
                   "       %s --workload W [--threads N] [--param k=v]... [--seed S] [--out DIR]\n"
                   "          [--check] [--sample-mean OPS] [--sampler-ms MS] [--settle-ms MS]\n"
                   "          [--instructions]   (under valgrind --tool=callgrind "
                   "--instr-atstart=no)\n"
                   "One cell on this backend; without --out, result.json goes to stdout only.\n"
                   "Exit: 0 ok, 1 error, 2 usage, 3 refused (process malloc not ours), 4 n/a.\n",
                   prog, prog);
            exit(HN_RUNNER_OK);
        }
        if (!strcmp(a, "--info")) {
            o->info = 1;
            continue;
        } else if (!strcmp(a, "--calibrate")) {
            o->calibrate = 1;
            continue;
        } else if (!strcmp(a, "--list-workloads")) {
            o->list = 1;
            continue;
        } else if (!strcmp(a, "--check")) {
            o->check = 1;
            continue;
        } else if (!strcmp(a, "--instructions")) {
            o->m.instructions = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) return fail("unexpected argument '%s'", a), -1;
        if (!v) return fail("flag %s needs a value", a), -1;
        i++;
        if (!strcmp(a, "--workload")) {
            o->workload = v;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--param")) {
            if (o->nparams >= WL_MAX_PARAMS) return fail("too many --param flags"), -1;
            o->params[o->nparams++] = v;
        } else if (!strcmp(a, "--threads")) {
            if (parse_u64(v, 1, 1024, &n)) return fail("--threads '%s': need 1..1024", v), -1;
            o->threads = (unsigned)n;
        } else if (!strcmp(a, "--seed")) {
            if (parse_u64(v, 0, UINT64_MAX, &n)) return fail("--seed '%s': need an integer", v), -1;
            o->seed = n;
        } else if (!strcmp(a, "--sample-mean")) {
            if (parse_u64(v, 1, 1u << 30, &n)) return fail("--sample-mean '%s': need >= 1", v), -1;
            o->m.sample_mean_ops = (double)n;
        } else if (!strcmp(a, "--sampler-ms")) {
            if (parse_u64(v, 1, 60000, &n)) return fail("--sampler-ms '%s': need 1..60000", v), -1;
            o->m.sampler_ms = (unsigned)n;
        } else if (!strcmp(a, "--settle-ms")) {
            if (parse_u64(v, 0, 60000, &n)) return fail("--settle-ms '%s': need 0..60000", v), -1;
            o->m.settle_ms = (unsigned)n;
        } else {
            return fail("unknown flag '%s'", a), -1;
        }
    }
    if (!o->info && !o->calibrate && !o->list && !o->workload)
        return fail("nothing to do: give --info, --calibrate, --list-workloads or --workload"), -1;
    return 0;
}

/* ---- Descriptions (--info, --list-workloads) ---- */

static void print_caps(FILE *f, unsigned caps)
{
    static const char *const names[] = {"gc", "memlimit", "arenas", "gcpercent"};
    fputc('[', f);
    int first = 1;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & (1u << i)) {
            fprintf(f, "%s\"%s\"", first ? "" : ",", names[i]);
            first = 0;
        }
    fputc(']', f);
}

static void print_info(const ab_allocator *a, const char *check_err)
{
    printf("{\"name\":");
    hn_json_str(stdout, a->name);
    printf(",\"version\":");
    hn_json_str(stdout, a->version());
    printf(",\"caps\":");
    print_caps(stdout, a->caps);
    printf(",\"abi\":%d,\"malloc_check\":", AB_ALLOCATOR_ABI);
    hn_json_str(stdout, check_err ? check_err : "ok");
    const char *cfg = a->config_error ? a->config_error() : NULL;
    if (cfg) {
        printf(",\"config_error\":");
        hn_json_str(stdout, cfg);
    }
    printf("}\n");
}

static void print_calibration(void)
{
    hn_timer_cal c;
    hn_timer_calibrate(&c);
    printf("{\"source\":\"%s\",\"ticks_per_ns\":%.6f,\"overhead_ticks\":%llu,\"overhead_ns\":%.3f,"
           "\"clock_gettime_ns\":%.3f,\"resolution_ns\":%.3f}\n",
           c.source, c.ticks_per_ns, (unsigned long long)c.overhead_ticks, c.overhead_ns,
           c.clock_gettime_ns, (double)c.resolution_ticks / c.ticks_per_ns);
}

static const char *type_name(wl_param_type t)
{
    static const char *const n[] = {"int", "size", "double", "enum", "str"};
    return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}

static void print_workloads(void)
{
    const wl_workload *const *all = wl_all();
    printf("[");
    for (int i = 0; all[i]; i++) {
        const wl_workload *w = all[i];
        printf("%s\n{\"name\":", i ? "," : "");
        hn_json_str(stdout, w->name);
        printf(",\"summary\":");
        hn_json_str(stdout, w->summary ? w->summary : "");
        printf(",\"description\":");
        hn_json_str(stdout, w->description ? w->description : "");
        printf(",\"needs_caps\":");
        print_caps(stdout, w->needs_caps);
        printf(",\"test_only\":%s,\"params\":[", (w->flags & WL_F_TEST_ONLY) ? "true" : "false");
        for (unsigned k = 0; k < w->nparams; k++) {
            const wl_param_def *p = &w->params[k];
            printf("%s{\"name\":", k ? "," : "");
            hn_json_str(stdout, p->name);
            printf(",\"type\":\"%s\",\"default\":", type_name(p->type));
            hn_json_str(stdout, p->def ? p->def : "");
            printf(",\"help\":");
            hn_json_str(stdout, p->help ? p->help : "");
            if (p->type == WL_P_ENUM && p->choices) {
                printf(",\"choices\":");
                hn_json_str(stdout, p->choices);
            }
            if (p->type != WL_P_ENUM && p->type != WL_P_STR && p->min <= p->max)
                printf(",\"min\":%.17g,\"max\":%.17g", p->min, p->max);
            printf("}");
        }
        printf("]}");
    }
    printf("\n]\n");
}

/* ---- One cell ---- */

typedef struct worker {
    wl_thread *t;
    pthread_barrier_t *start;
} worker;

static void *worker_main(void *arg)
{
    worker *wk = arg;
    const ab_allocator *a = wk->t->a;
    if (a->thread_init) a->thread_init();
    pthread_barrier_wait(wk->start);
    hn_measure_thread_begin(wk->t->run);
    wk->t->run->w->thread_main(wk->t);
    hn_measure_thread_end(wk->t->run);
    if (a->thread_exit) a->thread_exit();
    return NULL;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Runs the threads; returns 0, or -1 when a thread cannot be created. */
static int run_threads(wl_run *run)
{
    pthread_barrier_t start;
    worker wk[1024];
    pthread_t th[1024];
    unsigned started = 0;
    pthread_barrier_init(&start, NULL, run->nthreads + 1);
    for (; started < run->nthreads; started++) {
        wk[started] = (worker){&run->threads[started], &start};
        if (pthread_create(&th[started], NULL, worker_main, &wk[started]) != 0) break;
    }
    if (started < run->nthreads) {
        /* Cannot start the cell as asked; the started threads are stuck at the barrier. */
        fail("cannot create worker thread %u of %u", started + 1, run->nthreads);
        exit(HN_RUNNER_ERROR);
    }
    hn_measure_start(run);
    pthread_barrier_wait(&start);
    for (unsigned i = 0; i < run->nthreads; i++)
        pthread_join(th[i], NULL);
    hn_measure_stop(run);
    pthread_barrier_destroy(&start);
    return 0;
}

static void write_stats(FILE *f, const ab_allocator *a)
{
    ab_stats *st =
        mmap(NULL, sizeof *st, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (st == MAP_FAILED) return;
    if (a->stats(st) == 0) {
        unsigned dropped = hn_stats_drop_wrapped(st);
#define AB_X(name, bit, desc)                                                                      \
    if (dropped & AB_STAT_##name)                                                                  \
        fprintf(stderr, "%s: warning: backend stat '" #name "' is negative (%lld): left out\n",    \
                prog, (long long)st->name);
        AB_STATS_FIELDS(AB_X)
#undef AB_X
        fputs(",\"stats_end\":{", f);
        int first = 1;
#define AB_X(name, bit, desc)                                                                      \
    if (st->valid & AB_STAT_##name) {                                                              \
        fprintf(f, "%s\"" #name "\":%llu", first ? "" : ",", (unsigned long long)st->name);        \
        first = 0;                                                                                 \
    }
        AB_STATS_FIELDS(AB_X)
#undef AB_X
        fprintf(f, "%s\"extra\":{", first ? "" : ",");
        for (unsigned i = 0; i < st->n_extra && i < AB_STATS_MAX_EXTRA; i++) {
            fputs(i ? "," : "", f);
            hn_json_str(f, st->extra[i].key);
            if (isfinite(st->extra[i].value))
                fprintf(f, ":%.17g", st->extra[i].value);
            else
                fputs(":null", f); /* JSON has no NaN or infinity */
        }
        fputs("}}", f);
    }
    munmap(st, sizeof *st);
}

static int write_result(wl_run *run, const opts *o, struct rusage *r0, struct rusage *r1)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    FILE *f = stdout;
    if (o->out) {
        snprintf(tmp, sizeof tmp, "%s/.result.json.tmp", o->out);
        snprintf(path, sizeof path, "%s/result.json", o->out);
        if (!(f = fopen(tmp, "w"))) return fail("cannot write %s: %s", tmp, strerror(errno)), -1;
    }
    const ab_allocator *a = run->a;
    uint64_t wall = hn_measure_wall_ns(run), ops = 0;
    for (unsigned i = 0; i < run->nthreads; i++)
        ops += atomic_load(&run->threads[i].ops);
    fprintf(f, "{\"schema\":1,\"alloc\":");
    hn_json_str(f, a->name);
    fputs(",\"alloc_version\":", f);
    hn_json_str(f, a->version());
    fputs(",\"workload\":", f);
    hn_json_str(f, run->w->name);
    fprintf(f, ",\"threads\":%u,\"seed\":%llu,\"params\":{", run->nthreads,
            (unsigned long long)run->seed);
    for (unsigned i = 0; i < run->w->nparams; i++) {
        fputs(i ? "," : "", f);
        hn_json_str(f, run->w->params[i].name);
        fputc(':', f);
        hn_json_str(f, run->p[i].s ? run->p[i].s : "");
    }
    fprintf(f, "},\"wall_s\":%.9f,\"ops\":%llu", (double)wall / 1e9, (unsigned long long)ops);
    double own_nsop; /* a workload's own ns_per_op (wl_metric) replaces the wall-time one */
    int own = hn_measure_metric(run, "ns_per_op", &own_nsop);
    if (own) fprintf(f, ",\"ns_per_op\":%.4f", own_nsop);
    if (ops > 0)
        fprintf(f, ",\"%s\":%.4f", own ? "wall_ns_per_op" : "ns_per_op",
                (double)wall * run->nthreads / (double)ops);
    if (wall > 0) fprintf(f, ",\"ops_per_s\":%.2f", (double)ops / ((double)wall / 1e9));
    fprintf(f,
            ",\"region\":{\"user_s\":%.6f,\"sys_s\":%.6f,\"minflt\":%ld,\"majflt\":%ld},"
            "\"runner_rusage\":{\"user_s\":%.6f,\"sys_s\":%.6f,\"maxrss_bytes\":%lld,"
            "\"minflt\":%ld,\"majflt\":%ld}",
            tv_s(r1->ru_utime) - tv_s(r0->ru_utime), tv_s(r1->ru_stime) - tv_s(r0->ru_stime),
            r1->ru_minflt - r0->ru_minflt, r1->ru_majflt - r0->ru_majflt, tv_s(r1->ru_utime),
            tv_s(r1->ru_stime), (long long)r1->ru_maxrss * 1024, r1->ru_minflt, r1->ru_majflt);
    int rc = hn_measure_write(run, o->out, f);
    write_stats(f, a);
    fputs("}\n", f);
    if (o->out) {
        int bad = ferror(f);
        if (fclose(f) != 0 || bad || rename(tmp, path) != 0)
            return fail("cannot write %s: %s", path, strerror(errno)), -1;
    }
    if (rc != 0) fail("cannot write the measurement files in %s", o->out);
    return rc;
}

static int mkdir_p(const char *dir)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static wl_thread *alloc_threads(unsigned n)
{
    void *p = mmap(NULL, sizeof(wl_thread) * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Parses, validates and sets up the cell; returns an hn_runner_exit code. */
static int prepare(wl_run *run, const opts *o, const ab_allocator *a)
{
    char err[512] = "";
    run->w = wl_find(o->workload);
    if (!run->w) return fail("unknown workload '%s'", o->workload), HN_RUNNER_USAGE;
    run->a = a;
    run->nthreads = o->threads;
    run->seed = o->seed;
    if (wl_params_parse(run, o->params, o->nparams, err, sizeof err) != 0)
        return fail("%s", err), HN_RUNNER_USAGE;
    unsigned missing = run->w->needs_caps & ~a->caps;
    if (missing) {
        fprintf(stderr, "%s: n/a: workload '%s' needs capabilities ", prog, run->w->name);
        print_caps(stderr, missing);
        fprintf(stderr, " that backend '%s' lacks\n", a->name);
        return HN_RUNNER_NA;
    }
    if (!(run->threads = alloc_threads(run->nthreads)))
        return fail("out of memory for %u threads", run->nthreads), HN_RUNNER_ERROR;
    for (unsigned i = 0; i < run->nthreads; i++) {
        wl_thread *t = &run->threads[i];
        t->run = run;
        t->a = a;
        t->id = i;
        wl_rng_seed(t->rng, run->seed, i);
        t->sample_countdown = UINT32_MAX;
    }
    if (run->w->setup) {
        int rc = run->w->setup(run, err, sizeof err);
        if (rc == WL_SETUP_NA) return fprintf(stderr, "%s: n/a: %s\n", prog, err), HN_RUNNER_NA;
        if (rc != 0) return fail("%s", err[0] ? err : "workload setup failed"), HN_RUNNER_USAGE;
    }
    return HN_RUNNER_OK;
}

static int run_cell(const opts *o, const ab_allocator *a)
{
    static wl_run run;
    int rc = prepare(&run, o, a);
    if (o->check && rc == HN_RUNNER_NA) {
        /* Valid parameters; this backend just cannot run them. The CLI only validates here. */
        rc = HN_RUNNER_OK;
        printf("{\"na\":true,");
    } else if (rc != HN_RUNNER_OK) {
        return rc;
    } else if (o->check) {
        printf("{");
        if (run.w->teardown) run.w->teardown(&run);
    }
    if (o->check) {
        printf("\"workload\":");
        hn_json_str(stdout, run.w->name);
        printf(",\"params\":{");
        for (unsigned i = 0; i < run.w->nparams; i++) {
            printf("%s", i ? "," : "");
            hn_json_str(stdout, run.w->params[i].name);
            putchar(':');
            hn_json_str(stdout, run.p[i].s ? run.p[i].s : "");
        }
        printf("}}\n");
        return HN_RUNNER_OK;
    }
    if (o->out && mkdir_p(o->out) != 0)
        return fail("cannot create %s: %s", o->out, strerror(errno)), HN_RUNNER_ERROR;
    hn_timer_cal cal;
    hn_timer_calibrate(&cal);
    if (hn_measure_init(&run, &o->m, &cal) != 0)
        return fail("cannot set up measurement"), HN_RUNNER_ERROR;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    run_threads(&run);
    getrusage(RUSAGE_SELF, &r1);
    if (run.w->teardown) run.w->teardown(&run);
    rc = write_result(&run, o, &r0, &r1) == 0 ? HN_RUNNER_OK : HN_RUNNER_ERROR;
    hn_measure_free(&run);
    return rc;
}

/* ---- main ---- */

/* In the test-only null runner, ABENCH_TEST_FAIL_MALLOC_CHECK=1 makes the malloc check fail
 * so tests can see the refusal path; no other runner reads it. */
static int malloc_check(const ab_allocator *a, char *err, size_t errlen)
{
#ifdef HN_RUNNER_TEST_HOOKS
    const char *e = getenv("ABENCH_TEST_FAIL_MALLOC_CHECK");
    if (e && strcmp(e, "1") == 0) {
        snprintf(err, errlen, "ABENCH_TEST_FAIL_MALLOC_CHECK=1 (test hook)");
        return -1;
    }
#endif
    return a->check_process_malloc(err, errlen);
}

int main(int argc, char **argv)
{
    const ab_allocator *a = &HN_RUNNER_ALLOC;
    opts o;
    char err[512] = "";
    memset(&o, 0, sizeof o);
    snprintf(prog, sizeof prog, "%s%s", HN_RUNNER_PREFIX, a->name);
    if (parse_args(argc, argv, &o) != 0) return HN_RUNNER_USAGE;
    if (a->init && a->init(err, sizeof err) != 0)
        return fail("backend init failed: %s", err), HN_RUNNER_ERROR;
    int checked = malloc_check(a, err, sizeof err);
    if (o.info) {
        print_info(a, checked == 0 ? NULL : err);
        return HN_RUNNER_OK;
    }
    if (checked != 0)
        return fail("refusing to run: the process malloc is not %s's: %s", a->name, err),
               HN_RUNNER_REFUSED;
    if (o.calibrate) print_calibration();
    if (o.list) print_workloads();
    if (!o.workload) return HN_RUNNER_OK;
    return run_cell(&o, a);
}
