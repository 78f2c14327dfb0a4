/* fuzz_alloc_ops.c - drives one backend through the ab_allocator interface against a model,
 * built once per backend (FZ_BACKEND names its ab_alloc_<name>; see fuzz/CMakeLists.txt).
 *
 * The input decodes into operations: malloc, calloc (also overflowing n * size), realloc
 * (grow, shrink, to 0, from NULL, to absurd sizes), aligned_alloc (powers of two and invalid
 * alignments), free, usable_size, free(NULL), collect, and handing a block to a helper thread
 * that checks and frees it. The model is the ordered set of live intervals with the requested
 * size, the usable size and a fill byte per block. After every step:
 *  - sane sizes give non-NULL, absurd ones (> PTRDIFF_MAX, n * size overflow) NULL + ENOMEM,
 *    invalid alignments NULL + EINVAL;
 *  - alignment as the contract states; usable_size >= requested and stable while live;
 *  - [p, p + max(usable, 1)) overlaps no other live block;
 *  - contents (a pattern of fill byte and offset) intact on free, realloc (prefix kept) and
 *    hand-off; calloc memory zero;
 *  - goalloc (FZ_GOALLOC): after ga_thread_flush, HeapAlloc equals the class-rounded live
 *    bytes of the model (when ga_read_memstats exists, FZ_HAVE_GA_MEMSTATS).
 * Invariants: live bytes stay under FZ_LIVE_CAP (libFuzzer's memory limit is never the
 * finding); every input ends with every block freed and the helper idle, so inputs are
 * independent. The model lives in static arrays, which a conservative GC (Boehm) scans.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ab_allocator.h"
#include "fz.h"

#ifndef FZ_BACKEND
#error "define FZ_BACKEND as the ab_allocator to fuzz, e.g. -DFZ_BACKEND=ab_alloc_sys"
#endif
#define FZ_A (&FZ_BACKEND)

#ifdef FZ_GOALLOC
#include "ga_internal.h" /* goalloc.h, and the span map to classify live blocks */
#define FZ_THREAD_FLUSH() ga_thread_flush()
#else
#define FZ_THREAD_FLUSH() ((void)0)
#endif

#define FZ_MAX_BLOCKS 512
#define FZ_LIVE_CAP ((size_t)64 << 20) /* bytes (requested + alignment) held at once */
#define FZ_MAX_SANE ((size_t)4 << 20)  /* largest "sane" request */
#define FZ_MAX_ALIGN ((size_t)1 << 20) /* largest alignment tried as sane */
#define FZ_QUEUE 64                    /* hand-off queue slots */

/* ---- The model: live blocks sorted by address ---- */

/* One live block. Invariant: blocks[] is sorted by addr and the ranges
 * [addr, addr + max(usable, 1)) are pairwise disjoint (checked by model_insert). */
typedef struct fz_block {
    uintptr_t addr;
    size_t size;   /* requested bytes, filled with the pattern of `fill` */
    size_t usable; /* usable_size() when allocated */
    size_t charge; /* bytes counted against FZ_LIVE_CAP */
    uint8_t fill;
} fz_block;

static fz_block blocks[FZ_MAX_BLOCKS];
static size_t nblocks;
static size_t live_bytes; /* sum of charge */

static size_t span_of(const fz_block *b)
{
    return b->usable ? b->usable : 1;
}

