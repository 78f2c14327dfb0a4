/* timer.c - fenced rdtsc ticks, calibrated against CLOCK_MONOTONIC.
 *
 * BENCH_METHOD.md: a fenced rdtsc costs about as much as the operation timed, so the minimum
 * cost of an empty timed region is measured once and subtracted from every sample. Ticks are
 * converted with ticks_per_ns measured over a few windows against CLOCK_MONOTONIC (median kept).
 * Without an x86 TSC the timer falls back to clock_gettime (ticks are ns, ticks_per_ns = 1).
 */
#include <time.h>

#include "hn_measure.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HN_HAVE_TSC 1
#else
#define HN_HAVE_TSC 0
#endif

uint64_t hn_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hn_ticks(void)
{
#if HN_HAVE_TSC
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return hn_now_ns();
#endif
}

uint64_t wl_ticks(void)
{
    return hn_ticks();
}

static void sort_doubles(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Ticks per ns over one ~5 ms busy window. */
static double ticks_per_ns_once(void)
{
    uint64_t n0 = hn_now_ns(), t0 = hn_ticks(), n1, t1;
    do {
        n1 = hn_now_ns();
    } while (n1 - n0 < 5000000);
    t1 = hn_ticks();
    return (double)(t1 - t0) / (double)(n1 - n0);
}

void hn_timer_calibrate(hn_timer_cal *cal)
{
    enum { WINDOWS = 5, EMPTY = 20000, CLOCKS = 2000 };
    double r[WINDOWS];
    for (int i = 0; i < WINDOWS; i++)
        r[i] = HN_HAVE_TSC ? ticks_per_ns_once() : 1.0;
    sort_doubles(r, WINDOWS);
    cal->ticks_per_ns = r[WINDOWS / 2];
    cal->source = HN_HAVE_TSC ? "rdtsc-lfence" : "clock_gettime";

    uint64_t best = UINT64_MAX;
    for (int i = 0; i < EMPTY; i++) {
        uint64_t a = hn_ticks(), b = hn_ticks();
        if (b - a < best) best = b - a;
    }
    cal->overhead_ticks = best;
    cal->overhead_ns = (double)best / cal->ticks_per_ns;

    /* Resolution: the greatest common divisor of many read-to-read steps (with a varying
     * amount of work between reads). A virtual TSC may advance in coarse steps (10 ns on some
     * hypervisors): every sample is then a multiple of it. */
    uint64_t step = 0, prev = hn_ticks();
    for (int i = 0; i < 2000; i++) {
        for (volatile int k = 0; k < i % 7; k++) {
        }
        uint64_t t = hn_ticks();
        step = gcd_u64(step, t - prev);
        prev = t;
    }
    cal->resolution_ticks = step ? step : 1;

    uint64_t c0 = hn_now_ns();
    for (int i = 0; i < CLOCKS; i++)
        (void)hn_now_ns();
    cal->clock_gettime_ns = (double)(hn_now_ns() - c0) / CLOCKS;
}

uint64_t hn_ticks_to_ns(const hn_timer_cal *cal, uint64_t dticks)
{
    if (dticks <= cal->overhead_ticks) return 0;
    return (uint64_t)((double)(dticks - cal->overhead_ticks) / cal->ticks_per_ns + 0.5);
}
