/* measure.c - the per-run measurement context behind wl_workload.h's hooks: sampled latency,
 * the timeline sampler thread, phase and GC events, settle measurements, and the per-cell files
 * they produce (timeline.csv, events.csv, lat_<op>.hgrm, the measurement fields of result.json,
 * including the return of memory after a workload's "spike").
 *
 * Invariants:
 *  - Every buffer here is mmap'd, never taken from the allocator under test; histogram pages
 *    are touched only when a bucket is first used, so the runner's own RSS stays small.
 *  - A thread's wl_lat is written only by the thread using that slot; the sampler only reads
 *    live_bytes (relaxed atomics). Events and settle records are appended under ev_lock.
 *  - Sampling never consumes the workload's RNG: each wl_lat has its own stream, so the
 *    operation sequence of a seed is the same with and without measurement.
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include "hn_measure.h"

/* ---- Types ---- */

/* Op kind names, the same as wl_op_names (kept here so ab_measure needs no symbol from
 * ab_workloads and links after it). */
static const char *const op_names[WL_OP_COUNT] = {
#define WL_X(id, str) str,
    WL_OPS(WL_X)
#undef WL_X
};

struct wl_lat {
    hn_hist *h[WL_OP_COUNT]; /* NULL until the op kind is first timed */
    uint64_t rng[4];         /* sampling stream, independent of the workload's */
    double mean;
    const hn_timer_cal *cal;
    uint64_t samples;
} __attribute__((aligned(64))); /* per thread, in an array: no line shared between threads */

typedef struct tl_row {
    double t_s;
    uint64_t rss;
    int64_t live;
    uint64_t st[5]; /* the neutral ab_stats fields, in AB_STATS_FIELDS order */
    unsigned valid; /* ab_stats.valid */
} tl_row;

typedef struct ev_row {
    double t_s;
    char kind[12]; /* "phase", "settle", "gc_start", "gc_end" */
    char name[40];
    ab_gc_event gc; /* valid for gc_* kinds */
    uint64_t rss;   /* settle kind */
} ev_row;

/* A growable mmap'd array of fixed-size rows. */
typedef struct mvec {
    void *p;
    size_t n, cap, elem;
} mvec;

struct wl_measure {
    hn_measure_opts o;
    hn_timer_cal cal;
    wl_run *run;
    wl_lat *lats; /* nthreads entries */
    pthread_t sampler;
    int sampler_running;
    atomic_int stop;
    uint64_t t0_ns, t1_ns;
    double gc_cpu0_ns, gc_cpu1_ns;        /* backend's GC CPU at t0 / t1 (gc_cpu_ns), NAN: none */
    uint64_t rss_base;                    /* RSS when the measured region starts (setup done) */
    atomic_uint instr_begun, instr_ended; /* workers in / out of the region (--instructions) */
    uint64_t settle_ns;                   /* union of the settle delays (under ev_lock) */
    unsigned settling;                    /* threads inside wl_settle now (under ev_lock) */
    uint64_t settle_since;                /* when `settling` last rose from 0 */
    mvec tl;                              /* tl_row, written by the sampler thread only */
    pthread_mutex_t ev_lock;              /* guards ev, the settle fields and metrics */
    mvec ev;                              /* ev_row */
    struct {
        unsigned n;
        char name[16][40];
        double value[16];
    } metrics; /* wl_metric's table (section "Workload metrics") */
};

/* ---- mmap helpers ---- */

static void *mm_zalloc(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void *mvec_push(mvec *v)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 1024;
        void *np = v->p ? mremap(v->p, v->cap * v->elem, ncap * v->elem, MREMAP_MAYMOVE)
                        : mm_zalloc(ncap * v->elem);
        if (!np || np == MAP_FAILED) return NULL;
        v->p = np;
        v->cap = ncap;
    }
    return (char *)v->p + v->elem * v->n++;
}

static void mvec_free(mvec *v)
{
    if (v->p) munmap(v->p, v->cap * v->elem);
    v->p = NULL;
    v->n = v->cap = 0;
}

/* ---- Small helpers ---- */

/* Reads /proc/self/statm with open/read into a stack buffer: no stdio, so the sampler thread
 * never allocates through the allocator under test. */
uint64_t hn_rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    char *p = buf;
    strtoull(p, &p, 10); /* size */
    unsigned long long res = strtoull(p, NULL, 10);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint32_t hn_exp_countdown(uint64_t rng[4], double mean)
{
    if (mean <= 1.0) return 1;
    /* Geometric with mean `mean`: the discrete exponential. */
    double u = wl_rand_unit(rng);
    double k = floor(log1p(-u) / log1p(-1.0 / mean)) + 1.0;
    return k >= 4294967295.0 ? UINT32_MAX : (uint32_t)k;
}

