/* preload.c - the malloc family exported as the process allocator: libgoalloc-malloc.so
 * (LD_PRELOAD) and the goalloc runner (linked in whole). See malloc.c for the overview.
 *
 * Every function forwards to the ga_* entry point of the same meaning (malloc and free inline
 * its fast path); C and POSIX semantics
 * (NULL + errno, never abort) come from malloc.c. Invariants:
 *  - nothing here runs before the first allocation; goalloc initialises lazily inside
 *    ga_malloc & co, reads
 *    its options with getenv and never calls malloc itself, so there is no dlsym and no
 *    recursion through the dynamic loader at start-up;
 *  - fork: goalloc itself registers handlers at load time (mheap.c) that take every heap
 *    lock, so the child starts with a consistent heap; handlers the program registers later
 *    run their prepare step first, so they may still allocate.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "ga_internal.h"

/* cfree is gone from glibc's headers (2.26) but old binaries still call it. */
void cfree(void *p);

/* malloc and free are goalloc's inline fast paths themselves (ga_internal.h), not calls to
 * ga_malloc and ga_free: the same code, one jump less. */
void *malloc(size_t size)
{
    return _ga_malloc_fast(size);
}

void free(void *p)
{
    _ga_free_fast(p);
}

void cfree(void *p)
{
    ga_free(p);
}

void *calloc(size_t n, size_t size)
{
    return ga_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    return ga_realloc(p, size);
}

void *reallocarray(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return ga_realloc(p, bytes);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    return ga_aligned_alloc(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    return ga_posix_memalign(out, alignment, size);
}

void *memalign(size_t alignment, size_t size)
{
    return ga_memalign(alignment, size);
}

void *valloc(size_t size)
{
    return ga_valloc(size);
}

void *pvalloc(size_t size)
{
    return ga_pvalloc(size);
}

size_t malloc_usable_size(void *p)
{
    return p ? ga_usable_size(p) : 0;
}
