/* replay.c - replays a recorded allocation trace (format in wl_replay.h, workloads/README.md).
 *
 * Loading maps the file, parses it line by line into 16-byte records (wl_trace_op), maps the
 * trace's ids to dense slots and checks that the sequence is valid (every free and realloc
 * names a live block, no id is allocated twice), so replay itself needs no checks beyond the
 * allocator's results. Setup loads the trace and makes every replay table resident, so the
 * measured region holds the harness's whole footprint from its first sample.
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

/* ---- Loading ----
 *
 * The text is parsed in one pass into records of 16 bytes (wl_trace_op), in a table sized from
 * the file size up front (never copied while it grows; pages past the last record are never
 * touched). Ids map to dense slots through a direct table for ids below that bound (the
 * recorder numbers blocks 1, 2, 3, ...) and a hash table for the others. The parsed part of
 * the text is dropped from memory as the parse goes, and every temporary table is unmapped
 * before the loader returns: what stays is the records, the calloc counts and the per-slot
 * owner table. */

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
    uint32_t *direct; /* id < ndirect: slot + 1, 0 while unseen */
    size_t ndirect;
    id_map ids;          /* ids >= ndirect */
    uint8_t *live;       /* per slot */
    uint64_t *lsize;     /* per slot: size while live */
    uint32_t *owner;     /* per slot: trace thread that made its current block */
    size_t slot_cap;     /* a line names at most two new ids */
    size_t rec_cap;      /* a line makes at most one record */
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

/* The hash table's entry for `id` (val 0: free), grown first when it would be half full. */
static uint32_t *map_entry(id_map *m, uint64_t id)
{
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
        if (m->key[h] == id) return &m->val[h];
    m->key[h] = id;
    return &m->val[h];
}

/* Dense slot of `id`, created on first sight. */
static uint32_t slot_of(parser *ps, wl_trace *tr, uint64_t id)
{
    uint32_t *v = id < ps->ndirect ? &ps->direct[id] : map_entry(&ps->ids, id);
    if (!*v) { /* v holds slot + 1: 0 marks unseen */
        *v = (uint32_t)++tr->nslots;
        if (id >= ps->ndirect) ps->ids.n++;
    }
    return *v - 1;
}

