/* sizeclass.c - Go's 68 size classes: what the generated tables mean, and derived figures.
 * See malloc.c for the overview.
 *
 * The tables themselves (_ga_class_to_size/npages/nobjs/divmagic, _ga_size_to_class8/128)
 * are written at build time by gen/mksizeclasses.c, which applies Go's rules
 * (GO_ALLOCATOR_SPEC.md 1.3) and refuses to emit a table that breaks these invariants:
 *  - class 0 is the large-object pseudo-class (size 0); classes 1..67 have strictly
 *    increasing sizes, multiples of 8, the last one 32768;
 *  - nobjs[c] == npages[c] * 8192 / size[c] and the tail waste is at most 1/8 of the span;
 *  - (off * divmagic[c]) >> 32 == off / size[c] for every offset 0 <= off <= span bytes;
 *  - _ga_size_to_class(n) is the smallest class whose size is >= n, for 1 <= n <= 32768.
 * tests/goalloc_sizeclass checks the tables against the spec's table 1.2 and re-checks the
 * last two invariants by brute force.
 */
#include "ga_internal.h"

size_t _ga_class_span_bytes(unsigned c)
{
    ga_assert(c > 0 && c < GA_NUM_SIZE_CLASSES);
    return (size_t)_ga_class_to_npages[c] * GA_PAGE_SIZE;
}

size_t _ga_class_tail_waste(unsigned c)
{
    return _ga_class_span_bytes(c) - (size_t)_ga_class_to_nobjs[c] * _ga_class_to_size[c];
}

double _ga_class_max_waste(unsigned c)
{
    /* Worst case: every object holds one byte more than the previous class, plus the tail. */
    size_t prev = _ga_class_to_size[c - 1];
    size_t worst = (_ga_class_to_size[c] - prev - 1) * (size_t)_ga_class_to_nobjs[c];
    return (double)(worst + _ga_class_tail_waste(c)) / (double)_ga_class_span_bytes(c);
}
