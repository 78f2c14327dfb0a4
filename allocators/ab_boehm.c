/* ab_boehm.c - the Boehm GC backend (Debian's libgc, beside glibc: it does not replace malloc).
 *
 * Owns ab_alloc_boehm. Invariants:
 *  - manual mode: malloc & co hand out GC_MALLOC_UNCOLLECTABLE blocks, freed by GC_FREE, so a
 *    block referenced only from glibc memory is never collected; uncollectable blocks are
 *    scanned, so collected objects they point to stay alive. Boehm clears objects of this kind
 *    when they are handed out and when freed, so calloc needs no memset.
 *  - aligned_alloc above the 16-byte granule over-allocates an uncollectable block and returns
 *    an interior pointer; free/realloc/usable_size find the block start with GC_base(), so
 *    every block, aligned or not, is freed as GC_FREE(GC_base(p)).
 *  - AB_CAP_GC: gc_alloc is GC_MALLOC (scan, cleared by Boehm) or GC_MALLOC_ATOMIC (noscan,
 *    cleared here); gc_alloc_typed uses GC_make_descriptor descriptors built once per
 *    ab_gc_type and cached; roots are GC_add_roots ranges; gc_store_ptr is a plain store
 *    (Boehm needs no barrier when not incremental). No memory limit knob: GC_set_max_heap_size
 *    is a hard cap, not a soft limit, so AB_CAP_MEMLIMIT stays off.
 *  - threads: init() enables explicit registration; thread_init/thread_exit register and
 *    unregister the calling thread (its stack is then scanned). A thread that never calls them
 *    is registered by its first allocation and unregistered by a thread-key destructor at its
 *    exit (libgc aborts when an unregistered thread triggers a collection). Before init() no
 *    thread is registered.
 *  - stats(): Boehm counts no live bytes, so `allocated` is n/a. Its uncollectable-bytes
 *    counter (GC_get_non_gc_bytes) is not reported at all: in libgc 8.2.2 the fast allocation
 *    paths do not add to it but GC_free subtracts, so it goes negative (wraps) under churn.
 *    mapped = heap minus unmapped, active = heap blocks holding objects (heap minus free and
 *    unmapped blocks), retained = unmapped; resident is n/a.
 *  - process malloc is glibc's: check_process_malloc() runs the sys check, then proves that
 *    Boehm does not own a block from malloc() but does own one from GC_MALLOC_UNCOLLECTABLE.
 */
#define GC_THREADS
#define GC_NO_THREAD_REDIRECTS
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gc/gc.h>
#include <gc/gc_typed.h>

#include "ab_allocator.h"

#define BO_GRANULE 16 /* GC_GRANULE_BYTES on 64-bit targets */

static atomic_int bo_inited; /* init() ran: explicit thread registration enabled */
static atomic_int bo_forced; /* a collection requested through this adapter runs */
/* 0: not known to Boehm; 1: registered by this adapter (unregistered by thread_exit or, at the
 * latest, by the bo_thread_key destructor); 2: registered by Boehm itself (the main thread). */
static _Thread_local int bo_thread_registered;
static pthread_key_t bo_thread_key;

/* ---- Version and init ---- */

static char bo_version_buf[96];
static pthread_once_t bo_version_once = PTHREAD_ONCE_INIT;

static void bo_version_init(void)
{
    unsigned v = GC_get_version();
    snprintf(bo_version_buf, sizeof bo_version_buf, "Boehm GC %u.%u.%u", v >> 16, (v >> 8) & 0xff,
             v & 0xff);
}

static const char *bo_version(void)
{
    pthread_once(&bo_version_once, bo_version_init);
    return bo_version_buf;
}

static void bo_install_event_proc(void);
static void bo_thread_key_dtor(void *v);
static void bo_thread_init(void);

/* A thread that allocates without thread_init is registered on its first allocation: libgc
 * aborts ("Collecting from unknown thread") if an unregistered thread triggers a collection. */
static inline void bo_ensure_registered(void)
{
    if (__builtin_expect(bo_thread_registered == 0, 0) && atomic_load(&bo_inited)) bo_thread_init();
}

static pthread_once_t bo_init_once = PTHREAD_ONCE_INIT;

/* Runs once, on the thread that calls init() first (the runner's main thread). bo_inited is
 * published last, so a thread that sees it may register. */
static void bo_init_body(void)
{
    GC_INIT();
    GC_allow_register_threads();
    pthread_key_create(&bo_thread_key, bo_thread_key_dtor);
    bo_thread_registered = 2;
    bo_install_event_proc();
    atomic_store(&bo_inited, 1);
}