static double since_start_s(const wl_measure *m, uint64_t now)
{
    return now >= m->t0_ns ? (double)(now - m->t0_ns) / 1e9 : 0.0;
}

static int64_t live_sum(const wl_run *run)
{
    int64_t s = 0;
    for (unsigned i = 0; i < run->nthreads; i++)
        s += atomic_load_explicit(&run->threads[i].live_bytes, memory_order_relaxed);
    return s;
}

/* ---- Latency sampling (the wl_timed_* hooks) ---- */

static void lat_add(wl_thread *t, wl_op op, uint64_t dticks)
{
    wl_lat *l = t->lat;
    if (!l->h[op]) {
        l->h[op] = mm_zalloc(sizeof(hn_hist));
        if (!l->h[op]) return;
        l->h[op]->min = UINT64_MAX; /* the rest of a fresh mapping is already zero */
    }
    hn_hist_record(l->h[op], hn_ticks_to_ns(l->cal, dticks));
    l->samples++;
}

static void next_countdown(wl_thread *t)
{
    t->sample_countdown = t->lat ? hn_exp_countdown(t->lat->rng, t->lat->mean) : UINT32_MAX;
}

#define TIMED(t, op, call)                                                                         \
    do {                                                                                           \
        if (!(t)->lat) {                                                                           \
            call;                                                                                  \
        } else {                                                                                   \
            uint64_t a_ = hn_ticks();                                                              \
            call;                                                                                  \
            uint64_t b_ = hn_ticks();                                                              \
            lat_add((t), (op), b_ - a_);                                                           \
        }                                                                                          \
        next_countdown(t);                                                                         \
    } while (0)

void *wl_timed_malloc(wl_thread *t, size_t size)
{
    void *p;
    TIMED(t, WL_OP_MALLOC, p = t->a->malloc(size));
    return p;
}

void *wl_timed_calloc(wl_thread *t, size_t n, size_t size)
{
    void *p;
    TIMED(t, WL_OP_CALLOC, p = t->a->calloc(n, size));
    return p;
}

void *wl_timed_realloc(wl_thread *t, void *p, size_t size)
{
    void *q;
    TIMED(t, WL_OP_REALLOC, q = t->a->realloc(p, size));
    return q;
}

void wl_timed_free(wl_thread *t, void *p)
{
    TIMED(t, WL_OP_FREE, t->a->free(p));
}

void *wl_timed_gc_alloc(wl_thread *t, size_t size, unsigned flags)
{
    void *p;
    TIMED(t, WL_OP_GC_ALLOC, p = t->a->gc_alloc(size, flags));
    return p;
}

void wl_lat_record(wl_thread *t, wl_op op, uint64_t start_ticks, uint64_t end_ticks)
{
    if (t->lat && (unsigned)op < WL_OP_COUNT && end_ticks >= start_ticks)
        lat_add(t, op, end_ticks - start_ticks);
}

int wl_lat_should_sample(wl_thread *t)
{
    if (!t->lat) return 0;
    if (--t->sample_countdown != 0) return 0;
    next_countdown(t);
    return 1;
}

/* ---- Events and settle ---- */

static void ev_add(wl_measure *m, const char *kind, const char *name, uint64_t now)
{
    pthread_mutex_lock(&m->ev_lock);
    ev_row *e = mvec_push(&m->ev);
    if (e) {
        memset(e, 0, sizeof *e);
        e->t_s = since_start_s(m, now);
        snprintf(e->kind, sizeof e->kind, "%s", kind);
        snprintf(e->name, sizeof e->name, "%s", name ? name : "");
    }
    pthread_mutex_unlock(&m->ev_lock);
}

void wl_event(wl_run *run, const char *name)
{
    if (run && run->m) ev_add(run->m, "phase", name, hn_now_ns());
}

/* Waits the settle delay and records RSS. The time during which at least one thread is
 * settling is excluded from the measured wall (a union, so concurrent settles count once). */
