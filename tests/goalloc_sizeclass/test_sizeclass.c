/* test_sizeclass.c - goalloc's generated size-class tables against Go's table, by brute force.
 *
 * The expected rows below are typed in from GO_ALLOCATOR_SPEC.md table 1.2 (Go 1.25/1.26):
 * class, bytes/obj, bytes/span, pages, objects, tail waste, max waste. They are the reference;
 * the generator (gen/mksizeclasses.c) must reproduce them from Go's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ga_internal.h"

typedef struct spec_row {
    unsigned cls, size, span, pages, objects, tail;
    const char *max_waste; /* percent, two decimals */
} spec_row;

static const spec_row spec[] = {
    {1, 8, 8192, 1, 1024, 0, "87.50"},       {2, 16, 8192, 1, 512, 0, "43.75"},
    {3, 24, 8192, 1, 341, 8, "29.24"},       {4, 32, 8192, 1, 256, 0, "21.88"},
    {5, 48, 8192, 1, 170, 32, "31.52"},      {6, 64, 8192, 1, 128, 0, "23.44"},
    {7, 80, 8192, 1, 102, 32, "19.07"},      {8, 96, 8192, 1, 85, 32, "15.95"},
    {9, 112, 8192, 1, 73, 16, "13.56"},      {10, 128, 8192, 1, 64, 0, "11.72"},
    {11, 144, 8192, 1, 56, 128, "11.82"},    {12, 160, 8192, 1, 51, 32, "9.73"},
    {13, 176, 8192, 1, 46, 96, "9.59"},      {14, 192, 8192, 1, 42, 128, "9.25"},
    {15, 208, 8192, 1, 39, 80, "8.12"},      {16, 224, 8192, 1, 36, 128, "8.15"},
    {17, 240, 8192, 1, 34, 32, "6.62"},      {18, 256, 8192, 1, 32, 0, "5.86"},
    {19, 288, 8192, 1, 28, 128, "12.16"},    {20, 320, 8192, 1, 25, 192, "11.80"},
    {21, 352, 8192, 1, 23, 96, "9.88"},      {22, 384, 8192, 1, 21, 128, "9.51"},
    {23, 416, 8192, 1, 19, 288, "10.71"},    {24, 448, 8192, 1, 18, 128, "8.37"},
    {25, 480, 8192, 1, 17, 32, "6.82"},      {26, 512, 8192, 1, 16, 0, "6.05"},
    {27, 576, 8192, 1, 14, 128, "12.33"},    {28, 640, 8192, 1, 12, 512, "15.48"},
    {29, 704, 8192, 1, 11, 448, "13.93"},    {30, 768, 8192, 1, 10, 512, "13.94"},
    {31, 896, 8192, 1, 9, 128, "15.52"},     {32, 1024, 8192, 1, 8, 0, "12.40"},
    {33, 1152, 8192, 1, 7, 128, "12.41"},    {34, 1280, 8192, 1, 6, 512, "15.55"},
    {35, 1408, 16384, 2, 11, 896, "14.00"},  {36, 1536, 8192, 1, 5, 512, "14.00"},
    {37, 1792, 16384, 2, 9, 256, "15.57"},   {38, 2048, 8192, 1, 4, 0, "12.45"},
    {39, 2304, 16384, 2, 7, 256, "12.46"},   {40, 2688, 8192, 1, 3, 128, "15.59"},
    {41, 3072, 24576, 3, 8, 0, "12.47"},     {42, 3200, 16384, 2, 5, 384, "6.22"},
    {43, 3456, 24576, 3, 7, 384, "8.83"},    {44, 4096, 8192, 1, 2, 0, "15.60"},
    {45, 4864, 24576, 3, 5, 256, "16.65"},   {46, 5376, 16384, 2, 3, 256, "10.92"},
    {47, 6144, 24576, 3, 4, 0, "12.48"},     {48, 6528, 32768, 4, 5, 128, "6.23"},
    {49, 6784, 40960, 5, 6, 256, "4.36"},    {50, 6912, 49152, 6, 7, 768, "3.37"},
    {51, 8192, 8192, 1, 1, 0, "15.61"},      {52, 9472, 57344, 7, 6, 512, "14.28"},
    {53, 9728, 49152, 6, 5, 512, "3.64"},    {54, 10240, 40960, 5, 4, 0, "4.99"},
    {55, 10880, 32768, 4, 3, 128, "6.24"},   {56, 12288, 24576, 3, 2, 0, "11.45"},
    {57, 13568, 40960, 5, 3, 256, "9.99"},   {58, 14336, 57344, 7, 4, 0, "5.35"},
    {59, 16384, 16384, 2, 1, 0, "12.49"},    {60, 18432, 73728, 9, 4, 0, "11.11"},
    {61, 19072, 57344, 7, 3, 128, "3.57"},   {62, 20480, 40960, 5, 2, 0, "6.87"},
    {63, 21760, 65536, 8, 3, 256, "6.25"},   {64, 24576, 24576, 3, 1, 0, "11.45"},
    {65, 27264, 81920, 10, 3, 128, "10.00"}, {66, 28672, 57344, 7, 2, 0, "4.91"},
    {67, 32768, 32768, 4, 1, 0, "12.50"},
};
#define NSPEC (sizeof spec / sizeof spec[0])