static int bo_init(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    pthread_once(&bo_init_once, bo_init_body);
    return 0;
}

/* ---- Manual mode ---- */

static void *bo_malloc(size_t size)
{
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    bo_ensure_registered();
    void *p = GC_MALLOC_UNCOLLECTABLE(size);
    if (!p) errno = ENOMEM;
    return p;
}

static void *bo_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return bo_malloc(total); /* uncollectable objects come cleared */
}

static void bo_free(void *p)
{
    if (p) GC_FREE(GC_base(p));
}

static size_t bo_usable_size(const void *p)
{
    void *base = GC_base((void *)p);
    return GC_size(base) - (size_t)((const char *)p - (const char *)base);
}

static void *bo_realloc(void *p, size_t size)
{
    if (!p) return bo_malloc(size);
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *base = GC_base(p);
    if (base == p) {
        bo_ensure_registered();
        void *q = GC_REALLOC(p, size); /* size 0: frees p, returns NULL */
        if (!q && size) errno = ENOMEM;
        return q;
    }
    /* an interior pointer from aligned_alloc: move the block */
    size_t old = bo_usable_size(p);
    void *q = bo_malloc(size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    bo_free(p);
    return q;
}

static void *bo_aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment <= BO_GRANULE) return bo_malloc(size);
    if (size == 0) size = 1; /* the rounded pointer must lie inside the block, not just past it */
    if (size > PTRDIFF_MAX - alignment) {
        errno = ENOMEM;
        return NULL;
    }
    char *base = bo_malloc(size + alignment - BO_GRANULE);
    if (!base) return NULL;
    return (void *)(((uintptr_t)base + alignment - 1) & ~(uintptr_t)(alignment - 1));
}

/* ---- Stats and collect ---- */

static int bo_stats(ab_stats *out)
{
    out->valid = 0;
    out->n_extra = 0;
    struct GC_prof_stats_s ps;
    if (GC_get_prof_stats(&ps, sizeof ps) < sizeof ps) return -1;
    out->mapped = ps.heapsize_full - ps.unmapped_bytes;
    out->active = ps.heapsize_full - ps.free_bytes_full;
    out->retained = ps.unmapped_bytes;
    out->valid = AB_STAT_mapped | AB_STAT_active | AB_STAT_retained;
    ab_stats_put(out, "heapsize_full", (double)ps.heapsize_full);
    ab_stats_put(out, "free_bytes_full", (double)ps.free_bytes_full);
    ab_stats_put(out, "unmapped_bytes", (double)ps.unmapped_bytes);
    ab_stats_put(out, "gc_no", (double)ps.gc_no);
    ab_stats_put(out, "bytes_allocd_since_gc", (double)ps.bytes_allocd_since_gc);
    ab_stats_put(out, "allocd_bytes_before_gc", (double)ps.allocd_bytes_before_gc);
    ab_stats_put(out, "bytes_reclaimed_since_gc", (double)ps.bytes_reclaimed_since_gc);
    ab_stats_put(out, "expl_freed_bytes_since_gc", (double)ps.expl_freed_bytes_since_gc);
    ab_stats_put(out, "obtained_from_os_bytes", (double)ps.obtained_from_os_bytes);
    ab_stats_put(out, "markers_m1", (double)ps.markers_m1);
    return 0;
}

/* Boehm returns memory to the OS only after a collection, so PURGE collects too. */
static void bo_collect(int level)
{
    (void)level;
    atomic_store(&bo_forced, 1);
    GC_gcollect_and_unmap();
    atomic_store(&bo_forced, 0);
}

/* ---- Thread registration ---- */

static void bo_thread_init(void)
{
    if (!atomic_load(&bo_inited) || bo_thread_registered) return;
    struct GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS) return;
    int rc = GC_register_my_thread(&sb);
    if (rc == GC_SUCCESS) {
        bo_thread_registered = 1;
        pthread_setspecific(bo_thread_key, (void *)1); /* unregister at exit at the latest */
    } else if (rc == GC_DUPLICATE) {
        bo_thread_registered = 2;
    }
}

static void bo_thread_exit(void)
{
    if (bo_thread_registered != 1) return;
    GC_unregister_my_thread();
    bo_thread_registered = 0;
    pthread_setspecific(bo_thread_key, NULL);
}

