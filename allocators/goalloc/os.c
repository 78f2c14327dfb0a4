/* os.c - goalloc's only door to the kernel: reserve, commit, release and fault memory.
 * See malloc.c for the overview.
 *
 * Memory states follow Go's (spec 5.1): Reserved (PROT_NONE) -> Ready (read/write) ->
 * Prepared (released with madvise, still mapped) -> Ready again on reuse. Linux needs no
 * call for Prepared -> Ready, so there is no _ga_os_used. Metadata comes from separate
 * anonymous mappings and is counted in meta_bytes.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "ga_internal.h"

static _Atomic size_t meta_bytes;
static _Atomic int release_policy = MADV_DONTNEED; /* set by options.c (madvdontneed) */

void _ga_os_set_madv_dontneed(bool dontneed)
{
    atomic_store(&release_policy, dontneed ? MADV_DONTNEED : MADV_FREE);
}

bool _ga_os_released_pages_are_zero(void)
{
    return atomic_load_explicit(&release_policy, memory_order_relaxed) == MADV_DONTNEED;
}

void *_ga_os_reserve(size_t size, size_t align, void *hint)
{
    if (hint) {
        void *p = mmap(hint, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return NULL;
        if (((uintptr_t)p & (align - 1)) == 0) return p;
        munmap(p, size);
    }
    /* Over-reserve by `align` and trim both ends to get an aligned range. */
    size_t span = size + align;
    char *raw = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t base = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = base - (uintptr_t)raw, tail = span - head - size;
    if (head) munmap(raw, head);
    if (tail) munmap((char *)base + size, tail);
    return (void *)base;
}

int _ga_os_commit(void *p, size_t size)
{
    return mprotect(p, size, PROT_READ | PROT_WRITE) == 0 ? 0 : -1;
}

void _ga_os_unused(void *p, size_t size)
{
    ga_assert_internal(((uintptr_t)p & (GA_OS_PAGE_SIZE - 1)) == 0);
    int advice = atomic_load_explicit(&release_policy, memory_order_relaxed);
    if (madvise(p, size, advice) != 0 && advice == MADV_FREE) {
        /* Kernels without MADV_FREE: fall back to DONTNEED, as Go does. */
        atomic_store(&release_policy, MADV_DONTNEED);
        madvise(p, size, MADV_DONTNEED);
    }
}

void _ga_os_fault(void *p, size_t size)
{
    mprotect(p, size, PROT_NONE);
    madvise(p, size, MADV_DONTNEED);
}

void _ga_os_release(void *p, size_t size)
{
    munmap(p, size);
}

void *_ga_os_alloc_meta(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    atomic_fetch_add_explicit(&meta_bytes, size, memory_order_relaxed);
    return p;
}

void _ga_os_free_meta(void *p, size_t size)
{
    if (!p) return;
    munmap(p, size);
    atomic_fetch_sub_explicit(&meta_bytes, size, memory_order_relaxed);
}

size_t _ga_os_meta_bytes(void)
{
    return atomic_load_explicit(&meta_bytes, memory_order_relaxed);
}
