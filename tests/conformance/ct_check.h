/* ct_check.h - the conformance suite's checkers: per-block byte patterns and the live-interval
 * overlap check (x86-64 and other little-endian targets). Header-only (static inline) so the suite
 * and the broken-backend detector use the very same code. Invariant: the checkers only read the
 * blocks; they never allocate.
 */
#ifndef CT_CHECK_H
#define CT_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The pattern, 8 bytes at a time: word k of a block filled with `seed` (a 64-bit mix of both,
 * so two blocks with different seeds differ almost everywhere and a shifted copy does not
 * match). Byte i is byte i % 8 (little-end first) of word i / 8. */
static inline uint64_t ct_pattern_word(uint32_t seed, size_t k)
{
    uint64_t x = ((uint64_t)seed << 32 | (uint32_t)k) ^ (uint64_t)k >> 32;
    x ^= x >> 31;
    x *= 0x7FB5D329728EA185ull;
    x ^= x >> 27;
    x *= 0x81DADEF4BC2DD44Dull;
    return x ^ x >> 33;
}

static inline uint8_t ct_pattern_byte(uint32_t seed, size_t i)
{
    return (uint8_t)(ct_pattern_word(seed, i / 8) >> (8 * (i % 8)));
}

/* Fills bytes [from, to) of p with the pattern of `seed`. */
static inline void ct_fill(void *p, size_t from, size_t to, uint32_t seed)
{
    uint8_t *b = p;
    size_t i = from;
    for (; i < to && i % 8; i++)
        b[i] = ct_pattern_byte(seed, i);
    for (; i + 8 <= to; i += 8) {
        uint64_t w = ct_pattern_word(seed, i / 8);
        memcpy(b + i, &w, 8); /* little-endian: byte j of w is byte i + j */
    }
    for (; i < to; i++)
        b[i] = ct_pattern_byte(seed, i);
}

/* Returns the first offset in [0, n) whose byte is wrong, or SIZE_MAX when all are right. */
static inline size_t ct_verify(const void *p, size_t n, uint32_t seed)
{
    const uint8_t *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, want = ct_pattern_word(seed, i / 8);
        memcpy(&w, b + i, 8);
        if (w != want) break; /* the byte loop below finds the exact offset */
    }
    for (; i < n; i++)
        if (b[i] != ct_pattern_byte(seed, i)) return i;
    return SIZE_MAX;
}

/* Returns 1 when the n bytes at p are all zero. */
static inline int ct_is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        if (w) return 0;
    }
    for (; i < n; i++)
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