static void push(parser *ps, wl_trace *tr, wl_trace_op op)
{
    if (tr->nrec == ps->rec_cap) wl_die("replay", "more records than lines"); /* cannot happen */
    tr->ops[tr->nrec++] = op;
    tr->nops += op.kind != 't';
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

/* Makes `id` the current thread, numbering threads densely in order of appearance; a change
 * of thread becomes a `t` record. */
static void note_thread(parser *ps, wl_trace *tr, uint64_t id)
{
    size_t i = 0;
    while (i < tr->nthreads && ps->threads[i] != id)
        i++;
    if (i == tr->nthreads) {
        if (tr->nthreads == ps->nthreads_cap) {
            size_t nc = ps->nthreads_cap ? 2 * ps->nthreads_cap : 64;
            ps->threads = grow(ps->threads, ps->nthreads_cap * 8, nc * 8);
            ps->nthreads_cap = nc;
        }
        ps->threads[tr->nthreads++] = id;
    }
    if (i == ps->cur_thread) return;
    ps->cur_thread = (uint32_t)i;
    push(ps, tr, (wl_trace_op){.kind = 't', .aux = (uint32_t)i});
}

static uint32_t add_count(wl_trace *tr, uint64_t n)
{
    if (tr->ncounts == tr->counts_cap) {
        size_t nc = tr->counts_cap ? 2 * tr->counts_cap : 512;
        tr->counts = grow(tr->counts, tr->counts_cap * sizeof(uint64_t), nc * sizeof(uint64_t));
        tr->counts_cap = nc;
    }
    tr->counts[tr->ncounts] = n;
    return (uint32_t)tr->ncounts++;
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
    if (kind == 't') return note_thread(ps, tr, v[0]), 0;
    wl_trace_op op = {.kind = (uint8_t)kind};
    uint64_t size = 0;
    switch (kind) {
    case 'm':
        op.slot = slot_of(ps, tr, v[0]);
        size = v[1];
        if (size > ((uint64_t)1 << 40)) return fail(ps, "size above 1 TiB");
        if (born(ps, op.slot, size)) return -1;
        break;
    case 'c':
        op.slot = slot_of(ps, tr, v[0]);
        size = v[2];
        if (size && v[1] > UINT64_MAX / size) return fail(ps, "calloc size overflows");
        if (size > ((uint64_t)1 << 40)) return fail(ps, "size above 1 TiB");
        if (born(ps, op.slot, v[1] * size)) return -1;
        op.aux = add_count(tr, v[1]);
        break;
    case 'a':
        op.slot = slot_of(ps, tr, v[0]);
        size = v[2];
        if (v[1] == 0 || (v[1] & (v[1] - 1))) return fail(ps, "alignment is not a power of two");
        if (size > ((uint64_t)1 << 40)) return fail(ps, "size above 1 TiB");
        if (born(ps, op.slot, size)) return -1;
        op.align_log2 = (uint8_t)__builtin_ctzll(v[1]);
        break;
    case 'r':
        op.slot = slot_of(ps, tr, v[0]);
        op.aux = slot_of(ps, tr, v[1]);
        size = v[2];
        if (size == 0) return fail(ps, "realloc to 0 bytes (record it as 'f <id>')");
        if (size > ((uint64_t)1 << 40)) return fail(ps, "size above 1 TiB");
        if (died(ps, op.slot, "realloc of an id that is not live")) return -1;
        if (born(ps, op.aux, size)) return -1;
        break;
    case 'f':
        op.slot = slot_of(ps, tr, v[0]);
        if (died(ps, op.slot, "free of an id that is not live")) return -1;
        break;
    }
    if (ps->live_bytes > tr->peak_live) tr->peak_live = ps->live_bytes;
    op.size_lo = (uint32_t)size;
    op.size_hi = (uint16_t)(size >> 32);
    push(ps, tr, op);
    return 0;
}

static void parser_free(parser *ps)
{
    if (ps->ids.cap) {
        wl_meta_free(ps->ids.key, ps->ids.cap * sizeof(uint64_t));
        wl_meta_free(ps->ids.val, ps->ids.cap * sizeof(uint32_t));
    }
    wl_meta_free(ps->direct, ps->ndirect * sizeof(uint32_t));
    wl_meta_free(ps->live, ps->slot_cap);
    wl_meta_free(ps->lsize, ps->slot_cap * sizeof(uint64_t));
    wl_meta_free(ps->owner, ps->slot_cap * sizeof(uint32_t));
    wl_meta_free(ps->threads, ps->nthreads_cap * 8);
}

#define DROP_STEP ((size_t)4 << 20) /* parsed text is dropped from memory in steps of 4 MiB */

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
    /* A line that makes a record takes at least 4 bytes with its newline ("f 1\n"), so there
     * are at most len / 4 + 1 records, and twice as many ids. */
    size_t recs = len / 4 + 1;
    if (recs > UINT32_MAX / 4) {
        snprintf(err, errlen, "parameter 'trace': %s: too large (over 2^30 operations)", path);
        munmap((void *)text, len);
        return -1;
    }
    if (len) madvise((void *)text, len, MADV_SEQUENTIAL);
    parser ps = {.path = path,
                 .err = err,
                 .errlen = errlen,
                 .rec_cap = recs,
                 .ndirect = recs + 1,
                 .slot_cap = 2 * recs};
    /* Sized for the worst case up front; untouched pages of these mappings cost nothing. */
    tr->ops_bytes = recs * sizeof *tr->ops;
    tr->ops = wl_meta_alloc("replay", tr->ops_bytes);
    ps.direct = wl_meta_alloc("replay", ps.ndirect * sizeof(uint32_t));
    ps.live = wl_meta_alloc("replay", ps.slot_cap);
    ps.lsize = wl_meta_alloc("replay", ps.slot_cap * sizeof(uint64_t));
    ps.owner = wl_meta_alloc("replay", ps.slot_cap * sizeof(uint32_t));
    int rc = 0;
    size_t dropped = 0;
    for (const char *p = text, *end = text + len; p < end && rc == 0;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        ps.line++;
        rc = parse_line(&ps, tr, p, eol);
        p = eol + 1;
        if ((size_t)(p - text) - dropped >= DROP_STEP && p < end) {
            madvise((void *)(text + dropped), DROP_STEP, MADV_DONTNEED);
            dropped += DROP_STEP;
        }
    }
    if (rc == 0 && tr->nops == 0) {
        snprintf(err, errlen, "parameter 'trace': %s: no operations", path);
        rc = -1;
    }
    if (rc == 0) {
        tr->end_live = ps.live_bytes;
        for (size_t s = 0; s < tr->nslots; s++)
            tr->end_blocks += ps.live[s];
        /* handed over to the trace, copied to a table of its own size */
        tr->owner_cap = tr->nslots;
        tr->owner = grow(NULL, 0, tr->owner_cap * sizeof(uint32_t));
        memcpy(tr->owner, ps.owner, tr->nslots * sizeof(uint32_t));
    }
    parser_free(&ps);
    if (len) munmap((void *)text, len);
    if (rc != 0) wl_trace_free(tr);
    return rc;
}

