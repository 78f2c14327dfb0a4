/* replay.c - replays a recorded allocation trace (format in wl_replay.h, workloads/README.md).
 *
 * Loading maps the file, parses it line by line, maps the trace's ids to dense slots and
 * checks that the sequence is valid (every free and realloc names a live block, no id is
 * allocated twice), so replay itself needs no checks beyond the allocator's results.
 * Replay invariant: ptr[s] is the live block of slot s (or NULL), size[s] its size, tagged at
 * both ends; after the last op the thread's live bytes have grown by exactly end_live, and the
 * leftovers are then freed.
 */
#include "wl_replay.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wl_list.h"
#include "wl_support.h"

/* ---- Loading ---- */

typedef struct id_map {
    uint64_t *key;
    uint32_t *val;
    size_t cap, n; /* open addressing, cap a power of two, n < cap / 2 */
} id_map;

typedef struct parser {
    const char *path;
    size_t line;
    char *err;
    size_t errlen;
    id_map ids;
    uint8_t *live;   /* per slot */
    uint64_t *lsize; /* per slot: size while live */
    uint32_t *sgen;  /* per slot: operations on it so far */
    uint32_t *owner; /* per slot: trace thread that made its current block */
    size_t slot_cap;
    uint32_t cur_thread; /* dense index of the thread named by the last `t` line */
    int64_t live_bytes;
    uint64_t *threads; /* distinct thread ids (small: linear scan) */
    size_t nthreads_cap;
} parser;

static void *grow(void *old, size_t old_bytes, size_t new_bytes)
{
    void *p = wl_meta_alloc("replay", new_bytes);
    if (old) {
        memcpy(p, old, old_bytes);
        wl_meta_free(old, old_bytes);
    }
    return p;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    return x ^ (x >> 33);
}

static int fail(parser *ps, const char *what)
{
    snprintf(ps->err, ps->errlen, "parameter 'trace': %s:%zu: %s", ps->path, ps->line, what);
    return -1;
}

/* Dense slot of `id`, created on first sight. */
static uint32_t slot_of(parser *ps, wl_trace *tr, uint64_t id)
{
    id_map *m = &ps->ids;
    if (2 * (m->n + 1) > m->cap) {
        id_map bigger = {.cap = m->cap ? 2 * m->cap : 1024};
        bigger.key = wl_meta_alloc("replay", bigger.cap * sizeof(uint64_t));
        bigger.val = wl_meta_alloc("replay", bigger.cap * sizeof(uint32_t));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->val[i]) continue;
            size_t h = mix(m->key[i]) & (bigger.cap - 1);
            while (bigger.val[h])
                h = (h + 1) & (bigger.cap - 1);
            bigger.key[h] = m->key[i];
            bigger.val[h] = m->val[i];
        }
        bigger.n = m->n;
        if (m->cap) {
            wl_meta_free(m->key, m->cap * sizeof(uint64_t));
            wl_meta_free(m->val, m->cap * sizeof(uint32_t));
        }
        *m = bigger;
    }
    size_t h = mix(id) & (m->cap - 1);
    for (; m->val[h]; h = (h + 1) & (m->cap - 1))
        if (m->key[h] == id) return m->val[h] - 1; /* val is slot + 1: 0 marks empty */
    if (tr->nslots == ps->slot_cap) {
        size_t nc = ps->slot_cap ? 2 * ps->slot_cap : 1024;
        ps->live = grow(ps->live, ps->slot_cap, nc);
        ps->lsize = grow(ps->lsize, ps->slot_cap * sizeof(uint64_t), nc * sizeof(uint64_t));
        ps->sgen = grow(ps->sgen, ps->slot_cap * sizeof(uint32_t), nc * sizeof(uint32_t));
        ps->owner = grow(ps->owner, ps->slot_cap * sizeof(uint32_t), nc * sizeof(uint32_t));
        ps->slot_cap = nc;
    }
    m->key[h] = id;
    m->val[h] = (uint32_t)++tr->nslots;
    m->n++;
    return m->val[h] - 1;
}

static void push(wl_trace *tr, wl_trace_op op)
{
    if (tr->nops == tr->cap) {
        size_t nc = tr->cap ? 2 * tr->cap : 4096;
        tr->ops = grow(tr->ops, tr->cap * sizeof *tr->ops, nc * sizeof *tr->ops);
        tr->cap = nc;
    }
    tr->ops[tr->nops++] = op;
}