void wl_settle(wl_run *run, const char *name)
{
    if (!run || !run->m) return;
    wl_measure *m = run->m;
    pthread_mutex_lock(&m->ev_lock);
    if (m->settling++ == 0) m->settle_since = hn_now_ns();
    pthread_mutex_unlock(&m->ev_lock);
    struct timespec d = {m->o.settle_ms / 1000, (long)(m->o.settle_ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR) {
    }
    uint64_t rss = hn_rss_bytes(), b = hn_now_ns();
    pthread_mutex_lock(&m->ev_lock);
    if (--m->settling == 0) m->settle_ns += b - m->settle_since;
    ev_row *e = mvec_push(&m->ev);
    if (e) {
        memset(e, 0, sizeof *e);
        e->t_s = since_start_s(m, b);
        snprintf(e->kind, sizeof e->kind, "settle");
        snprintf(e->name, sizeof e->name, "%s", name ? name : "");
        e->rss = rss;
    }
    pthread_mutex_unlock(&m->ev_lock);
}

/* GC event hook: copy and go (called by the collector, maybe with the world stopped). */
static void on_gc_event(const ab_gc_event *ev, void *ctx)
{
    wl_measure *m = ctx;
    pthread_mutex_lock(&m->ev_lock);
    ev_row *e = mvec_push(&m->ev);
    if (e) {
        memset(e, 0, sizeof *e);
        e->t_s = since_start_s(m, ev->t_ns ? ev->t_ns : hn_now_ns());
        snprintf(e->kind, sizeof e->kind, ev->kind == AB_GC_EV_CYCLE_START ? "gc_start" : "gc_end");
        snprintf(e->name, sizeof e->name, "gc%llu", (unsigned long long)ev->cycle);
        e->gc = *ev;
    }
    pthread_mutex_unlock(&m->ev_lock);
}

/* ---- Workload metrics (wl_metric) ----
 *
 * A fixed table of up to 16 name/value pairs in wl_measure, under ev_lock; a name reported
 * again adds to its value (threads may report their shares). hn_measure_write writes them as
 * top-level numbers in the order first reported, all but `ns_per_op`, which the runner writes
 * in place of its own figure (hn_measure_metric). */

static int metric_name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return 0;
    return n > 0 && n < 40;
}

void wl_metric(wl_run *run, const char *name, double value)
{
    if (!run || !run->m) return;
    wl_measure *m = run->m;
    if (!name || !metric_name_ok(name) || !isfinite(value)) {
        fprintf(stderr,
                "abench runner: warning: workload metric '%.60s' left out (bad name or "
                "value)\n",
                name ? name : "");
        return;
    }
    pthread_mutex_lock(&m->ev_lock);
    unsigned i = 0;
    while (i < m->metrics.n && strcmp(m->metrics.name[i], name) != 0)
        i++;
    if (i < m->metrics.n) {
        m->metrics.value[i] += value;
    } else if (i < 16) {
        snprintf(m->metrics.name[i], sizeof m->metrics.name[i], "%s", name);
        m->metrics.value[i] = value;
        m->metrics.n++;
    } else {
        i = UINT32_MAX;
    }
    pthread_mutex_unlock(&m->ev_lock);
    if (i == UINT32_MAX)
        fprintf(stderr, "abench runner: warning: workload metric '%s' left out (more than 16)\n",
                name);
}

int hn_measure_metric(const wl_run *run, const char *name, double *out)
{
    wl_measure *m = run->m;
    int found = 0;
    pthread_mutex_lock(&m->ev_lock);
    for (unsigned i = 0; i < m->metrics.n && !found; i++)
        if (strcmp(m->metrics.name[i], name) == 0) {
            *out = m->metrics.value[i];
            found = 1;
        }
    pthread_mutex_unlock(&m->ev_lock);
    return found;
}

static void write_metrics(wl_measure *m, FILE *json)
{
    pthread_mutex_lock(&m->ev_lock);
    for (unsigned i = 0; i < m->metrics.n; i++)
        if (strcmp(m->metrics.name[i], "ns_per_op") != 0)
            fprintf(json, ",\"%s\":%.17g", m->metrics.name[i], m->metrics.value[i]);
    pthread_mutex_unlock(&m->ev_lock);
}

/* ---- Timeline sampler ---- */