static void bo_thread_key_dtor(void *v)
{
    (void)v;
    if (bo_thread_registered == 1) {
        GC_unregister_my_thread();
        bo_thread_registered = 0;
    }
}

/* ---- AB_CAP_GC: collected allocation ---- */

static void *bo_gc_alloc(size_t size, unsigned flags)
{
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    bo_ensure_registered();
    void *p;
    if (flags & AB_GC_NOSCAN) {
        p = GC_MALLOC_ATOMIC(size); /* not cleared by Boehm */
        if (p) memset(p, 0, size);
    } else {
        p = GC_MALLOC(size);
    }
    if (!p) errno = ENOMEM;
    return p;
}

/* Descriptor cache: open addressing on the ab_gc_type address (descriptors outlive their
 * objects, so the address is a stable key). Readers are lock-free: an entry's key is published
 * (release) after its descriptor. Invariant: a non-NULL key never changes. */
#define BO_DESCR_SLOTS 256

typedef struct bo_descr_slot {
    _Atomic(const ab_gc_type *) key;
    GC_descr descr;
} bo_descr_slot;

static bo_descr_slot bo_descr_cache[BO_DESCR_SLOTS];
static pthread_mutex_t bo_descr_lock = PTHREAD_MUTEX_INITIALIZER;

static GC_descr bo_make_descr(const ab_gc_type *t)
{
    size_t nwords = t->size / sizeof(GC_word);
    size_t nbm = (nwords + GC_WORDSZ - 1) / GC_WORDSZ;
    GC_word *bm = calloc(nbm ? nbm : 1, sizeof(GC_word));
    if (!bm) return 0;
    for (size_t i = 0; i < nwords; i++)
        if (t->ptrmask && ((t->ptrmask[i / 8] >> (i % 8)) & 1)) GC_set_bit(bm, i);
    GC_descr d = GC_make_descriptor(bm, nwords);
    free(bm);
    return d;
}

