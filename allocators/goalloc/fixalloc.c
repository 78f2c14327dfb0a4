/* fixalloc.c - off-heap fixed-size allocator for goalloc's metadata (span structs, mcaches,
 * tiny tables). See malloc.c for the overview.
 *
 * Each instance hands out objects of one size from 16 KiB chunks of _ga_os_alloc_meta memory
 * and recycles freed objects through a LIFO free list; chunks are never returned. The caller
 * serialises every call on an instance. Invariants: inuse <= sys; every object handed out is
 * zeroed; an object on the free list is not in use, and in ASan builds is poisoned past its
 * link word, so a read of a freed span struct (a stale pointer kept across a free) is caught.
 */
#include <string.h>

#include "ga_internal.h"

#define GA_FIXALLOC_CHUNK ((size_t)16 << 10)

void _ga_fixalloc_init(ga_fixalloc *f, size_t size)
{
    memset(f, 0, sizeof *f);
    f->size = (size + 15) & ~(size_t)15;
}

void *_ga_fixalloc_alloc(ga_fixalloc *f)
{
    void *p = f->free;
    if (p) {
        f->free = *(void **)p;
        GA_UNPOISON(p, f->size);
        memset(p, 0, f->size);
    } else {
        if (f->left < f->size) {
            size_t chunk = f->size > GA_FIXALLOC_CHUNK ? f->size : GA_FIXALLOC_CHUNK;
            char *c = _ga_os_alloc_meta(chunk);
            if (!c) return NULL;
            f->sys += chunk;
            f->chunk = c;
            f->left = chunk;
        }
        p = f->chunk; /* fresh metadata pages are zero */
        f->chunk += f->size;
        f->left -= f->size;
    }
    f->inuse += f->size;
    return p;
}

void _ga_fixalloc_free(ga_fixalloc *f, void *p)
{
    ga_assert_internal(f->inuse >= f->size);
    f->inuse -= f->size;
    *(void **)p = f->free;
    f->free = p;
    GA_POISON((char *)p + sizeof(void *), f->size - sizeof(void *));
}
