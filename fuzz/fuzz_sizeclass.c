/* fuzz_sizeclass.c - goalloc's size-class lookup and slot-index reciprocal against plain
 * arithmetic (sizeclass.c and the generated tables, ga_internal.h).
 *
 * Each 4-byte record of the input checks one request size and one (class, offset) pair:
 *  - _ga_size_to_class(n), 1 <= n <= 32768, is the smallest class whose size is >= n;
 *  - _ga_slot_index(divmagic[c], off) == off / size[c] for 0 <= off <= span bytes of c;
 *  - the class's row is sane: size a multiple of 8 above the previous class's, nobjs objects
 *    of that size fit the span, _ga_class_tail_waste() is what is left of the span.
 * The tables are small enough for tests/goalloc_sizeclass to check exhaustively; this target
 * keeps the lookups honest under ASan/UBSan and any future table change.
 */
#include <stdint.h>

#include "fz.h"
#include "ga_internal.h"

static void check_size(size_t n)
{
    unsigned c = _ga_size_to_class(n);
    FZ_CHECK(c > 0 && c < GA_NUM_SIZE_CLASSES, "size_to_class(%zu) = %u, not a small class", n, c);
    FZ_CHECK(_ga_class_to_size[c] >= n, "size_to_class(%zu) = %u of size %u < request", n, c,
             _ga_class_to_size[c]);
    FZ_CHECK(c == 1 || _ga_class_to_size[c - 1] < n,
             "size_to_class(%zu) = %u but class %u (size %u) already fits", n, c, c - 1,
             _ga_class_to_size[c - 1]);
}

static void check_class(unsigned c, uint32_t off_seed)
{
    size_t size = _ga_class_to_size[c];
    size_t span = (size_t)_ga_class_to_npages[c] * GA_PAGE_SIZE;
    FZ_CHECK(size > _ga_class_to_size[c - 1] && size % 8 == 0,
             "class %u: size %zu not a multiple of 8 above class %u's %u", c, size, c - 1,
             _ga_class_to_size[c - 1]);
    FZ_CHECK(span > 0 && (size_t)_ga_class_to_nobjs[c] * size <= span && _ga_class_to_nobjs[c] > 0,
             "class %u: %u objects of %zu B do not fit a %zu B span", c, _ga_class_to_nobjs[c],
             size, span);
    FZ_CHECK(_ga_class_span_bytes(c) == span, "class %u: _ga_class_span_bytes %zu != %zu", c,
             _ga_class_span_bytes(c), span);
    FZ_CHECK(_ga_class_tail_waste(c) == span - (size_t)_ga_class_to_nobjs[c] * size,
             "class %u: tail waste %zu wrong", c, _ga_class_tail_waste(c));
    uintptr_t off = off_seed % (span + 1);
    uint32_t got = _ga_slot_index(_ga_class_to_divmagic[c], off);
    FZ_CHECK(got == off / size, "class %u (size %zu): slot_index(off %lu) = %u, expected %lu", c,
             size, (unsigned long)off, got, (unsigned long)(off / size));
    /* The first and last byte of the slot holding `off` map to the same index. */
    uintptr_t first = (uintptr_t)got * size;
    FZ_CHECK(_ga_slot_index(_ga_class_to_divmagic[c], first) == got &&
                 (first + size - 1 > span ||
                  _ga_slot_index(_ga_class_to_divmagic[c], first + size - 1) == got),
             "class %u: slot %u does not map its own first/last byte", c, got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = fz_input_make(data, size);
    FZ_CHECK(_ga_class_to_size[GA_NUM_SIZE_CLASSES - 1] == GA_MAX_SMALL_SIZE,
             "largest class is %u, not %u", _ga_class_to_size[GA_NUM_SIZE_CLASSES - 1],
             (unsigned)GA_MAX_SMALL_SIZE);
    while (fz_more(&in)) {
        uint8_t k = fz_u8(&in);
        size_t n = k & 0x80 ? (size_t)fz_u16(&in) % GA_MAX_SMALL_SIZE + 1 : (size_t)fz_u8(&in) + 1;
        check_size(n);
        check_class(1 + k % (GA_NUM_SIZE_CLASSES - 1), fz_u32(&in));
    }
    check_size(GA_MAX_SMALL_SIZE);
    return 0;
}
