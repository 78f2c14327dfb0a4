/* fuzz_arena.c - goalloc's user arenas (goalloc_arena.h) against a model.
 *
 * The input decodes into operations on up to four arenas: new, allocate (size from a few
 * bytes to past the 2 MiB heap cut-off, alignment a power of two up to 4096 or an invalid
 * one, scan or pointer-free), clone a value out, free an arena. The model keeps every live
 * allocation with its size and fill byte. Checks after every step: alignment; zeroed memory;
 * no overlap with any live allocation of any arena; inside an arena chunk exactly when the
 * request was at most 2 MiB; invalid alignments give NULL + EINVAL; contents intact until
 * their arena is freed (checked just before); a clone is a heap copy equal to the value;
 * the chunk accounting identity chunk_allocs - chunk_frees == chunks_inuse. Bytes per input
 * are capped so libFuzzer's memory limit is never the finding. Use after free is not
 * exercised here (it faults by design: tests/goalloc_arena checks that in a child).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fz.h"
#include "goalloc.h"
#include "goalloc_arena.h"

#define MAX_ARENAS 4
#define MAX_ALLOCS 256
#define BYTE_CAP ((size_t)48 << 20)
#define INLINE_MAX ((size_t)2 << 20)

typedef struct {
    unsigned char *p;
    size_t size;
    int arena;
    uint8_t fill;
} fz_block;

static fz_block blocks[MAX_ALLOCS];
static size_t nblocks;
static ga_arena *arenas[MAX_ARENAS];

static void check_contents(const fz_block *b)
{
    for (size_t i = 0; i < b->size; i += 1 + b->size / 64)
        FZ_CHECK(b->p[i] == b->fill, "arena block %p+%zu: 0x%02x, expected 0x%02x", (void *)b->p, i,
                 b->p[i], b->fill);
    FZ_CHECK(b->p[b->size - 1] == b->fill, "arena block %p: last byte changed", (void *)b->p);
}

static void free_arena(int a)
{
    for (size_t i = 0; i < nblocks;) {
        if (blocks[i].arena == a) {
            check_contents(&blocks[i]);
            blocks[i] = blocks[--nblocks];
        } else {
            i++;
        }
    }
    ga_arena_free(arenas[a]);
    arenas[a] = NULL;
}

static void do_alloc(fz_input *in, size_t *bytes)
{
    int a = (int)fz_below(in, MAX_ARENAS);
    if (!arenas[a]) FZ_CHECK((arenas[a] = ga_arena_new()) != NULL, "ga_arena_new failed");
    uint8_t k = fz_u8(in);
    size_t size = k < 200   ? 1 + fz_below(in, 256)
                  : k < 250 ? 1 + fz_below(in, 1 << 20)
                            : INLINE_MAX - 64 + fz_below(in, 128);
    uint8_t ab = fz_u8(in);
    size_t align = ab < 240 ? (size_t)1 << (ab % 13) : (size_t)(ab % 2 ? 24 : 8192);
    int scan = fz_u8(in) & 1;
    if (nblocks == MAX_ALLOCS || *bytes + size > BYTE_CAP) return;
    errno = 0;
    unsigned char *p = ga_arena_alloc(arenas[a], size, align, scan);
    if (align & (align - 1) || align > 4096) {
        FZ_CHECK(!p && errno == EINVAL, "alignment %zu: %p, errno %d (want NULL + EINVAL)", align,
                 (void *)p, errno);
        return;
    }
    FZ_CHECK(p != NULL, "ga_arena_alloc(%zu, %zu) failed", size, align);
    FZ_CHECK((uintptr_t)p % align == 0, "%p not aligned to %zu", (void *)p, align);
    FZ_CHECK(ga_in_arena(p) == (size <= INLINE_MAX), "%zu bytes at %p: in_arena %d", size,
             (void *)p, ga_in_arena(p));
    for (size_t i = 0; i < size; i += 1 + size / 64)
        FZ_CHECK(p[i] == 0, "%p+%zu not zeroed", (void *)p, i);
    for (size_t i = 0; i < nblocks; i++)
        FZ_CHECK(p + size <= blocks[i].p || blocks[i].p + blocks[i].size <= p,
                 "[%p, +%zu) overlaps live [%p, +%zu)", (void *)p, size, (void *)blocks[i].p,
                 blocks[i].size);
    uint8_t fill = (uint8_t)(1 + fz_u8(in) % 255);
    memset(p, fill, size);
    blocks[nblocks++] = (fz_block){p, size, a, fill};
    *bytes += size;
}

static void do_clone(fz_input *in)
{
    if (!nblocks) return;
    fz_block *b = &blocks[fz_below(in, nblocks)];
    size_t n = b->size < 4096 ? b->size : 4096;
    unsigned char *c = ga_arena_clone(b->p, n);
    if (!ga_in_arena(b->p)) {
        FZ_CHECK(c == b->p, "clone of a heap value must be the value itself");
        return;
    }
    FZ_CHECK(c && c != b->p && !ga_in_arena(c), "clone of %p not a heap copy", (void *)b->p);
    FZ_CHECK(memcmp(c, b->p, n) == 0, "clone of %p differs", (void *)b->p);
    ga_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = fz_input_make(data, size);
    size_t bytes = 0;
    nblocks = 0;
    for (int steps = 0; fz_more(&in) && steps < 2000; steps++) {
        uint8_t op = fz_u8(&in) % 10;
        if (op < 7)
            do_alloc(&in, &bytes);
        else if (op < 8)
            do_clone(&in);
        else {
            int a = (int)fz_below(&in, MAX_ARENAS);
            if (arenas[a]) free_arena(a);
        }
    }
    for (int a = 0; a < MAX_ARENAS; a++)
        if (arenas[a]) free_arena(a);
    FZ_CHECK(nblocks == 0, "%zu blocks left after freeing every arena", nblocks);
    ga_arena_stats st;
    ga_arena_read_stats(&st);
    FZ_CHECK(st.chunk_allocs - st.chunk_frees == st.chunks_inuse && st.chunks_inuse == 0,
             "chunk accounting: %llu allocs, %llu frees, %llu in use",
             (unsigned long long)st.chunk_allocs, (unsigned long long)st.chunk_frees,
             (unsigned long long)st.chunks_inuse);
    return 0;
}