/* Reads the next unsigned decimal field of [*p, end). */
static int field(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s == end || *s < '0' || *s > '9') return -1;
    uint64_t v = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (s < end && *s != ' ' && *s != '\t' && *s != '\r') return -1;
    *p = s;
    *out = v;
    return 0;
}

static int rest_empty(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end;
}

static int born(parser *ps, uint32_t s, uint64_t size)
{
    if (ps->live[s]) return fail(ps, "id is allocated again while still live");
    ps->live[s] = 1;
    ps->lsize[s] = size;
    ps->owner[s] = ps->cur_thread;
    ps->live_bytes += (int64_t)size;
    return 0;
}

static int died(parser *ps, uint32_t s, const char *what)
{
    if (!ps->live[s]) return fail(ps, what);
    ps->live[s] = 0;
    ps->live_bytes -= (int64_t)ps->lsize[s];
    return 0;
}

/* Makes `id` the current thread, numbering threads densely in order of appearance. */
static int note_thread(parser *ps, wl_trace *tr, uint64_t id)
{
    for (size_t i = 0; i < tr->nthreads; i++)
        if (ps->threads[i] == id) return (ps->cur_thread = (uint32_t)i), 0;
    if (tr->nthreads == ps->nthreads_cap) {
        size_t nc = ps->nthreads_cap ? 2 * ps->nthreads_cap : 64;
        ps->threads = grow(ps->threads, ps->nthreads_cap * 8, nc * 8);
        ps->nthreads_cap = nc;
    }
    ps->cur_thread = (uint32_t)tr->nthreads;
    ps->threads[tr->nthreads++] = id;
    return 0;
}

/* One line: syntax, then the per-kind validity rules (one short case per operation kind,
 * kept together so the format's rules read in one place). */
static int parse_line(parser *ps, wl_trace *tr, const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p == '#' || *p == '\r') return 0;
    char kind = *p++;
    static const int nfields[128] = {
        ['m'] = 2, ['c'] = 3, ['a'] = 3, ['r'] = 3, ['f'] = 1, ['t'] = 1};
    if ((unsigned char)kind >= 128 || !nfields[(int)kind] || (p < end && *p != ' ' && *p != '\t'))
        return fail(ps, "unknown operation (expected m, c, a, r, f, t or #)");
    uint64_t v[3] = {0, 0, 0};
    for (int i = 0; i < nfields[(int)kind]; i++)
        if (field(&p, end, &v[i]) != 0) {
            static const char *const usage[128] = {['m'] = "expected 'm <id> <size>'",
                                                   ['c'] = "expected 'c <id> <n> <size>'",
                                                   ['a'] = "expected 'a <id> <align> <size>'",
                                                   ['r'] = "expected 'r <id> <newid> <size>'",
                                                   ['f'] = "expected 'f <id>'",
                                                   ['t'] = "expected 't <thread>'"};
            return fail(ps, usage[(int)kind]);
        }
    if (!rest_empty(p, end)) return fail(ps, "unexpected text after the operation");
    wl_trace_op op = {.kind = kind};
    switch (kind) {
    case 't':
        return note_thread(ps, tr, v[0]);
    case 'm':
        op.slot = slot_of(ps, tr, v[0]);
        op.size = v[1];
        if (born(ps, op.slot, op.size)) return -1;
        break;
    case 'c':
        op.slot = slot_of(ps, tr, v[0]);
        op.arg = v[1];
        op.size = v[2];
        if (op.size && op.arg > UINT64_MAX / op.size) return fail(ps, "calloc size overflows");
        if (born(ps, op.slot, op.arg * op.size)) return -1;
        break;
    case 'a':
        op.slot = slot_of(ps, tr, v[0]);
        op.arg = v[1];
        op.size = v[2];
        if (op.arg == 0 || (op.arg & (op.arg - 1)))
            return fail(ps, "alignment is not a power of two");
        if (born(ps, op.slot, op.size)) return -1;
        break;
    case 'r':
        op.slot = slot_of(ps, tr, v[0]);
        op.slot2 = slot_of(ps, tr, v[1]);
        op.size = v[2];
        if (op.size == 0) return fail(ps, "realloc to 0 bytes (record it as 'f <id>')");
        if (died(ps, op.slot, "realloc of an id that is not live")) return -1;
        if (born(ps, op.slot2, op.size)) return -1;
        break;
    case 'f':
        op.slot = slot_of(ps, tr, v[0]);
        if (died(ps, op.slot, "free of an id that is not live")) return -1;
        break;
    }
    if (op.size > ((uint64_t)1 << 40)) return fail(ps, "size above 1 TiB");
    if (ps->live_bytes > tr->peak_live) tr->peak_live = ps->live_bytes;
    op.thread = ps->cur_thread;
    op.gen = ps->sgen[op.slot]++;
    if (kind == 'r' && op.slot2 != op.slot) op.gen2 = ps->sgen[op.slot2]++;
    push(tr, op);
    return 0;
}