unsigned hn_stats_drop_wrapped(ab_stats *st)
{
    unsigned dropped = 0;
#define AB_X(name, bit, desc)                                                                      \
    if ((st->valid & AB_STAT_##name) && st->name > (uint64_t)INT64_MAX) dropped |= AB_STAT_##name;
    AB_STATS_FIELDS(AB_X)
#undef AB_X
    st->valid &= ~dropped;
    return dropped;
}

static void sample_once(wl_measure *m)
{
    ab_stats st;
    tl_row *r = mvec_push(&m->tl);
    if (!r) return;
    r->t_s = since_start_s(m, hn_now_ns());
    r->rss = hn_rss_bytes();
    r->live = live_sum(m->run);
    memset(&st, 0, offsetof(ab_stats, extra));
    r->valid = m->run->a->stats(&st) == 0 ? st.valid : 0;
    hn_stats_drop_wrapped(&st);
    r->valid &= st.valid;
    unsigned i = 0;
#define AB_X(name, bit, desc) r->st[i++] = st.name;
    AB_STATS_FIELDS(AB_X)
#undef AB_X
}

static void *sampler_main(void *arg)
{
    wl_measure *m = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&m->stop)) {
        sample_once(m);
        next.tv_nsec += (long)m->o.sampler_ms * 1000000L;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
    }
    return NULL;
}

/* ---- Life cycle ---- */

int hn_measure_init(wl_run *run, const hn_measure_opts *o, const hn_timer_cal *cal)
{
    wl_measure *m = mm_zalloc(sizeof *m);
    if (!m) return -1;
    m->o = *o;
    /* sample_mean_ops 0: latency sampling off (the default): no thread gets a sampler, so the
     * countdown in the wl_* wrappers never leads to a timed call. */
    if (m->o.sampler_ms == 0) m->o.sampler_ms = 5;
    m->cal = *cal;
    m->run = run;
    m->gc_cpu0_ns = m->gc_cpu1_ns = NAN; /* until hn_measure_start / _stop read them */
    m->tl.elem = sizeof(tl_row);
    m->ev.elem = sizeof(ev_row);
    pthread_mutex_init(&m->ev_lock, NULL);
    m->lats = mm_zalloc(sizeof(wl_lat) * run->nthreads);
    if (!m->lats) return -1;
    for (unsigned i = 0; i < run->nthreads; i++) {
        wl_lat *l = &m->lats[i];
        wl_rng_seed(l->rng, run->seed ^ 0x5a3c9e1f7b2d4861ull, 1000003u + i);
        l->mean = m->o.sample_mean_ops;
        l->cal = &m->cal;
        if (l->mean < 1) {
            run->threads[i].lat = NULL;
            run->threads[i].sample_countdown = UINT32_MAX;
            continue;
        }
        run->threads[i].lat = l;
        run->threads[i].sample_countdown = hn_exp_countdown(l->rng, l->mean);
    }
    run->m = m;
    if ((run->a->caps & AB_CAP_GC) && run->a->gc_set_event_hook)
        run->a->gc_set_event_hook(on_gc_event, m);
    return 0;
}

/* The key of the backend's cumulative GC CPU time among its stats extras: Go's runtime/metrics
 * name, in CPU-seconds over every thread (stop-the-world phases, background marking, assists).
 * A backend whose collector does work outside its pauses reports it so that gc.cpu_fraction
 * counts that work; without it, cpu_fraction is the pauses' share of the wall time. */
#define GC_CPU_KEY "/cpu/classes/gc/total:cpu-seconds"

/* The backend's GC CPU time so far in ns (GC_CPU_KEY), NAN when it reports none. */
static double gc_cpu_ns(const wl_run *run)
{
    ab_stats st;
    if (!(run->a->caps & AB_CAP_GC) || !run->a->stats) return NAN;
    memset(&st, 0, offsetof(ab_stats, extra));
    if (run->a->stats(&st) != 0) return NAN;
    for (unsigned i = 0; i < st.n_extra && i < AB_STATS_MAX_EXTRA; i++)
        if (strcmp(st.extra[i].key, GC_CPU_KEY) == 0 && isfinite(st.extra[i].value))
            return st.extra[i].value * 1e9;
    return NAN;
}

void hn_measure_start(wl_run *run)
{
    wl_measure *m = run->m;
    m->gc_cpu0_ns = gc_cpu_ns(run);
    m->t0_ns = hn_now_ns();
    atomic_store(&m->stop, 0);
    m->rss_base = hn_rss_bytes();
    if (m->o.instructions) { /* counting is started by the first worker: see below */
        m->sampler_running = 0;
        return;
    }
    m->sampler_running = pthread_create(&m->sampler, NULL, sampler_main, m) == 0;
}

void hn_measure_stop(wl_run *run)
{
    wl_measure *m = run->m;
    m->t1_ns = hn_now_ns();
    m->gc_cpu1_ns = gc_cpu_ns(run);
    atomic_store(&m->stop, 1);
    if (m->sampler_running) pthread_join(m->sampler, NULL);
    m->sampler_running = 0;
    sample_once(m); /* the final state, after the last operation */
}