void wl_trace_free(wl_trace *tr)
{
    wl_meta_free(tr->ops, tr->ops_bytes);
    wl_meta_free(tr->counts, tr->counts_cap * sizeof(uint64_t));
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
 * operation runs once gen of its slot(s) equals the number of earlier operations on them in
 * the trace (each thread counts those as it scans, in its own row of `seen`), and ptr[s] /
 * size[s] are written before gen[s] is released. Every table is made and touched in setup, so
 * the measured region starts with the whole trace and the replay's tables resident. */
typedef struct replay_state {
    wl_trace tr;
    uint64_t loops;
    int threads_mode;
    unsigned nthreads;
    void **ptr;     /* serial: one row of nslots per thread; threads: the shared block table */
    uint64_t *size; /* laid out like ptr */
    _Atomic uint32_t *gen; /* mode=threads */
    uint32_t *seen;        /* mode=threads: one row of nslots per thread, zero between passes */
    size_t rows;           /* rows of ptr and size */
    wl_barrier bar;
} replay_state;

static replay_state state_storage; /* setup fills it; runs in one process are sequential */

/* A bookkeeping table, touched now so that it is resident before the measured region. */
static void *table(size_t bytes)
{
    void *p = wl_meta_alloc("replay", bytes);
    memset(p, 0, bytes);
    return p;
}

static int replay_setup(wl_run *run, char *err, size_t errlen)
{
    replay_state *st = &state_storage;
    memset(st, 0, sizeof *st);
    if (wl_trace_load(run->p[P_TRACE].s, &st->tr, err, errlen) != 0) return -1;
    st->loops = (uint64_t)run->p[P_LOOPS].i;
    st->threads_mode = run->p[P_MODE].i == 1;
    st->nthreads = run->nthreads;
    size_t n = st->tr.nslots;
    st->rows = st->threads_mode ? 1 : run->nthreads;
    st->ptr = table(st->rows * n * sizeof *st->ptr);
    st->size = table(st->rows * n * sizeof *st->size);
    if (st->threads_mode) {
        st->gen = table(n * sizeof *st->gen);
        st->seen = table(run->nthreads * n * sizeof *st->seen);
        wl_barrier_init(&st->bar, run->nthreads);
    }
    run->state = st;
    return 0;
}

/* Reports the trace's own peak live bytes (one pass), the recorded program's heap at its
 * largest, to read beside the runner's RSS figures. */
static void replay_teardown(wl_run *run)
{
    replay_state *st = run->state;
    wl_metric(run, "trace_peak_live_bytes", (double)st->tr.peak_live);
    size_t n = st->tr.nslots;
    wl_meta_free(st->ptr, st->rows * n * sizeof *st->ptr);
    wl_meta_free(st->size, st->rows * n * sizeof *st->size);
    if (st->threads_mode) {
        wl_meta_free((void *)st->gen, n * sizeof *st->gen);
        wl_meta_free(st->seen, st->nthreads * n * sizeof *st->seen);
        wl_barrier_destroy(&st->bar);
    }
    wl_trace_free(&st->tr);
}

static void *checked(void *p, const wl_trace_op *op, size_t k)
{
    if (!p)
        wl_die("replay", "op %zu ('%c', %llu bytes) failed", k + 1, op->kind,
               (unsigned long long)wl_trace_op_size(op));
    return p;
}

/* Runs operation k (0-based, `t` records not counted) on thread t against the block table
 * (ptr, size). */
static void run_op(wl_thread *t, const wl_trace *tr, const wl_trace_op *op, size_t k, void **ptr,
                   uint64_t *size)
{
    uint32_t s = op->slot;
    uint64_t bytes = wl_trace_op_size(op);
    switch (op->kind) {
    case 'm':
        ptr[s] = checked(wl_malloc(t, bytes), op, k);
        size[s] = bytes;
        break;
    case 'c': {
        uint64_t count = tr->counts[op->aux];
        ptr[s] = checked(wl_calloc(t, count, bytes), op, k);
        size[s] = count * bytes;
        if (size[s] && ((uint8_t *)ptr[s])[size[s] - 1])
            wl_die("replay", "op %zu: calloc memory is not zero", k + 1);
        break;
    }
    case 'a': {
        uint64_t align = (uint64_t)1 << op->align_log2;
        ptr[s] = checked(wl_aligned_alloc(t, align, bytes), op, k);
        size[s] = bytes;
        if ((uintptr_t)ptr[s] & (align - 1))
            wl_die("replay", "op %zu: block not aligned to %llu", k + 1, (unsigned long long)align);
        break;
    }
    case 'r': {
        uint8_t tag = wl_tag(size[s], s);
        void *q = checked(wl_realloc(t, ptr[s], size[s], bytes), op, k);
        if (size[s] && ((uint8_t *)q)[0] != tag)
            wl_die("replay", "op %zu: realloc lost the block's first byte", k + 1);
        ptr[s] = NULL;
        s = op->aux;
        ptr[s] = q;
        size[s] = bytes;
        break;
    }
    case 'f':
        if (!wl_check(ptr[s], size[s], wl_tag(size[s], s)))
            wl_die("replay", "op %zu: block of %llu bytes was overwritten", k + 1,
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
    size_t k = 0;
    for (size_t i = 0; i < tr->nrec; i++) {
        const wl_trace_op *op = &tr->ops[i];
        if (op->kind == 't') continue;
        run_op(t, tr, op, k, ptr, size);
        if ((++k & 255) == 0) wl_count_ops(t, 256);
    }
    wl_count_ops(t, k & 255);
    check_growth(live_of(t) - live0, tr);
    for (size_t s = 0; s < tr->nslots; s++)
        if (ptr[s]) {
            wl_free(t, ptr[s], size[s]);
            ptr[s] = NULL;
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
    uint32_t *seen = st->seen + (size_t)t->id * tr->nslots;
    int64_t live0 = 0;
    wl_barrier_wait(&st->bar);
    if (t->id == 0) live0 = live_total(t->run);
    wl_barrier_wait(&st->bar);
    uint64_t done = 0;
    uint32_t cur = 0; /* trace thread of the records being scanned */
    size_t k = 0;
    for (size_t i = 0; i < tr->nrec; i++) {
        const wl_trace_op *op = &tr->ops[i];
        if (op->kind == 't') {
            cur = op->aux;
            continue;
        }
        int two = op->kind == 'r' && op->aux != op->slot;
        uint32_t g = seen[op->slot]++, g2 = two ? seen[op->aux]++ : 0;
        if (cur % n != t->id) {
            k++;
            continue;
        }
        wait_gen(&st->gen[op->slot], g);
        if (two) wait_gen(&st->gen[op->aux], g2);
        run_op(t, tr, op, k++, st->ptr, st->size);
        atomic_fetch_add_explicit(&st->gen[op->slot], 1, memory_order_release);
        if (two) atomic_fetch_add_explicit(&st->gen[op->aux], 1, memory_order_release);
        if ((++done & 255) == 0) wl_count_ops(t, 256);
    }
    wl_count_ops(t, done & 255);
    memset(seen, 0, tr->nslots * sizeof *seen);
    wl_barrier_wait(&st->bar);
    if (t->id == 0) check_growth(live_total(t->run) - live0, tr);
    wl_barrier_wait(&st->bar);
    /* Leftovers: freed by the thread that made them. Ownership is tested before the slot is
     * read: another thread may be clearing its own slots in this loop at the same time. */
    for (size_t s = 0; s < tr->nslots; s++)
        if (tr->owner[s] % n == t->id && st->ptr[s]) {
            wl_free(t, st->ptr[s], st->size[s]);
            st->ptr[s] = NULL;
        }
    wl_barrier_wait(&st->bar);
    if (t->id == 0)
        for (size_t s = 0; s < tr->nslots; s++)
            atomic_store(&st->gen[s], 0);
}

static void replay_thread(wl_thread *t)
{
    replay_state *st = t->run->state;
    if (st->threads_mode) {
        for (uint64_t l = 0; l < st->loops; l++)
            replay_shared(t, st);
        return;
    }
    size_t row = (size_t)t->id * st->tr.nslots;
    for (uint64_t l = 0; l < st->loops; l++)
        replay_once(t, &st->tr, st->ptr + row, st->size + row);
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