static void parser_free(parser *ps)
{
    if (ps->ids.cap) {
        wl_meta_free(ps->ids.key, ps->ids.cap * sizeof(uint64_t));
        wl_meta_free(ps->ids.val, ps->ids.cap * sizeof(uint32_t));
    }
    wl_meta_free(ps->live, ps->slot_cap);
    wl_meta_free(ps->lsize, ps->slot_cap * sizeof(uint64_t));
    wl_meta_free(ps->sgen, ps->slot_cap * sizeof(uint32_t));
    wl_meta_free(ps->owner, ps->slot_cap * sizeof(uint32_t));
    wl_meta_free(ps->threads, ps->nthreads_cap * 8);
}

int wl_trace_load(const char *path, wl_trace *tr, char *err, size_t errlen)
{
    memset(tr, 0, sizeof *tr);
    if (!path[0]) {
        snprintf(err, errlen,
                 "parameter 'trace': required (a trace file, see workloads/README.md)");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "parameter 'trace': %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size;
    const char *text = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : "";
    close(fd);
    if (text == MAP_FAILED) {
        snprintf(err, errlen, "parameter 'trace': %s: %s", path, strerror(errno));
        return -1;
    }
    parser ps = {.path = path, .err = err, .errlen = errlen};
    int rc = 0;
    for (const char *p = text, *end = text + len; p < end && rc == 0;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        ps.line++;
        rc = parse_line(&ps, tr, p, eol);
        p = eol + 1;
    }
    if (rc == 0 && tr->nops == 0) {
        snprintf(err, errlen, "parameter 'trace': %s: no operations", path);
        rc = -1;
    }
    if (rc == 0) {
        tr->end_live = ps.live_bytes;
        for (size_t s = 0; s < tr->nslots; s++)
            tr->end_blocks += ps.live[s];
        tr->owner = ps.owner; /* handed over to the trace */
        tr->owner_cap = ps.slot_cap;
        ps.owner = NULL;
    }
    parser_free(&ps);
    if (len) munmap((void *)text, len);
    if (rc != 0) wl_trace_free(tr);
    return rc;
}

void wl_trace_free(wl_trace *tr)
{
    wl_meta_free(tr->ops, tr->cap * sizeof *tr->ops);
    wl_meta_free(tr->owner, tr->owner_cap * sizeof(uint32_t));
    memset(tr, 0, sizeof *tr);
}

/* ---- The workload ---- */

enum { P_TRACE, P_LOOPS, P_MODE, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_TRACE] = {"trace", WL_P_STR, "", "trace file to replay (format: workloads/README.md)", NULL,
                 0, -1},
    [P_LOOPS] = {"loops", WL_P_INT, "1", "passes over the whole trace", NULL, 1, 1e9},
    [P_MODE] = {"mode", WL_P_ENUM, "serial",
                "serial: each thread replays all of it; threads: trace threads on runner threads",
                "serial|threads", 0, -1},
};

/* Invariant (mode=threads): gen[s] counts the operations on slot s done in this pass; an
 * operation runs once gen of its slot(s) equals what it expects (wl_trace_op.gen/gen2), and
 * ptr[s]/size[s] are written before gen[s] is released. */
typedef struct replay_state {
    wl_trace tr;
    uint64_t loops;
    int threads_mode;
    void **ptr;     /* mode=threads: shared block table */
    uint64_t *size; /* mode=threads */
    _Atomic uint32_t *gen;
    wl_barrier bar;
} replay_state;

static replay_state state_storage; /* setup fills it; runs in one process are sequential */

