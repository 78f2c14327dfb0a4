/* wl_bump.h - the bump-region fallback for backends without arenas.
 *
 * One piece of code for every backend: blocks from the backend's malloc (through wl_malloc,
 * so live bytes and latency sampling stay honest), bump allocation inside them, and free-all
 * that returns every block. Results label it "bump-fallback" so it is never mistaken for a
 * backend's own arenas. Blocks start at 8 KiB and double up to 1 MiB; a request over a
 * quarter of the current block size gets a block of its own.
 */
#ifndef WL_BUMP_H
#define WL_BUMP_H

#include <stddef.h>

#include "wl_workload.h"

typedef struct wl_bump_block wl_bump_block;

typedef struct wl_bump {
    wl_thread *t;
    wl_bump_block *blocks; /* every block taken, newest first */
    char *cur, *end;       /* free space of the newest block */
    size_t next_size;      /* size of the next block */
} wl_bump;

void wl_bump_init(wl_bump *b, wl_thread *t);
/* Zeroed memory aligned to `align` (a power of two <= 4096); NULL on allocation failure. */
void *wl_bump_alloc(wl_bump *b, size_t size, size_t align);
/* Frees every block; the region is empty and reusable afterwards. */
void wl_bump_free_all(wl_bump *b);

#endif /* WL_BUMP_H */