static size_t bo_descr_hash(const ab_gc_type *t)
{
    return (size_t)(((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15ull >> 56) % BO_DESCR_SLOTS;
}

/* Returns 0 and *d on success; -1 when the cache is full (the caller builds it uncached). */
static int bo_descr_lookup(const ab_gc_type *t, GC_descr *d)
{
    size_t h = bo_descr_hash(t);
    for (size_t i = 0; i < BO_DESCR_SLOTS; i++) {
        bo_descr_slot *s = &bo_descr_cache[(h + i) % BO_DESCR_SLOTS];
        const ab_gc_type *k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == t) {
            *d = s->descr;
            return 0;
        }
        if (k) continue;
        pthread_mutex_lock(&bo_descr_lock);
        k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (!k) {
            s->descr = bo_make_descr(t);
            atomic_store_explicit(&s->key, t, memory_order_release);
            k = t;
        }
        pthread_mutex_unlock(&bo_descr_lock);
        if (k == t) {
            *d = s->descr;
            return 0;
        }
    }
    return -1;
}

static void *bo_gc_alloc_typed(const ab_gc_type *t, size_t count)
{
    size_t total;
    if (!t || t->size == 0 || t->size % sizeof(GC_word) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (__builtin_mul_overflow(t->size, count, &total) || total > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    bo_ensure_registered();
    GC_descr d;
    if (bo_descr_lookup(t, &d) != 0) d = bo_make_descr(t);
    void *p = count == 1 ? GC_malloc_explicitly_typed(t->size, d)
                         : GC_calloc_explicitly_typed(count, t->size, d);
    if (!p) errno = ENOMEM;
    return p;
}

static int bo_gc_add_roots(void *lo, void *hi)
{
    if (!lo || (uintptr_t)hi <= (uintptr_t)lo) {
        errno = EINVAL;
        return -1;
    }
    GC_add_roots(lo, hi);
    return 0;
}

static int bo_gc_remove_roots(void *lo, void *hi)
{
    if (!lo || (uintptr_t)hi <= (uintptr_t)lo) {
        errno = EINVAL;
        return -1;
    }
    GC_remove_roots(lo, hi);
    return 0;
}

static void bo_gc_store_ptr(void **slot, void *value)
{
    *slot = value;
}

static void bo_gc_collect(void)
{
    atomic_store(&bo_forced, 1);
    GC_gcollect();
    atomic_store(&bo_forced, 0);
}

/* ---- AB_CAP_GC: events ----
 * bo_on_event runs with the GC lock held (maybe with the world stopped): it reads Boehm's
 * unsynchronized getters, which is their intended use there, and never allocates. The pause
 * of a cycle is the time from its START to its END event (Boehm collects with the world
 * stopped, without incremental mode). Cycle numbers continue GC_get_gc_no() at install. */

static _Atomic(ab_gc_event_fn) bo_hook_fn;
static _Atomic(void *) bo_hook_ctx;
static uint64_t bo_cycle;       /* under the GC lock */
static uint64_t bo_cycle_t0;    /* under the GC lock */
static int64_t bo_cycle_before; /* under the GC lock */
static pthread_once_t bo_event_once = PTHREAD_ONCE_INIT;

static uint64_t bo_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void GC_CALLBACK bo_on_event(GC_EventType e)
{
    if (e != GC_EVENT_START && e != GC_EVENT_END) return;
    uint64_t now = bo_now_ns();
    int64_t in_use = (int64_t)GC_get_heap_size() - (int64_t)GC_get_free_bytes();
    ab_gc_event ev = {.heap_after = -1, .heap_marked = -1, .heap_goal = -1, .mem_limit = -1};
    ev.t_ns = now;
    ev.forced = atomic_load(&bo_forced);
    if (e == GC_EVENT_START) {
        bo_cycle++;
        bo_cycle_t0 = now;
        bo_cycle_before = in_use;
        ev.kind = AB_GC_EV_CYCLE_START;
    } else {
        ev.kind = AB_GC_EV_CYCLE_END;
        ev.pause_ns = now - bo_cycle_t0;
        ev.heap_after = in_use;
    }
    ev.cycle = bo_cycle;
    ev.heap_before = bo_cycle_before;
    ab_gc_event_fn fn = atomic_load(&bo_hook_fn);
    if (fn) fn(&ev, atomic_load(&bo_hook_ctx));
}

static void bo_install_event_proc_once(void)
{
    bo_cycle = GC_get_gc_no();
    GC_set_on_collection_event(bo_on_event);
}

static void bo_install_event_proc(void)
{
    pthread_once(&bo_event_once, bo_install_event_proc_once);
}

static void bo_gc_set_event_hook(ab_gc_event_fn fn, void *ctx)
{
    bo_install_event_proc();
    atomic_store(&bo_hook_fn, NULL);
    atomic_store(&bo_hook_ctx, ctx);
    atomic_store(&bo_hook_fn, fn);
}

/* ---- Proof of the process malloc ---- */

static int bo_check_process_malloc(char *err, size_t errlen)
{
    char why[256];
    if (ab_alloc_sys.check_process_malloc(why, sizeof why) != 0) {
        snprintf(err, errlen, "boehm: %s", why);
        return -1;
    }
    void *p = malloc(64);
    void *q = GC_MALLOC_UNCOLLECTABLE(64);
    int p_is_gc = p && GC_base(p) != NULL;
    int q_is_gc = q && GC_base(q) == q;
    free(p);
    GC_FREE(q);
    if (!p || !q) {
        snprintf(err, errlen, "boehm: a 64-byte allocation failed");
        return -1;
    }
    if (p_is_gc) {
        snprintf(err, errlen,
                 "boehm: process malloc lands in the Boehm heap (libgc built with "
                 "malloc redirection): the adapter assumes glibc's malloc");
        return -1;
    }
    if (!q_is_gc) {
        snprintf(err, errlen, "boehm: GC_base() does not know a GC_MALLOC_UNCOLLECTABLE block");
        return -1;
    }
    return 0;
}

const ab_allocator ab_alloc_boehm = {
    .name = "boehm",
    .caps = AB_CAP_GC,
    .version = bo_version,
    .init = bo_init,
    .check_process_malloc = bo_check_process_malloc,
    .malloc = bo_malloc,
    .calloc = bo_calloc,
    .realloc = bo_realloc,
    .free = bo_free,
    .aligned_alloc = bo_aligned_alloc,
    .usable_size = bo_usable_size,
    .thread_init = bo_thread_init,
    .thread_exit = bo_thread_exit,
    .stats = bo_stats,
    .collect = bo_collect,
    .gc_alloc = bo_gc_alloc,
    .gc_alloc_typed = bo_gc_alloc_typed,
    .gc_add_roots = bo_gc_add_roots,
    .gc_remove_roots = bo_gc_remove_roots,
    .gc_store_ptr = bo_gc_store_ptr,
    .gc_collect = bo_gc_collect,
    .gc_set_event_hook = bo_gc_set_event_hook,
};