static int replay_setup(wl_run *run, char *err, size_t errlen)
{
    replay_state *st = &state_storage;
    memset(st, 0, sizeof *st);
    if (wl_trace_load(run->p[P_TRACE].s, &st->tr, err, errlen) != 0) return -1;
    st->loops = (uint64_t)run->p[P_LOOPS].i;
    st->threads_mode = run->p[P_MODE].i == 1;
    if (st->threads_mode) {
        size_t n = st->tr.nslots;
        st->ptr = wl_meta_alloc("replay", n * sizeof *st->ptr);
        st->size = wl_meta_alloc("replay", n * sizeof *st->size);
        st->gen = wl_meta_alloc("replay", n * sizeof *st->gen);
        wl_barrier_init(&st->bar, run->nthreads);
    }
    run->state = st;
    return 0;
}

static void replay_teardown(wl_run *run)
{
    replay_state *st = run->state;
    if (st->threads_mode) {
        size_t n = st->tr.nslots;
        wl_meta_free(st->ptr, n * sizeof *st->ptr);
        wl_meta_free(st->size, n * sizeof *st->size);
        wl_meta_free((void *)st->gen, n * sizeof *st->gen);
        wl_barrier_destroy(&st->bar);
    }
    wl_trace_free(&st->tr);
}

static void *checked(void *p, const wl_trace_op *op, size_t i)
{
    if (!p)
        wl_die("replay", "op %zu ('%c', %llu bytes) failed", i + 1, op->kind,
               (unsigned long long)op->size);
    return p;
}

/* Runs trace operation i on thread t against the block table (ptr, size). */
static void run_op(wl_thread *t, const wl_trace_op *op, size_t i, void **ptr, uint64_t *size)
{
    uint32_t s = op->slot;
    switch (op->kind) {
    case 'm':
        ptr[s] = checked(wl_malloc(t, op->size), op, i);
        size[s] = op->size;
        break;
    case 'c':
        ptr[s] = checked(wl_calloc(t, op->arg, op->size), op, i);
        size[s] = op->arg * op->size;
        if (size[s] && ((uint8_t *)ptr[s])[size[s] - 1])
            wl_die("replay", "op %zu: calloc memory is not zero", i + 1);
        break;
    case 'a':
        ptr[s] = checked(wl_aligned_alloc(t, op->arg, op->size), op, i);
        size[s] = op->size;
        if ((uintptr_t)ptr[s] & (op->arg - 1))
            wl_die("replay", "op %zu: block not aligned to %llu", i + 1,
                   (unsigned long long)op->arg);
        break;
    case 'r': {
        uint8_t tag = wl_tag(size[s], s);
        void *q = checked(wl_realloc(t, ptr[s], size[s], op->size), op, i);
        if (size[s] && ((uint8_t *)q)[0] != tag)
            wl_die("replay", "op %zu: realloc lost the block's first byte", i + 1);
        ptr[s] = NULL;
        ptr[op->slot2] = q;
        size[op->slot2] = op->size;
        s = op->slot2;
        break;
    }
    case 'f':
        if (!wl_check(ptr[s], size[s], wl_tag(size[s], s)))
            wl_die("replay", "op %zu: block of %llu bytes was overwritten", i + 1,
                   (unsigned long long)size[s]);
        wl_free(t, ptr[s], size[s]);
        ptr[s] = NULL;
        return;
    }
    wl_touch(ptr[s], size[s], wl_tag(size[s], s));
}

static int64_t live_of(const wl_thread *t)
{
    return atomic_load_explicit(&t->live_bytes, memory_order_relaxed);
}

static void check_growth(int64_t grew, const wl_trace *tr)
{
    if (grew != tr->end_live)
        wl_die("replay", "live bytes grew by %lld over the trace, expected %lld", (long long)grew,
               (long long)tr->end_live);
}

/* mode=serial: one whole pass on this thread's own block table. */
static void replay_once(wl_thread *t, const wl_trace *tr, void **ptr, uint64_t *size)
{
    int64_t live0 = live_of(t);
    for (size_t i = 0; i < tr->nops; i++) {
        if ((i & 255) == 255) wl_count_ops(t, 256);
        run_op(t, &tr->ops[i], i, ptr, size);
    }
    wl_count_ops(t, tr->nops & 255);
    check_growth(live_of(t) - live0, tr);
    for (size_t k = 0; k < tr->nslots; k++)
        if (ptr[k]) {
            wl_free(t, ptr[k], size[k]);
            ptr[k] = NULL;
        }
}