/* Under --instructions the first worker out of the start barrier starts callgrind's
 * instrumentation and the last one to finish stops it, so the count holds the workload's
 * threads and nothing of the barrier's or the joins' scheduling-dependent paths (with one
 * thread it is exactly the workload's loop). Everything before (setup, trace loading, timer
 * calibration) and after is not instrumented. The requests are no-ops outside valgrind. */
void hn_measure_thread_begin(wl_run *run)
{
    wl_measure *m = run->m;
    if (m->o.instructions && atomic_fetch_add(&m->instr_begun, 1) == 0)
        CALLGRIND_START_INSTRUMENTATION;
}

void hn_measure_thread_end(wl_run *run)
{
    wl_measure *m = run->m;
    if (m->o.instructions && atomic_fetch_add(&m->instr_ended, 1) + 1 == run->nthreads)
        CALLGRIND_STOP_INSTRUMENTATION;
}

uint64_t hn_measure_wall_ns(const wl_run *run)
{
    const wl_measure *m = run->m;
    uint64_t wall = m->t1_ns - m->t0_ns, settle = m->settle_ns; /* threads joined: no lock */
    return wall > settle ? wall - settle : 0;
}

void hn_measure_free(wl_run *run)
{
    wl_measure *m = run->m;
    if (!m) return;
    if ((run->a->caps & AB_CAP_GC) && run->a->gc_set_event_hook)
        run->a->gc_set_event_hook(NULL, NULL);
    for (unsigned i = 0; i < run->nthreads; i++) {
        for (int op = 0; op < WL_OP_COUNT; op++)
            if (m->lats[i].h[op]) munmap(m->lats[i].h[op], sizeof(hn_hist));
        run->threads[i].lat = NULL;
    }
    munmap(m->lats, sizeof(wl_lat) * run->nthreads);
    mvec_free(&m->tl);
    mvec_free(&m->ev);
    pthread_mutex_destroy(&m->ev_lock);
    munmap(m, sizeof *m);
    run->m = NULL;
}

/* ---- Output ---- */

void hn_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Opens dir/name for writing through a temporary name; close_atomic renames it in place. */
static FILE *open_atomic(const char *dir, const char *name, char *tmp, size_t tmplen)
{
    snprintf(tmp, tmplen, "%s/.%s.tmp", dir, name);
    return fopen(tmp, "w");
}

static int close_atomic(FILE *f, const char *dir, const char *name, const char *tmp)
{
    char path[4096];
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return rename(tmp, path);
}

static int write_timeline(const wl_measure *m, const char *dir)
{
    char tmp[4096];
    FILE *f = open_atomic(dir, "timeline.csv", tmp, sizeof tmp);
    if (!f) return -1;
    fputs("t_s,rss_bytes,live_bytes", f);
#define AB_X(name, bit, desc) fputs("," #name, f);
    AB_STATS_FIELDS(AB_X)
#undef AB_X
    fputc('\n', f);
    const tl_row *r = m->tl.p;
    for (size_t i = 0; i < m->tl.n; i++) {
        fprintf(f, "%.6f,%llu,%lld", r[i].t_s, (unsigned long long)r[i].rss, (long long)r[i].live);
        for (unsigned k = 0; k < 5; k++) {
            if (r[i].valid & (1u << k))
                fprintf(f, ",%llu", (unsigned long long)r[i].st[k]);
            else
                fputc(',', f);
        }
        fputc('\n', f);
    }
    return close_atomic(f, dir, "timeline.csv", tmp);
}

static int write_events(const wl_measure *m, const char *dir)
{
    char tmp[4096];
    FILE *f = open_atomic(dir, "events.csv", tmp, sizeof tmp);
    if (!f) return -1;
    fputs("t_s,kind,name,rss_bytes,cycle,pause_ns,heap_before,heap_after,heap_marked,heap_goal,"
          "mem_limit,forced\n",
          f);
    const ev_row *e = m->ev.p;
    for (size_t i = 0; i < m->ev.n; i++) {
        fprintf(f, "%.6f,%s,%s,", e[i].t_s, e[i].kind, e[i].name);
        if (e[i].rss) fprintf(f, "%llu", (unsigned long long)e[i].rss);
        if (strncmp(e[i].kind, "gc_", 3) == 0) {
            const ab_gc_event *g = &e[i].gc;
            fprintf(f, ",%llu,%llu,%lld,%lld,%lld,%lld,%lld,%d\n", (unsigned long long)g->cycle,
                    (unsigned long long)g->pause_ns, (long long)g->heap_before,
                    (long long)g->heap_after, (long long)g->heap_marked, (long long)g->heap_goal,
                    (long long)g->mem_limit, g->forced);
        } else {
            fputs(",,,,,,,,\n", f);
        }
    }
    return close_atomic(f, dir, "events.csv", tmp);
}

