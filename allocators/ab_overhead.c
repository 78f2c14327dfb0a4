/* ab_overhead.c - the "overhead" backend: the harness's own per-operation cost, measured.
 *
 * A deliberately trivial allocator, so that a workload run on it costs what the harness and
 * the workload's own loop cost (RNG, touching and checking blocks, the live-byte account,
 * sampling) and almost nothing else. `abench run` reports its ns_per_op (and instr_per_op
 * under --instructions) beside the real backends' for every workload: the floor under which
 * no allocator can be seen, and the part of every other figure that is not the allocator's.
 *
 * Written by hand on purpose: no packaged allocator is this cheap or this simple.
 *
 * Invariants:
 *  - Small blocks (<= OV_SMALL_MAX) live in one reserved region, OV_CLASSES slabs of
 *    OV_SLAB bytes; a block's class is its slab index, (p - region) >> OV_SLAB_SHIFT, so free
 *    reads nothing from the block (a header load would be a cache miss the real allocators
 *    do not pay). Usable size ov_class_size(cls): 16-byte steps to 1 KiB, then powers of two
 *    to 32 MiB (a request-scoped bump region costs no mmap). Slab space is handed out in
 *    OV_CARVE pieces (or one block, when larger) to
 *    threads (one atomic add per piece) and never given back.
 *  - A freed small block goes on the freeing thread's LIFO list for its class: malloc is a
 *    pop, free a push, with no lock and no atomic (a block freed by another thread simply moves
 *    to that thread's list). Memory is never returned (RSS means little here); the stats
 *    give only `mapped`.
 *  - Any other block is a mapping of its own, preceded by a 16-byte header: {mapping, length}.
 *  - The process malloc stays glibc's; this backend serves only the interface, so
 *    check_process_malloc() has nothing to prove and says ok.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "ab_allocator.h"
#include "ab_checked.h"

#define OV_GRAIN 16
#define OV_LINEAR 64  /* classes 0..63: 16 .. 1024 bytes in 16-byte steps */
#define OV_CLASSES 79 /* then 64..78: powers of two, 2 KiB .. 32 MiB */
#define OV_LINEAR_MAX (OV_GRAIN * OV_LINEAR)
#define OV_SMALL_MAX ((size_t)1 << (OV_CLASSES - OV_LINEAR + 10))
#define OV_SLAB_SHIFT                                                                              \
    27 /* 128 MiB of address space per class (reserved, not committed;                             \
        * under 10 GiB in all, which valgrind still accepts) */
#define OV_SLAB ((uintptr_t)1 << OV_SLAB_SHIFT)
#define OV_CARVE (64u << 10) /* slab piece a thread takes at a time */

typedef struct ov_free {
    struct ov_free *next;
} ov_free;

typedef struct ov_tls {
    ov_free *list[OV_CLASSES];
    char *bump[OV_CLASSES], *end[OV_CLASSES];
} ov_tls;

static __thread ov_tls ov_t;
static char *ov_region;                       /* OV_CLASSES slabs, reserved once */
static _Atomic uintptr_t ov_used[OV_CLASSES]; /* bytes handed out of each slab */
static _Atomic uint64_t ov_big_bytes;         /* bytes in live mappings of their own */
static pthread_once_t ov_once = PTHREAD_ONCE_INIT;

