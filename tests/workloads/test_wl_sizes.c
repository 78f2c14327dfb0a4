/* test_wl_sizes.c - the size distributions stay in range and have the shapes wl_sizes.h
 * describes (medians, tails), and bad ranges are rejected naming the parameter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wl_sizes.h"
#include "wl_workload.h"

#define N 200001

static size_t draws[N];

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Draws N sizes, checks the range, returns the median; *frac_above = share above `mark`. */
static size_t sample(wl_dist_kind kind, int64_t min, int64_t max, size_t mark, double *frac_above,
                     size_t *lo, size_t *hi)
{
    wl_sizedist d;
    char err[128];
    assert_int_equal(wl_sizedist_init(&d, kind, min, max, "min", "max", err, sizeof err), 0);
    uint64_t rng[4];
    wl_rng_seed(rng, 42, 0);
    size_t above = 0;
    for (size_t i = 0; i < N; i++) {
        draws[i] = wl_size_draw(&d, rng);
        assert_true(draws[i] >= (size_t)min);
        assert_true(draws[i] <= (size_t)(kind == WL_DIST_FIXED ? min : max));
        above += draws[i] > mark;
    }
    qsort(draws, N, sizeof draws[0], cmp_size);
    *frac_above = (double)above / N;
    *lo = draws[0];
    *hi = draws[N - 1];
    return draws[N / 2];
}

static void test_uniform(void **state)
{
    (void)state;
    double f;
    size_t lo, hi, med = sample(WL_DIST_UNIFORM, 8, 255, 131, &f, &lo, &hi);
    assert_true(med >= 125 && med <= 138);
    assert_true(f > 0.47 && f < 0.53);
    assert_int_equal(lo, 8); /* both ends are reached */
    assert_int_equal(hi, 255);
}

static void test_golike(void **state)
{
    (void)state;
    double f;
    size_t lo, hi, med = sample(WL_DIST_GOLIKE, 8, 32768, 1024, &f, &lo, &hi);
    /* median min*(max/min)^(1/8) = 22.6; one in six above 1 KiB */
    assert_true(med >= 20 && med <= 26);
    assert_true(f > 0.14 && f < 0.19);
    assert_true(lo <= 9);
    assert_true(hi > 30000);
}

static void test_invsq(void **state)
{
    (void)state;
    double f;
    size_t lo, hi, med = sample(WL_DIST_INVSQ, 4, 32768, 64, &f, &lo, &hi);
    /* density 1/s^2: P(s > x) = (1/x - 1/max)/(1/min - 1/max): median ~8, P(s > 64) ~ 6.2% */
    assert_true(med >= 7 && med <= 9);
    assert_true(f > 0.055 && f < 0.07);
    assert_int_equal(lo, 4);
    assert_true(hi > 4096);
}

static void test_fixed(void **state)
{
    (void)state;
    double f;
    size_t lo, hi, med = sample(WL_DIST_FIXED, 48, 1, 48, &f, &lo, &hi);
    assert_int_equal(med, 48);
    assert_int_equal(lo, 48);
    assert_int_equal(hi, 48);
}

static void test_bad_ranges(void **state)
{
    (void)state;
    wl_sizedist d;
    char err[128];
    assert_int_equal(wl_sizedist_init(&d, WL_DIST_UNIFORM, 64, 32, "min", "max", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "parameter 'max'"));
    assert_int_equal(wl_sizedist_init(&d, WL_DIST_INVSQ, 0, 32, "lo", "hi", err, sizeof err), -1);
    assert_non_null(strstr(err, "parameter 'lo'"));
    assert_int_equal(
        wl_sizedist_init(&d, WL_DIST_UNIFORM, 1, (5ll << 32), "min", "max", err, sizeof err), -1);
    assert_non_null(strstr(err, "parameter 'max'"));
    assert_int_equal(wl_sizedist_init(&d, 9, 1, 2, "min", "max", err, sizeof err), -1);
    assert_non_null(strstr(err, "'dist'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform),    cmocka_unit_test(test_golike),
        cmocka_unit_test(test_invsq),      cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_bad_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