/* Merges every thread's histogram of one op kind into *out; returns out->total. */
static uint64_t merged(const wl_measure *m, int op, hn_hist *out)
{
    hn_hist_init(out);
    for (unsigned i = 0; i < m->run->nthreads; i++)
        if (m->lats[i].h[op]) hn_hist_merge(out, m->lats[i].h[op]);
    return out->total;
}

static int write_latency(const wl_measure *m, const char *dir, FILE *json)
{
    hn_hist *h = mm_zalloc(sizeof *h);
    int rc = 0, first = 1;
    if (!h) return -1;
    fputs(",\"lat\":{", json);
    for (int op = 0; op < WL_OP_COUNT; op++) {
        if (merged(m, op, h) == 0) continue;
        char name[64], tmp[4096], title[160];
        snprintf(name, sizeof name, "lat_%s.hgrm", op_names[op]);
        snprintf(title, sizeof title, "op = %s, fenced rdtsc, overhead %.1f ns subtracted",
                 op_names[op], m->cal.overhead_ns);
        FILE *f = dir ? open_atomic(dir, name, tmp, sizeof tmp) : NULL;
        if (dir &&
            (!f || hn_hist_write_hgrm(h, f, title) != 0 || close_atomic(f, dir, name, tmp) != 0))
            rc = -1;
        fprintf(json,
                "%s\"%s\":{\"count\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu,"
                "\"p999_ns\":%llu,\"p9999_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%.3f}",
                first ? "" : ",", op_names[op], (unsigned long long)h->total,
                (unsigned long long)hn_hist_value_at(h, 50),
                (unsigned long long)hn_hist_value_at(h, 90),
                (unsigned long long)hn_hist_value_at(h, 99),
                (unsigned long long)hn_hist_value_at(h, 99.9),
                (unsigned long long)hn_hist_value_at(h, 99.99), (unsigned long long)h->max,
                hn_hist_mean(h));
        first = 0;
    }
    fputs("}", json);
    munmap(h, sizeof *h);
    return rc;
}

/* Time-weighted means and peaks over the timeline (each row holds until the next one). */
static void write_memory(const wl_measure *m, FILE *json)
{
    const tl_row *r = m->tl.p;
    double rss_area = 0, live_area = 0, span = 0;
    uint64_t rss_peak = 0;
    int64_t live_peak = 0;
    for (size_t i = 0; i < m->tl.n; i++) {
        if (r[i].rss > rss_peak) rss_peak = r[i].rss;
        if (r[i].live > live_peak) live_peak = r[i].live;
        if (i + 1 < m->tl.n) {
            double dt = r[i + 1].t_s - r[i].t_s;
            rss_area += dt * (double)r[i].rss;
            live_area += dt * (double)r[i].live;
            span += dt;
        }
    }
    if (m->tl.n == 0) return;
    double rss_mean = span > 0 ? rss_area / span : (double)r[0].rss;
    double live_mean = span > 0 ? live_area / span : (double)r[0].live;
    fprintf(json, ",\"rss_mean_bytes\":%.0f,\"rss_peak_sampled_bytes\":%llu", rss_mean,
            (unsigned long long)rss_peak);
    /* Net of the runner's own footprint when the region started (binary, harness buffers, a
     * workload's parsed input such as a replay trace): what the workload's allocations cost. */
    double base = (double)m->rss_base;
    fprintf(
        json, ",\"rss_base_bytes\":%llu,\"rss_net_peak_bytes\":%.0f,\"rss_net_mean_bytes\":%.0f",
        (unsigned long long)m->rss_base, (double)rss_peak > base ? (double)rss_peak - base : 0.0,
        rss_mean > base ? rss_mean - base : 0.0);
    fprintf(json, ",\"live_mean_bytes\":%.0f,\"live_peak_bytes\":%lld", live_mean,
            (long long)live_peak);
    if (live_mean > 0) fprintf(json, ",\"frag_ratio\":%.4f", rss_mean / live_mean);
    fprintf(json, ",\"timeline_samples\":%zu", m->tl.n);
}