/* Index of the first block with addr >= a. */
static size_t model_lower(uintptr_t a)
{
    size_t lo = 0, hi = nblocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (blocks[mid].addr < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void model_insert(const fz_block *b, const char *op)
{
    size_t i = model_lower(b->addr);
    uintptr_t end = b->addr + span_of(b);
    if (i > 0) {
        const fz_block *prev = &blocks[i - 1];
        FZ_CHECK(prev->addr + span_of(prev) <= b->addr,
                 "%s: new block [%#lx, +%zu) overlaps live block [%#lx, +%zu)", op,
                 (unsigned long)b->addr, span_of(b), (unsigned long)prev->addr, span_of(prev));
    }
    if (i < nblocks)
        FZ_CHECK(end <= blocks[i].addr,
                 "%s: new block [%#lx, +%zu) overlaps live block [%#lx, +%zu)", op,
                 (unsigned long)b->addr, span_of(b), (unsigned long)blocks[i].addr,
                 span_of(&blocks[i]));
    memmove(&blocks[i + 1], &blocks[i], (nblocks - i) * sizeof blocks[0]);
    blocks[i] = *b;
    nblocks++;
    live_bytes += b->charge;
}

static fz_block model_remove(size_t i)
{
    fz_block b = blocks[i];
    memmove(&blocks[i], &blocks[i + 1], (nblocks - i - 1) * sizeof blocks[0]);
    nblocks--;
    live_bytes -= b.charge;
    return b;
}

/* ---- Block contents: byte i is fill ^ (i mod 251), so a shifted copy does not match ----
 *
 * Written and compared with memcpy/memcmp from a per-thread pattern buffer (the helper thread
 * checks blocks too): byte loops would cost a coverage callback per byte. */

#define FZ_PERIOD 251
static _Thread_local uint8_t pat[FZ_PERIOD * 17];
static _Thread_local int pat_fill = -1;

static void pat_prepare(uint8_t fill)
{
    if (pat_fill == fill) return;
    for (size_t j = 0; j < sizeof pat; j++)
        pat[j] = fill ^ (uint8_t)(j % FZ_PERIOD);
    pat_fill = fill;
}

static void pattern_write(uint8_t *p, size_t from, size_t to, uint8_t fill)
{
    pat_prepare(fill);
    for (size_t i = from; i < to;) {
        size_t off = i % FZ_PERIOD, n = sizeof pat - off;
        if (n > to - i) n = to - i;
        memcpy(p + i, pat + off, n);
        i += n;
    }
}

static void pattern_check(const uint8_t *p, size_t size, uint8_t fill, const char *op)
{
    pat_prepare(fill);
    for (size_t i = 0; i < size;) {
        size_t n = sizeof pat;
        if (n > size - i) n = size - i;
        if (memcmp(p + i, pat, n) != 0) {
            size_t k = 0;
            while (p[i + k] == pat[k])
                k++;
            fz_fail("%s: byte %zu of block %p changed (%#x, expected %#x)", op, i + k,
                    (const void *)p, p[i + k], pat[k]);
        }
        i += n;
    }
}

static void zero_check(const uint8_t *p, size_t size, const char *op)
{
    static const uint8_t zeros[4096];
    for (size_t i = 0; i < size; i += sizeof zeros) {
        size_t n = size - i < sizeof zeros ? size - i : sizeof zeros;
        if (memcmp(p + i, zeros, n) != 0) {
            size_t k = 0;
            while (p[i + k] == 0)
                k++;
            fz_fail("%s(%zu): byte %zu of calloc block %p is %#x, not 0", op, size, i + k,
                    (const void *)p, p[i + k]);
        }
    }
}

/* ---- Sizes and alignments decoded from the input ---- */

static const size_t edge_sizes[] = {
    1,     7,     8,     9,     15,    16,     17,     24,      31,      32,      33,      48,
    64,    127,   128,   129,   255,   256,    512,    1000,    1023,    1024,    1025,    2048,
    4095,  4096,  4097,  8191,  8192,  8193,   16384,  24576,   28672,   32752,   32760,   32761,
    32767, 32768, 32769, 65535, 65536, 131072, 262144, 1048575, 1048576, 1048577, 2097152, 4194304,
};

static const size_t absurd_sizes[] = {
    (size_t)PTRDIFF_MAX + 1,
    SIZE_MAX,
    SIZE_MAX - 1,
    SIZE_MAX - 15,
    SIZE_MAX - 4095,
    SIZE_MAX - ((size_t)1 << 20),
    (size_t)PTRDIFF_MAX + 4096,
    ((size_t)3 << 62),
};

/* A sane request size, mostly small. */
static size_t decode_size(fz_input *in)
{
    unsigned k = fz_u8(in) % 16;
    if (k < 8) return fz_u8(in);
    if (k < 11) return fz_u16(in) % 4097;
    if (k < 13) return fz_u32(in) % 65537;
    if (k < 14) { /* large: up to FZ_MAX_SANE a quarter of the time (page faults are slow) */
        size_t max = fz_u8(in) & 3 ? (size_t)256 << 10 : FZ_MAX_SANE;
        return fz_u32(in) % (max + 1);
    }
    return edge_sizes[fz_below(in, sizeof edge_sizes / sizeof edge_sizes[0])];
}

static size_t decode_absurd(fz_input *in)
{
    return absurd_sizes[fz_below(in, sizeof absurd_sizes / sizeof absurd_sizes[0])];
}

/* The alignment malloc() promises for `size` (ab_allocator.h). */
static size_t malloc_align(size_t size)
{
    return size >= 16 ? 16 : 8;
}

/* ---- Checks on a block just returned ---- */

/* Checks a fresh non-NULL block, fills it, adds it to the model. `zero` asks for the calloc
 * check; `keep`/`keepfill` say how many leading bytes already hold a pattern (realloc). */
static void accept_block(void *p, size_t size, size_t align, bool zero, size_t keep, uint8_t fill,
                         size_t charge, const char *op)
{
    uintptr_t a = (uintptr_t)p;
    FZ_CHECK((a & (align - 1)) == 0, "%s(%zu): %p is not %zu-byte aligned", op, size, p, align);
    size_t usable = FZ_A->usable_size(p);
    FZ_CHECK(usable >= size, "%s(%zu): usable_size %zu < requested", op, size, usable);
    if (zero) zero_check(p, size, op);
    fz_block b = {a, size, usable, charge, fill};
    model_insert(&b, op);
    pattern_write(p, keep, size, fill);
}

static size_t charge_of(size_t size, size_t align)
{
    return size + (align > 16 ? align : 0) + 16;
}

static bool fits(size_t size, size_t align)
{
    return nblocks < FZ_MAX_BLOCKS && live_bytes + charge_of(size, align) <= FZ_LIVE_CAP;
}

static void expect_null(void *p, int want_errno, const char *what)
{
    int e = errno;
    FZ_CHECK(p == NULL, "%s returned %p, expected NULL", what, p);
    FZ_CHECK(e == want_errno, "%s: errno %d (%s), expected %d (%s)", what, e, strerror(e),
             want_errno, strerror(want_errno));
}

/* ---- The helper thread: frees blocks handed to it (cross-thread free) ---- */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static fz_block queue[FZ_QUEUE]; /* static: scanned by a conservative GC */
static size_t q_head, q_len, q_busy;
static int flush_req; /* main asks the helper to flush its thread cache (goalloc) */

static void *helper_main(void *arg)
{
    (void)arg;
    if (FZ_A->thread_init) FZ_A->thread_init();
    pthread_mutex_lock(&q_lock);
    for (;;) {
        while (q_len == 0 && !flush_req)
            pthread_cond_wait(&q_cond, &q_lock);
        if (q_len == 0) { /* flush_req: only once every handed-off block is freed */
            pthread_mutex_unlock(&q_lock);
            FZ_THREAD_FLUSH();
            pthread_mutex_lock(&q_lock);
            flush_req = 0;
            pthread_cond_broadcast(&q_cond);
            continue;
        }
        fz_block b = queue[q_head];
        queue[q_head].addr = 0;
        q_head = (q_head + 1) % FZ_QUEUE;
        q_len--;
        q_busy = 1;
        pthread_mutex_unlock(&q_lock);
        pattern_check((const uint8_t *)b.addr, b.size, b.fill, "helper free");
        FZ_A->free((void *)b.addr);
        pthread_mutex_lock(&q_lock);
        q_busy = 0;
        pthread_cond_broadcast(&q_cond);
    }
    return NULL;
}

static void helper_push(const fz_block *b)
{
    pthread_mutex_lock(&q_lock);
    while (q_len == FZ_QUEUE)
        pthread_cond_wait(&q_cond, &q_lock);
    queue[(q_head + q_len) % FZ_QUEUE] = *b;
    q_len++;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

/* Waits until the helper has freed everything handed to it; with `flush`, also until it has
 * flushed its thread cache (so its frees show in goalloc's statistics). */
static void helper_drain(bool flush)
{
    pthread_mutex_lock(&q_lock);
    if (flush) {
        flush_req = 1;
        pthread_cond_broadcast(&q_cond);
    }
    while (q_len > 0 || q_busy || flush_req)
        pthread_cond_wait(&q_cond, &q_lock);
    pthread_mutex_unlock(&q_lock);
}

/* ---- goalloc's own counters against the model ---- */

#if defined(FZ_GOALLOC) && defined(FZ_HAVE_GA_MEMSTATS)
/* HeapAlloc must be the class-rounded bytes of the live blocks (goalloc.h): a small block
 * counts its slot, a large one its whole pages, a tiny block 16 bytes while any sub-object in
 * it lives. Which slot, span and tiny block each live pointer is in comes from goalloc's span
 * map; the sum is the model's, the figure goalloc's own counters. */
static void check_backend_counters(void)
{
    helper_drain(true);
    ga_thread_flush();
    uint64_t want = 0;
    uintptr_t last_tiny = 0;
    for (size_t i = 0; i < nblocks; i++) {
        uintptr_t p = blocks[i].addr;
        ga_span *s = _ga_span_of(p);
        FZ_CHECK(s != NULL && ga_owns((const void *)p), "goalloc does not own live block %p",
                 (void *)p);
        if (s->ci == GA_TINY_CENTRAL) {
            uintptr_t tb = p & ~(uintptr_t)(GA_TINY_SIZE - 1);
            if (tb != last_tiny) want += GA_TINY_SIZE; /* blocks[] is address-ordered */
            last_tiny = tb;
        } else if (s->spanclass < 2) {
            want += s->npages * GA_PAGE_SIZE;
        } else {
            want += s->elemsize;
        }
    }
    ga_memstats ms;
    FZ_CHECK(ga_read_memstats(&ms) == 0, "ga_read_memstats failed");
    FZ_CHECK(ms.HeapAlloc == want && ms.Alloc == ms.HeapAlloc,
             "goalloc HeapAlloc %llu (Alloc %llu) != %llu class-rounded live bytes (%zu blocks)",
             (unsigned long long)ms.HeapAlloc, (unsigned long long)ms.Alloc,
             (unsigned long long)want, nblocks);
    FZ_CHECK(ms.HeapSys == ms.HeapInuse + ms.HeapIdle && ms.HeapReleased <= ms.HeapIdle &&
                 ms.HeapObjects == ms.Mallocs - ms.Frees,
             "goalloc MemStats identities broken: HeapSys %llu Inuse %llu Idle %llu Released "
             "%llu Objects %llu Mallocs %llu Frees %llu",
             (unsigned long long)ms.HeapSys, (unsigned long long)ms.HeapInuse,
             (unsigned long long)ms.HeapIdle, (unsigned long long)ms.HeapReleased,
             (unsigned long long)ms.HeapObjects, (unsigned long long)ms.Mallocs,
             (unsigned long long)ms.Frees);
}
#else
static void check_backend_counters(void) {}
#endif

/* ---- Operations ---- */

static size_t pick(fz_input *in)
{
    return fz_below(in, nblocks);
}

static void op_malloc(fz_input *in)
{
    size_t size = decode_size(in);
    if (!fits(size, 16)) return;
    errno = 0;
    void *p = FZ_A->malloc(size);
    FZ_CHECK(p != NULL, "malloc(%zu) returned NULL (errno %d)", size, errno);
    accept_block(p, size, malloc_align(size), false, 0, fz_u8(in), charge_of(size, 16), "malloc");
}

static void op_calloc(fz_input *in)
{
    size_t n = fz_u8(in) % 65, esz = decode_size(in);
    if (esz && n > FZ_MAX_SANE / esz) n = FZ_MAX_SANE / esz;
    size_t size = n * esz;
    if (!fits(size, 16)) return;
    errno = 0;
    void *p = FZ_A->calloc(n, esz);
    FZ_CHECK(p != NULL, "calloc(%zu, %zu) returned NULL (errno %d)", n, esz, errno);
    accept_block(p, size, malloc_align(size), true, 0, fz_u8(in), charge_of(size, 16), "calloc");
}

static void op_calloc_overflow(fz_input *in)
{
    size_t n = (size_t)1 << (32 + fz_u8(in) % 31);
    n += fz_u8(in);
    size_t esz = SIZE_MAX / n + 1 + fz_u8(in);
    char what[80];
    snprintf(what, sizeof what, "calloc(%zu, %zu) (product overflows)", n, esz);
    errno = 0;
    void *p = FZ_A->calloc(n, esz);
    expect_null(p, ENOMEM, what);
}

static void op_absurd(fz_input *in)
{
    size_t size = decode_absurd(in);
    char what[80];
    void *p;
    errno = 0;
    switch (fz_u8(in) % 4) {
    case 0:
        snprintf(what, sizeof what, "malloc(%zu)", size);
        p = FZ_A->malloc(size);
        break;
    case 1:
        snprintf(what, sizeof what, "calloc(1, %zu)", size);
        p = FZ_A->calloc(1, size);
        break;
    case 2:
        snprintf(what, sizeof what, "realloc(NULL, %zu)", size);
        p = FZ_A->realloc(NULL, size);
        break;
    default:
        snprintf(what, sizeof what, "aligned_alloc(64, %zu)", size);
        p = FZ_A->aligned_alloc(64, size);
        break;
    }
    expect_null(p, ENOMEM, what);
}

static void op_realloc(fz_input *in)
{
    if (nblocks == 0) return;
    size_t i = pick(in);
    fz_block old = blocks[i];
    unsigned mode = fz_u8(in) % 8;
    size_t size = mode == 0 ? 0 : decode_size(in);
    if (mode == 1) { /* absurd: must fail and leave the block untouched */
        size = decode_absurd(in);
        char what[80];
        snprintf(what, sizeof what, "realloc(%p, %zu)", (void *)old.addr, size);
        errno = 0;
        void *p = FZ_A->realloc((void *)old.addr, size);
        expect_null(p, ENOMEM, what);
        pattern_check((const uint8_t *)old.addr, old.size, old.fill, "failed realloc");
        return;
    }
    if (live_bytes - old.charge + charge_of(size, 16) > FZ_LIVE_CAP) return;
    pattern_check((const uint8_t *)old.addr, old.size, old.fill, "realloc (before)");
    model_remove(i);
    errno = 0;
    void *p = FZ_A->realloc((void *)old.addr, size);
    if (size == 0 && p == NULL) return; /* realloc(p, 0) may free and return NULL */
    FZ_CHECK(p != NULL, "realloc(%p, %zu) returned NULL (errno %d)", (void *)old.addr, size, errno);
    size_t keep = old.size < size ? old.size : size;
    pattern_check(p, keep, old.fill, "realloc (prefix kept)");
    accept_block(p, size, malloc_align(size), false, keep, old.fill, charge_of(size, 16),
                 "realloc");
}

static void op_realloc_null(fz_input *in)
{
    size_t size = decode_size(in);
    if (!fits(size, 16)) return;
    errno = 0;
    void *p = FZ_A->realloc(NULL, size);
    FZ_CHECK(p != NULL, "realloc(NULL, %zu) returned NULL (errno %d)", size, errno);
    accept_block(p, size, malloc_align(size), false, 0, fz_u8(in), charge_of(size, 16),
                 "realloc(NULL)");
}

static void op_aligned(fz_input *in)
{
    unsigned k = fz_u8(in);
    size_t size = decode_size(in);
    if (k % 8 == 7) { /* not a power of two (0 included): EINVAL */
        static const size_t bad[] = {0, 3, 6, 12, 24, 48, 96, 100, 4095, 4097, 65537};
        size_t align = k % 16 == 7 ? bad[fz_below(in, sizeof bad / sizeof bad[0])]
                                   : ((size_t)1 << (fz_u8(in) % 20 + 1)) + 1 + (k >> 4);
        if ((align & (align - 1)) == 0 && align) return; /* happened to be a power of two */
        char what[80];
        snprintf(what, sizeof what, "aligned_alloc(%zu, %zu) (not a power of two)", align, size);
        errno = 0;
        void *p = FZ_A->aligned_alloc(align, size);
        expect_null(p, EINVAL, what);
        return;
    }
    size_t align = (size_t)1 << (k % 21); /* 1 .. FZ_MAX_ALIGN */
    if (!fits(size, align)) return;
    errno = 0;
    void *p = FZ_A->aligned_alloc(align, size);
    FZ_CHECK(p != NULL, "aligned_alloc(%zu, %zu) returned NULL (errno %d)", align, size, errno);
    accept_block(p, size, align, false, 0, fz_u8(in), charge_of(size, align), "aligned_alloc");
}

static void op_free(fz_input *in)
{
    if (nblocks == 0) return;
    fz_block b = model_remove(pick(in));
    pattern_check((const uint8_t *)b.addr, b.size, b.fill, "free");
    FZ_A->free((void *)b.addr);
}

static void op_usable(fz_input *in)
{
    if (nblocks == 0) return;
    const fz_block *b = &blocks[pick(in)];
    size_t u = FZ_A->usable_size((const void *)b->addr);
    FZ_CHECK(u == b->usable, "usable_size(%p) changed from %zu to %zu while live", (void *)b->addr,
             b->usable, u);
}

static void op_handoff(fz_input *in)
{
    if (nblocks == 0) return;
    fz_block b = model_remove(pick(in));
    helper_push(&b);
    if (fz_u8(in) & 1) helper_drain(false);
}

static void op_collect(fz_input *in)
{
    (void)in;
    helper_drain(false);
    FZ_A->collect(AB_COLLECT_PURGE);
}

/* ---- Entry points ---- */

#if FZ_ASAN
/* Absurd sizes must return NULL + ENOMEM, not stop the process in ASan's allocator. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif
#if FZ_TSAN
/* The same for TSan's allocator (the tsan preset replays this corpus). */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256] = "";
    if (FZ_A->init && FZ_A->init(err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_alloc_ops_%s: backend init failed: %s\n", FZ_A->name, err);
        exit(1);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, helper_main, NULL) != 0) {
        fprintf(stderr, "fuzz_alloc_ops_%s: cannot start the helper thread\n", FZ_A->name);
        exit(1);
    }
    pthread_detach(t);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = fz_input_make(data, size);
    for (unsigned steps = 0; fz_more(&in) && steps < 4096; steps++) {
        switch (fz_u8(&in) % 16) {
        case 0:
        case 1:
        case 2:
            op_malloc(&in);
            break;
        case 3:
            op_calloc(&in);
            break;
        case 4:
        case 5:
            op_realloc(&in);
            break;
        case 6:
            op_realloc_null(&in);
            break;
        case 7:
            op_aligned(&in);
            break;
        case 8:
        case 9:
        case 10:
            op_free(&in);
            break;
        case 11:
            op_usable(&in);
            break;
        case 12:
            op_handoff(&in);
            break;
        case 13:
            op_absurd(&in);
            break;
        case 14:
            op_calloc_overflow(&in);
            break;
        default:
            if (fz_u8(&in) % 8 == 0)
                op_collect(&in);
            else
                check_backend_counters();
            break;
        }
    }
    check_backend_counters();
    while (nblocks > 0) {
        fz_block b = model_remove(nblocks - 1);
        pattern_check((const uint8_t *)b.addr, b.size, b.fill, "free at end");
        FZ_A->free((void *)b.addr);
    }
    helper_drain(false);
    check_backend_counters();
    FZ_A->free(NULL);
    return 0;
}