static void table_matches_spec(void **state)
{
    (void)state;
    assert_int_equal(NSPEC, GA_NUM_SIZE_CLASSES - 1);
    assert_int_equal(_ga_class_to_size[0], 0);
    assert_int_equal(_ga_class_to_npages[0], 0);
    for (size_t i = 0; i < NSPEC; i++) {
        const spec_row *r = &spec[i];
        unsigned c = r->cls;
        char waste[16];
        snprintf(waste, sizeof waste, "%.2f", 100.0 * _ga_class_max_waste(c));
        if (_ga_class_to_size[c] != r->size || _ga_class_to_npages[c] != r->pages ||
            _ga_class_to_nobjs[c] != r->objects || _ga_class_span_bytes(c) != r->span ||
            _ga_class_tail_waste(c) != r->tail || strcmp(waste, r->max_waste) != 0)
            fail_msg("class %u: got size %u pages %u objects %u span %zu tail %zu waste %s; "
                     "spec says %u %u %u %u %u %s",
                     c, _ga_class_to_size[c], _ga_class_to_npages[c], _ga_class_to_nobjs[c],
                     _ga_class_span_bytes(c), _ga_class_tail_waste(c), waste, r->size, r->pages,
                     r->objects, r->span, r->tail, r->max_waste);
    }
}

static void lookup_is_smallest_fit(void **state)
{
    (void)state;
    for (size_t size = 1; size <= GA_MAX_SMALL_SIZE; size++) {
        unsigned c = _ga_size_to_class(size);
        if (c < 1 || c >= GA_NUM_SIZE_CLASSES || _ga_class_to_size[c] < size ||
            (c > 1 && _ga_class_to_size[c - 1] >= size))
            fail_msg("size %zu -> class %u (size %u): not the smallest class that fits", size, c,
                     c < GA_NUM_SIZE_CLASSES ? _ga_class_to_size[c] : 0);
    }
}

static void slot_index_by_reciprocal(void **state)
{
    (void)state;
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++) {
        size_t size = _ga_class_to_size[c], span = _ga_class_span_bytes(c);
        for (uintptr_t off = 0; off <= span; off++)
            if (_ga_slot_index(_ga_class_to_divmagic[c], off) != off / size)
                fail_msg("class %u: slot index of offset %zu is %u, not %zu", c, (size_t)off,
                         _ga_slot_index(_ga_class_to_divmagic[c], off), (size_t)(off / size));
    }
}

/* The tiny allocator's span class and the span-class encoding stated in ga_internal.h. */
static void tiny_span_class(void **state)
{
    (void)state;
    assert_int_equal(_ga_class_to_size[GA_TINY_SPAN_CLASS >> 1], GA_TINY_SIZE);
    assert_int_equal(GA_TINY_SPAN_CLASS & 1, 1);
    assert_int_equal(_ga_size_to_class(GA_TINY_SIZE), GA_TINY_SPAN_CLASS >> 1);
}

static void csv_tool_matches_spec(void **state)
{
    (void)state;
    FILE *p = popen("'" GA_SIZECLASSES_TOOL "'", "r");
    assert_non_null(p);
    char line[256], want[256];
    assert_non_null(fgets(line, sizeof line, p));
    assert_string_equal(line, "class,bytes_obj,bytes_span,pages,objects,tail_waste,max_waste\n");
    size_t rows = 0;
    while (fgets(line, sizeof line, p)) {
        if (rows >= NSPEC) fail_msg("extra CSV row: %s", line);
        const spec_row *r = &spec[rows++];
        snprintf(want, sizeof want, "%u,%u,%u,%u,%u,%u,%s\n", r->cls, r->size, r->span, r->pages,
                 r->objects, r->tail, r->max_waste);
        assert_string_equal(line, want);
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(rows, NSPEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_spec),       cmocka_unit_test(lookup_is_smallest_fit),
        cmocka_unit_test(slot_index_by_reciprocal), cmocka_unit_test(tiny_span_class),
        cmocka_unit_test(csv_tool_matches_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
