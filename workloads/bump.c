/* bump.c - the bump-region fallback for backends without arenas (see wl_bump.h).
 * Invariant: cur <= end, and [cur, end) lies inside one of the blocks and is still zero. */
#include <string.h>

#include "wl_bump.h"

#define WL_BUMP_FIRST 8192
#define WL_BUMP_MAX ((size_t)1 << 20)

struct wl_bump_block {
    wl_bump_block *next;
    size_t size; /* bytes requested from malloc, header included */
    _Alignas(16) char data[];
};

void wl_bump_init(wl_bump *b, wl_thread *t)
{
    memset(b, 0, sizeof *b);
    b->t = t;
    b->next_size = WL_BUMP_FIRST;
}

static wl_bump_block *new_block(wl_bump *b, size_t payload)
{
    size_t size = sizeof(wl_bump_block) + payload;
    wl_bump_block *blk = wl_malloc(b->t, size);
    if (!blk) return NULL;
    memset(blk->data, 0, payload); /* arena memory is zeroed, like a backend's arenas */
    blk->size = size;
    blk->next = b->blocks;
    b->blocks = blk;
    return blk;
}

void *wl_bump_alloc(wl_bump *b, size_t size, size_t align)
{
    if (size == 0) size = 1;
    uintptr_t p = ((uintptr_t)b->cur + align - 1) & ~(uintptr_t)(align - 1);
    if (b->cur && p <= (uintptr_t)b->end && (uintptr_t)b->end - p >= size) {
        b->cur = (char *)p + size;
        return (void *)p;
    }
    if (size + align > b->next_size / 4) {
        /* Oversize: a block of its own, leaving the current block in use. */
        wl_bump_block *blk = new_block(b, size + align);
        if (!blk) return NULL;
        return (void *)(((uintptr_t)blk->data + align - 1) & ~(uintptr_t)(align - 1));
    }
    wl_bump_block *blk = new_block(b, b->next_size - sizeof(wl_bump_block));
    if (!blk) return NULL;
    b->cur = blk->data;
    b->end = (char *)blk + b->next_size;
    if (b->next_size < WL_BUMP_MAX) b->next_size *= 2;
    return wl_bump_alloc(b, size, align);
}

void wl_bump_free_all(wl_bump *b)
{
    while (b->blocks) {
        wl_bump_block *blk = b->blocks;
        b->blocks = blk->next;
        wl_free(b->t, blk, blk->size);
    }
    b->cur = b->end = NULL;
    b->next_size = WL_BUMP_FIRST;
}
