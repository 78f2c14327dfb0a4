/* ct_check.h - the conformance suite's checkers: per-block byte patterns and the live-interval
 * overlap check. Header-only (static inline) so the suite and the broken-backend detector use
 * the very same code. Invariant: the checkers only read the blocks; they never allocate.
 */
#ifndef CT_CHECK_H
#define CT_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The byte at offset i of a block filled with `seed`: depends on both, so two blocks with
 * different seeds differ almost everywhere and a shifted copy does not match. */
static inline uint8_t ct_pattern_byte(uint32_t seed, size_t i)
{
    uint32_t x = seed * 0x9E3779B1u + (uint32_t)i * 0x85EBCA77u + (uint32_t)(i >> 12);
    return (uint8_t)(x >> 24 ^ x >> 8);
}

static inline void ct_fill(void *p, size_t from, size_t to, uint32_t seed)
{
    uint8_t *b = p;
    for (size_t i = from; i < to; i++)
        b[i] = ct_pattern_byte(seed, i);
}

/* Returns the first offset in [0, n) whose byte is wrong, or SIZE_MAX when all are right. */
static inline size_t ct_verify(const void *p, size_t n, uint32_t seed)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != ct_pattern_byte(seed, i)) return i;
    return SIZE_MAX;
}

/* Returns 1 when the n bytes at p are all zero. */
static inline int ct_is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* One live block as the checker sees it: [lo, hi) with hi > lo (a 0-byte block counts as 1). */
typedef struct ct_interval {
    uintptr_t lo, hi;
} ct_interval;

static inline ct_interval ct_interval_of(const void *p, size_t size)
{
    ct_interval iv = {(uintptr_t)p, (uintptr_t)p + (size ? size : 1)};
    return iv;
}

static inline int ct_interval_cmp(const void *a, const void *b)
{
    const ct_interval *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts iv[0..n) and returns the number of overlapping neighbour pairs (0: no two live blocks
 * share a byte). *first gets the index of the first block of the first overlap (if any). */
static inline size_t ct_count_overlaps(ct_interval *iv, size_t n, size_t *first)
{
    size_t count = 0;
    qsort(iv, n, sizeof *iv, ct_interval_cmp);
    uintptr_t reach = 0; /* the highest end seen so far */
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && iv[i].lo < reach) {
            if (count == 0 && first) *first = i - 1;
            count++;
        }
        if (iv[i].hi > reach) reach = iv[i].hi;
    }
    return count;
}

#endif /* CT_CHECK_H */