/* ---- Memory return after a spike ----
 *
 * For workloads that mark a phase event "spike" and later one whose name starts with "steady"
 * (burst: "steady", burst-gc: "steady-again"), the drop back to the steady live set. Per spike:
 *   rss_steady  = RSS of the last timeline sample at or before the spike (the first sample if
 *                 none is earlier);
 *   window      = from the drop to the next phase event of any name (burst marks "end" before
 *                 it frees its steady set), else to the end of the measured region (the row
 *                 sampled after the workers ended is left out);
 *   return_s    = time from the drop to the first sample in the window with
 *                 RSS <= 1.1 x rss_steady; absent when none;
 *   excess90_s  = the same for RSS <= rss_steady + 10% of (peak - rss_steady): 90% of the
 *                 spike's extra memory given back (robust when the steady RSS is small);
 *   after_1s    = RSS of the first sample at or after drop + 1 s in the window; absent when the
 *                 window ends sooner. */
typedef struct spike_ret {
    double t_spike, t_drop;
    uint64_t rss_steady, rss_peak, after_1s;
    double return_s, excess90_s; /* < 0: did not return within the window */
    int has_after_1s;
} spike_ret;

static int is_phase(const ev_row *e, const char *prefix)
{
    return strcmp(e->kind, "phase") == 0 && strncmp(e->name, prefix, strlen(prefix)) == 0;
}

/* Fills r from the timeline for a spike at t_spike dropped at t_drop, window ending at t_end. */
static void spike_measure(const wl_measure *m, double t_spike, double t_drop, double t_end,
                          spike_ret *r)
{
    const tl_row *tl = m->tl.p;
    memset(r, 0, sizeof *r);
    r->t_spike = t_spike;
    r->t_drop = t_drop;
    r->return_s = r->excess90_s = -1;
    r->rss_steady = tl[0].rss;
    for (size_t i = 0; i < m->tl.n && tl[i].t_s <= t_spike; i++)
        r->rss_steady = tl[i].rss;
    for (size_t i = 0; i < m->tl.n && tl[i].t_s < t_end; i++)
        if (tl[i].t_s >= t_spike && tl[i].rss > r->rss_peak) r->rss_peak = tl[i].rss;
    double bound = 1.1 * (double)r->rss_steady;
    double bound90 = (double)r->rss_steady +
                     0.1 * (double)(r->rss_peak > r->rss_steady ? r->rss_peak - r->rss_steady : 0);
    for (size_t i = 0; i < m->tl.n && tl[i].t_s < t_end; i++) {
        if (tl[i].t_s < t_drop) continue;
        if (r->return_s < 0 && (double)tl[i].rss <= bound) r->return_s = tl[i].t_s - t_drop;
        if (r->excess90_s < 0 && (double)tl[i].rss <= bound90) r->excess90_s = tl[i].t_s - t_drop;
        if (!r->has_after_1s && tl[i].t_s >= t_drop + 1.0) {
            r->after_1s = tl[i].rss;
            r->has_after_1s = 1;
        }
    }
}

static void write_spike_fields(const spike_ret *r, FILE *json)
{
    fprintf(json, "\"rss_steady_bytes\":%llu,\"rss_spike_peak_bytes\":%llu",
            (unsigned long long)r->rss_steady, (unsigned long long)r->rss_peak);
    if (r->return_s >= 0) fprintf(json, ",\"rss_return_s\":%.6f", r->return_s);
    if (r->excess90_s >= 0) fprintf(json, ",\"rss_excess90_s\":%.6f", r->excess90_s);
    if (r->has_after_1s)
        fprintf(json, ",\"rss_after_1s_bytes\":%llu", (unsigned long long)r->after_1s);
}

