/* test_stats.c - unit tests of harness/stats.c against values computed by hand (the
 * computations are in the comments beside each expectation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "hn_stats.h"

#define N(a) (sizeof(a) / sizeof *(a))

static void test_median(void **state)
{
    (void)state;
    double odd[] = {5, 1, 3};
    double even[] = {4, 1, 3, 2};
    double one[] = {7};
    assert_float_equal(hn_median(odd, 3), 3, 0);
    assert_float_equal(hn_median(even, 4), 2.5, 0); /* (2 + 3) / 2 */
    assert_float_equal(hn_median(one, 1), 7, 0);
    assert_true(isnan(hn_median(one, 0)));
    assert_float_equal(odd[0], 5, 0); /* input untouched */
}

/* Coverage of [x_(k), x_(n+1-k)] is 1 - 2 P(B <= k-1), B ~ Binomial(n, 1/2).
 *  n = 5: k = 1 gives 1 - 2/32 = 0.9375 < 0.95          -> no interval.
 *  n = 6: k = 1 gives 1 - 2/64 = 0.96875 >= 0.95        -> [x_(1), x_(6)];
 *         k = 2 gives 1 - 2*7/64 = 0.78125              -> too low.
 *  n = 10: P(B<=1) = 11/1024, coverage 1 - 22/1024 = 0.978515625 (k = 2);
 *          P(B<=2) = 56/1024, coverage 0.890625 < 0.95   -> [x_(2), x_(9)].
 *  n = 20: P(B<=5) = (1+20+190+1140+4845+15504)/2^20 = 21700/1048576,
 *          coverage 1 - 43400/1048576 = 0.958610535 (k = 6); P(B<=6) adds 38760 -> 0.885
 *          -> [x_(6), x_(15)]. */
static void test_median_ci(void **state)
{
    (void)state;
    double lo, hi, cov;
    double x5[] = {5, 1, 4, 2, 3};
    assert_int_equal(hn_median_ci(x5, 5, 0.95, &lo, &hi, &cov), -1);
    assert_true(isnan(lo) && isnan(hi));
    double x6[] = {6, 2, 5, 1, 4, 3};
    assert_int_equal(hn_median_ci(x6, 6, 0.95, &lo, &hi, &cov), 0);
    assert_float_equal(lo, 1, 0);
    assert_float_equal(hi, 6, 0);
    assert_float_equal(cov, 0.96875, 1e-12);
    double x10[10];
    for (int i = 0; i < 10; i++)
        x10[i] = 100 - 10 * i; /* 100, 90, ..., 10 */
    assert_int_equal(hn_median_ci(x10, 10, 0.95, &lo, &hi, &cov), 0);
    assert_float_equal(lo, 20, 0); /* x_(2) */
    assert_float_equal(hi, 90, 0); /* x_(9) */
    assert_float_equal(cov, 1 - 22.0 / 1024, 1e-12);
    double x20[20];
    for (int i = 0; i < 20; i++)
        x20[i] = i + 1;
    assert_int_equal(hn_median_ci(x20, 20, 0.95, &lo, &hi, &cov), 0);
    assert_float_equal(lo, 6, 0);
    assert_float_equal(hi, 15, 0);
    assert_float_equal(cov, 1 - 43400.0 / 1048576, 1e-12);
    assert_int_equal(hn_median_ci_min_n(0.95), 6);
    assert_int_equal(hn_median_ci_min_n(0.99), 8); /* n=7: 1-2/128=0.984; n=8: 1-2/256=0.992 */
}

/* Exact distribution, no ties. For sizes (m, n) every one of the C(m+n, m) arrangements is
 * equally likely; U counts pairs (a, b) with a > b.
 *  {1,2,3} vs {4,5,6}: U = 0, only 1 of C(6,3) = 20 arrangements has U = 0, and by symmetry
 *     1 has U = 9: p = 2 * 1/20 = 0.1.
 *  {1,3,5} vs {2,4,6}: U = #(a>b) = 0 + 1 + 2 = 3. Counts of U = 0..9 for m = n = 3 are
 *     1,1,2,3,3,3,3,2,1,1 (partitions in a 3x3 box); P(U <= 3) = 7/20, p = 2 * 7/20 = 0.7.
 *  {1..4} vs {5..8}: U = 0, p = 2 / C(8,4) = 2/70 = 0.0285714...
 *  {1..5} vs {6..10}: U = 0, p = 2 / C(10,5) = 2/252 = 0.0079365...
 *  {6..10} vs {1..5}: U = 25 (the mirror): same p.
 *  {10, 20} vs {15}: U = 1 (10 < 15 < 20); counts for (2,1): U = 0,1,2 once each; P(U<=1) =
 *     2/3, P(U>=1) = 2/3, p = min(1, 4/3) = 1. */