static void wait_gen(_Atomic uint32_t *g, uint32_t want)
{
    for (unsigned spins = 0; atomic_load_explicit(g, memory_order_acquire) != want; spins++)
        if (spins > 64) sched_yield();
}

static int64_t live_total(const wl_run *run)
{
    int64_t sum = 0;
    for (unsigned i = 0; i < run->nthreads; i++)
        sum += live_of(&run->threads[i]);
    return sum;
}

/* mode=threads: this thread's share of one pass over the shared block table. Deadlock-free:
 * an operation waits only for earlier operations, so the earliest one not yet done can run. */
static void replay_shared(wl_thread *t, replay_state *st)
{
    const wl_trace *tr = &st->tr;
    unsigned n = t->run->nthreads;
    int64_t live0 = 0;
    wl_barrier_wait(&st->bar);
    if (t->id == 0) live0 = live_total(t->run);
    wl_barrier_wait(&st->bar);
    uint64_t done = 0;
    for (size_t i = 0; i < tr->nops; i++) {
        const wl_trace_op *op = &tr->ops[i];
        if (op->thread % n != t->id) continue;
        int two = op->kind == 'r' && op->slot2 != op->slot;
        wait_gen(&st->gen[op->slot], op->gen);
        if (two) wait_gen(&st->gen[op->slot2], op->gen2);
        run_op(t, op, i, st->ptr, st->size);
        atomic_fetch_add_explicit(&st->gen[op->slot], 1, memory_order_release);
        if (two) atomic_fetch_add_explicit(&st->gen[op->slot2], 1, memory_order_release);
        if ((++done & 255) == 0) wl_count_ops(t, 256);
    }
    wl_count_ops(t, done & 255);
    wl_barrier_wait(&st->bar);
    if (t->id == 0) check_growth(live_total(t->run) - live0, tr);
    wl_barrier_wait(&st->bar);
    /* Leftovers: freed by the thread that made them. Ownership is tested before the slot is
     * read: another thread may be clearing its own slots in this loop at the same time. */
    for (size_t k = 0; k < tr->nslots; k++)
        if (tr->owner[k] % n == t->id && st->ptr[k]) {
            wl_free(t, st->ptr[k], st->size[k]);
            st->ptr[k] = NULL;
        }
    wl_barrier_wait(&st->bar);
    if (t->id == 0)
        for (size_t k = 0; k < tr->nslots; k++)
            atomic_store(&st->gen[k], 0);
}

static void replay_thread(wl_thread *t)
{
    replay_state *st = t->run->state;
    if (st->threads_mode) {
        for (uint64_t l = 0; l < st->loops; l++)
            replay_shared(t, st);
        return;
    }
    size_t n = st->tr.nslots;
    void **ptr = wl_meta_alloc("replay", n * sizeof *ptr);
    uint64_t *size = wl_meta_alloc("replay", n * sizeof *size);
    for (uint64_t l = 0; l < st->loops; l++)
        replay_once(t, &st->tr, ptr, size);
    wl_meta_free(ptr, n * sizeof *ptr);
    wl_meta_free(size, n * sizeof *size);
}

const wl_workload wl_replay = {
    .name = "replay",
    .summary = "replays a recorded malloc trace (trace=PATH; record one with libabench-trace.so)",
    .description =
        "Replays the allocation trace in `trace` (text, one operation per line: m/c/a/r/f with "
        "block ids and t for thread switches; see workloads/README.md) `loops` times, touching "
        "each block and checking its tags before it is freed. mode=serial: every thread replays "
        "the whole trace on its own. mode=threads: the threads share one replay, the operations "
        "of the recorded program's thread k running on thread k modulo the thread count, so "
        "blocks are freed on other threads as in the program. Blocks the program never freed "
        "are freed at the end of each pass, so live bytes return to zero. Record a real program "
        "with LD_PRELOAD=libabench-trace.so ABENCH_TRACE=out.trace <program>. One op is one "
        "trace operation.",
    .params = params,
    .nparams = P_COUNT,
    .setup = replay_setup,
    .thread_main = replay_thread,
    .teardown = replay_teardown,
};