/* Top level: the first spike's figures; "spikes": every spike's, with their times. */
static void write_return(const wl_measure *m, FILE *json)
{
    const ev_row *e = m->ev.p;
    if (m->tl.n == 0) return;
    double t_stop = since_start_s(m, m->t1_ns); /* rows from here on: after the workers */
    int n = 0;
    for (size_t i = 0; i < m->ev.n; i++) {
        if (!is_phase(&e[i], "spike") || strcmp(e[i].name, "spike") != 0) continue;
        size_t d = i + 1;
        while (d < m->ev.n && !is_phase(&e[d], "steady") && !is_phase(&e[d], "spike"))
            d++;
        if (d >= m->ev.n || !is_phase(&e[d], "steady")) continue; /* no drop recorded */
        size_t nx = d + 1;
        while (nx < m->ev.n && strcmp(e[nx].kind, "phase") != 0)
            nx++;
        spike_ret r;
        spike_measure(m, e[i].t_s, e[d].t_s, nx < m->ev.n ? e[nx].t_s : t_stop, &r);
        if (n == 0) {
            fputc(',', json);
            write_spike_fields(&r, json);
            fputs(",\"spikes\":[", json);
        }
        fprintf(json, "%s{\"t_spike_s\":%.6f,\"t_drop_s\":%.6f,", n ? "," : "", r.t_spike,
                r.t_drop);
        write_spike_fields(&r, json);
        fputc('}', json);
        n++;
    }
    if (n) fputc(']', json);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void write_settle_and_gc(const wl_measure *m, FILE *json)
{
    const ev_row *e = m->ev.p;
    size_t ngc = 0;
    int first = 1;
    fputs(",\"settle\":{", json);
    for (size_t i = 0; i < m->ev.n; i++) {
        if (strcmp(e[i].kind, "settle") == 0) {
            fputs(first ? "" : ",", json);
            hn_json_str(json, e[i].name);
            fprintf(json, ":%llu", (unsigned long long)e[i].rss);
            first = 0;
        }
        if (strcmp(e[i].kind, "gc_end") == 0) ngc++;
    }
    fputs("}", json);
    if (!(m->run->a->caps & AB_CAP_GC)) return;
    uint64_t *p = ngc ? mm_zalloc(ngc * sizeof *p) : NULL, total = 0;
    size_t k = 0;
    for (size_t i = 0; p && i < m->ev.n; i++)
        if (strcmp(e[i].kind, "gc_end") == 0) total += p[k++] = e[i].gc.pause_ns;
    fprintf(json, ",\"gc\":{\"cycles\":%zu", k);
    double wall = (double)(m->t1_ns - m->t0_ns), cpu = m->gc_cpu1_ns - m->gc_cpu0_ns;
    if (k > 0) {
        /* Percentiles of the cycles' pauses, whatever a pause covers (a stop-the-world mark,
         * or the short phases around a concurrent one): nearest rank over the sorted list. */
        qsort(p, k, sizeof *p, cmp_u64);
        fprintf(json,
                ",\"pause_p50_ns\":%llu,\"pause_p99_ns\":%llu,\"pause_max_ns\":%llu,"
                "\"pause_total_ns\":%llu",
                (unsigned long long)p[(k - 1) / 2], (unsigned long long)p[(k * 99 + 99) / 100 - 1],
                (unsigned long long)p[k - 1], (unsigned long long)total);
    }
    if (isfinite(cpu) && cpu >= 0 && wall > 0)
        fprintf(json, ",\"cpu_fraction\":%.6f,\"cpu_source\":\"backend\"", cpu / wall);
    else if (k > 0)
        fprintf(json, ",\"cpu_fraction\":%.6f,\"cpu_source\":\"pauses\"",
                wall > 0 ? (double)total / wall : 0.0);
    fputs("}", json);
    if (p) munmap(p, ngc * sizeof *p);
}

int hn_measure_write(wl_run *run, const char *dir, FILE *json)
{
    wl_measure *m = run->m;
    int rc = 0;
    uint64_t samples = 0;
    if (dir && write_timeline(m, dir) != 0) rc = -1;
    if (dir && write_events(m, dir) != 0) rc = -1;
    if (write_latency(m, dir, json) != 0) rc = -1;
    write_memory(m, json);
    write_return(m, json);
    write_settle_and_gc(m, json);
    write_metrics(m, json);
    for (unsigned i = 0; i < run->nthreads; i++)
        samples += m->lats[i].samples;
    fprintf(json,
            ",\"timer\":{\"source\":\"%s\",\"ticks_per_ns\":%.6f,\"overhead_ticks\":%llu,"
            "\"overhead_ns\":%.3f,\"clock_gettime_ns\":%.3f,\"resolution_ns\":%.3f,"
            "\"mean_sample_interval_ops\":%.1f,\"samples\":%llu}",
            m->cal.source, m->cal.ticks_per_ns, (unsigned long long)m->cal.overhead_ticks,
            m->cal.overhead_ns, m->cal.clock_gettime_ns,
            (double)m->cal.resolution_ticks / m->cal.ticks_per_ns, m->o.sample_mean_ops,
            (unsigned long long)samples);
    fprintf(json, ",\"sampler_ms\":%u,\"settle_ms\":%u", m->o.sampler_ms, m->o.settle_ms);
    return rc;
}