static void ov_reserve(void)
{
    void *r = mmap(NULL, OV_SLAB * OV_CLASSES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ov_region = r == MAP_FAILED ? NULL : r;
}

static inline int ov_is_small(const void *p)
{
    return (uintptr_t)p - (uintptr_t)ov_region < OV_SLAB * OV_CLASSES;
}

static inline unsigned ov_class_of(const void *p)
{
    return (unsigned)(((uintptr_t)p - (uintptr_t)ov_region) >> OV_SLAB_SHIFT);
}

/* ---- Large and over-aligned blocks: one mapping each ---- */

typedef struct ov_big_hdr {
    void *base;
    size_t len;
} ov_big_hdr;

__attribute__((noinline, cold)) static void *ov_big(size_t size, size_t align)
{
    if (align < OV_GRAIN) align = OV_GRAIN;
    size_t len = size + align + sizeof(ov_big_hdr);
    if (len < size) return NULL;
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    uintptr_t p = (uintptr_t)base + sizeof(ov_big_hdr);
    p = (p + align - 1) & ~(uintptr_t)(align - 1);
    ov_big_hdr *h = (ov_big_hdr *)p - 1;
    h->base = base;
    h->len = len;
    atomic_fetch_add_explicit(&ov_big_bytes, len, memory_order_relaxed);
    return (void *)p;
}

/* ---- Small blocks ---- */

static inline size_t ov_class_size(unsigned cls)
{
    return cls < OV_LINEAR ? (size_t)(cls + 1) * OV_GRAIN : (size_t)1 << (cls - OV_LINEAR + 11);
}

static inline unsigned ov_class(size_t size)
{
    if (size <= OV_LINEAR_MAX) return size ? (unsigned)((size - 1) / OV_GRAIN) : 0;
    return OV_LINEAR + (unsigned)(64 - __builtin_clzll((unsigned long long)size - 1)) - 11;
}

__attribute__((noinline, cold)) static void *ov_refill(unsigned cls)
{
    size_t bs = ov_class_size(cls), carve = bs > OV_CARVE ? bs : OV_CARVE;
    if (ov_t.end[cls] - ov_t.bump[cls] < (ptrdiff_t)bs) {
        pthread_once(&ov_once, ov_reserve);
        if (!ov_region) return NULL;
        uintptr_t off = atomic_fetch_add_explicit(&ov_used[cls], carve, memory_order_relaxed);
        if (off + carve + OV_CLASSES * 4160u > OV_SLAB) return ov_big(bs, OV_GRAIN); /* full */
        /* Slabs start 128 MiB apart: without a stagger the hot blocks of every class would share
         * cache sets. */
        ov_t.bump[cls] = ov_region + ((uintptr_t)cls << OV_SLAB_SHIFT) + off + cls * 4160u;
        ov_t.end[cls] = ov_t.bump[cls] + carve;
    }
    void *p = ov_t.bump[cls];
    ov_t.bump[cls] += bs;
    return p;
}

static void *ov_malloc_raw(size_t size)
{
    if (size > OV_SMALL_MAX) return ov_big(size, OV_GRAIN);
    unsigned cls = ov_class(size);
    ov_free *f = ov_t.list[cls];
    if (__builtin_expect(f != NULL, 1)) {
        ov_t.list[cls] = f->next;
        return f;
    }
    return ov_refill(cls);
}

static void *ov_malloc(size_t size)
{
    return ab_checked_malloc(ov_malloc_raw, size);
}

static void ov_free_block(void *p)
{
    if (!p) return;
    if (__builtin_expect(ov_is_small(p), 1)) {
        unsigned cls = ov_class_of(p);
        ov_free *f = p;
        f->next = ov_t.list[cls];
        ov_t.list[cls] = f;
        return;
    }
    ov_big_hdr *h = (ov_big_hdr *)p - 1;
    atomic_fetch_sub_explicit(&ov_big_bytes, h->len, memory_order_relaxed);
    munmap(h->base, h->len);
}

static size_t ov_usable_size(const void *p)
{
    if (!p) return 0;
    if (ov_is_small(p)) return ov_class_size(ov_class_of(p));
    const ov_big_hdr *h = (const ov_big_hdr *)p - 1;
    return h->len - (size_t)((const char *)p - (const char *)h->base);
}

static void *ov_calloc_raw(size_t n, size_t size)
{
    void *p = ov_malloc_raw(n * size); /* ab_checked_calloc checked the product */
    if (p) memset(p, 0, n * size);
    return p;
}

static void *ov_calloc(size_t n, size_t size)
{
    return ab_checked_calloc(ov_calloc_raw, n, size);
}

static void *ov_realloc_raw(void *p, size_t size)
{
    if (!p) return ov_malloc_raw(size);
    if (size == 0) {
        ov_free_block(p);
        return NULL;
    }
    size_t old = ov_usable_size(p);
    if (size <= old && ov_is_small(p)) return p;
    void *q = ov_malloc_raw(size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    ov_free_block(p);
    return q;
}

static void *ov_realloc(void *p, size_t size)
{
    return ab_checked_realloc(ov_realloc_raw, p, size);
}

static void *ov_aligned_alloc(size_t alignment, size_t size)
{
    if (ab_check_alignment(alignment, size) != 0) return NULL;
    void *p = alignment <= OV_GRAIN ? ov_malloc_raw(size) : ov_big(size, alignment);
    if (!p) errno = ENOMEM;
    return p;
}

/* ---- The rest of the interface ---- */

static const char *ov_version(void)
{
    return "overhead (harness cost: 16-byte-class LIFO lists, nothing returned)";
}

static int ov_check_process_malloc(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return 0;
}

/* Only `mapped` (slab pieces handed out plus live own mappings): the fast paths count
 * nothing, so allocated and active are n/a. */
static int ov_stats(ab_stats *out)
{
    memset(out, 0, offsetof(ab_stats, extra));
    uint64_t m = atomic_load_explicit(&ov_big_bytes, memory_order_relaxed);
    for (int c = 0; c < OV_CLASSES; c++)
        m += atomic_load_explicit(&ov_used[c], memory_order_relaxed);
    out->mapped = m;
    out->valid = AB_STAT_mapped;
    return 0;
}

static void ov_collect(int level)
{
    (void)level;
}

const ab_allocator ab_alloc_overhead = {
    .name = "overhead",
    .caps = 0,
    .version = ov_version,
    .check_process_malloc = ov_check_process_malloc,
    .malloc = ov_malloc,
    .calloc = ov_calloc,
    .realloc = ov_realloc,
    .free = ov_free_block,
    .aligned_alloc = ov_aligned_alloc,
    .usable_size = ov_usable_size,
    .stats = ov_stats,
    .collect = ov_collect,
};