static void test_utest_exact(void **state)
{
    (void)state;
    hn_utest_result r;
    double a1[] = {1, 2, 3}, b1[] = {4, 5, 6};
    assert_int_equal(hn_utest(a1, 3, b1, 3, &r), 0);
    assert_true(r.exact);
    assert_float_equal(r.u, 0, 0);
    assert_float_equal(r.p, 0.1, 1e-12);
    double a2[] = {1, 3, 5}, b2[] = {2, 4, 6};
    hn_utest(a2, 3, b2, 3, &r);
    assert_float_equal(r.u, 3, 0);
    assert_float_equal(r.p, 0.7, 1e-12);
    double a3[] = {1, 2, 3, 4}, b3[] = {5, 6, 7, 8};
    hn_utest(a3, 4, b3, 4, &r);
    assert_float_equal(r.p, 2.0 / 70, 1e-12);
    double a4[] = {1, 2, 3, 4, 5}, b4[] = {6, 7, 8, 9, 10};
    hn_utest(a4, 5, b4, 5, &r);
    assert_float_equal(r.p, 2.0 / 252, 1e-12);
    hn_utest(b4, 5, a4, 5, &r);
    assert_float_equal(r.u, 25, 0);
    assert_float_equal(r.p, 2.0 / 252, 1e-12);
    double a5[] = {10, 20}, b5[] = {15};
    hn_utest(a5, 2, b5, 1, &r);
    assert_float_equal(r.u, 1, 0);
    assert_float_equal(r.p, 1, 0);
    assert_int_equal(hn_utest(a5, 0, b5, 1, &r), -1);
}

/* Normal approximation with ties: {1,1,2,2,3} vs {2,3,3,4,4}.
 * Pooled sorted: 1 1 | 2 2 2 | 3 3 3 | 4 4; average ranks 1.5, 4, 7, 9.5.
 * R_a = 1.5+1.5+4+4+7 = 18, U = 18 - 5*6/2 = 3. mu = 25/2 = 12.5.
 * Tie term sum(t^3 - t) = 6 + 24 + 24 + 6 = 60; N = 10.
 * var = (25/12) * ((N+1) - 60/(N(N-1))) = (25/12) * (11 - 60/90) = 21.527777...
 * z = (|3 - 12.5| - 0.5) / sqrt(21.5277...) = 9 / 4.639803 = 1.939737
 * p = erfc(z / sqrt 2) = 0.052412 (two-sided). */
static void test_utest_ties(void **state)
{
    (void)state;
    hn_utest_result r;
    double a[] = {1, 1, 2, 2, 3}, b[] = {2, 3, 3, 4, 4};
    assert_int_equal(hn_utest(a, 5, b, 5, &r), 0);
    assert_false(r.exact);
    assert_float_equal(r.u, 3, 0);
    assert_float_equal(r.p, erfc(9 / sqrt(25.0 / 12 * (11 - 60.0 / 90)) / sqrt(2.0)), 1e-12);
    assert_float_equal(r.p, 0.052412, 5e-6);
    /* every value equal: no evidence at all, p = 1 */
    double c[] = {7, 7, 7, 7}, d[] = {7, 7, 7, 7};
    hn_utest(c, 4, d, 4, &r);
    assert_float_equal(r.p, 1, 0);
}

/* Large samples without ties switch to the normal approximation above HN_UTEST_EXACT_MAX:
 * a = 0,2,...,70 and b = 1,3,...,71 (36 each): U = sum over a_i of #(b < a_i) = 0+1+...+35
 * = 630; mu = 648; var = 36*36*73/12 = 7884; z = (18 - 0.5)/88.792 = 0.19709;
 * p = erfc(0.19709 / sqrt 2) = 0.84376. */
static void test_utest_large(void **state)
{
    (void)state;
    double a[36], b[36];
    for (int i = 0; i < 36; i++) {
        a[i] = 2 * i;
        b[i] = 2 * i + 1;
    }
    hn_utest_result r;
    hn_utest(a, 36, b, 36, &r);
    assert_false(r.exact);
    assert_float_equal(r.u, 630, 0);
    assert_float_equal(r.p, erfc(17.5 / sqrt(7884.0) / sqrt(2.0)), 1e-12);
    /* 30 vs 30 interleaved is still exact and close to the approximation */
    hn_utest(a, 30, b, 30, &r);
    assert_true(r.exact);
    assert_true(r.p > 0.8 && r.p < 0.87);
}

static void test_geomean(void **state)
{
    (void)state;
    double x[] = {1, 4, 16}; /* (1*4*16)^(1/3) = 64^(1/3) = 4 */
    assert_float_equal(hn_geomean(x, 3), 4, 1e-12);
    double y[] = {2, 0};
    assert_true(isnan(hn_geomean(y, 2)));
    assert_true(isnan(hn_geomean(x, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median),      cmocka_unit_test(test_median_ci),
        cmocka_unit_test(test_utest_exact), cmocka_unit_test(test_utest_ties),
        cmocka_unit_test(test_utest_large), cmocka_unit_test(test_geomean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
