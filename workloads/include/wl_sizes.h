/* wl_sizes.h - request-size distributions shared by the workloads (workloads/sizes.c).
 *
 * A workload exposes them as an ENUM parameter `dist` with WL_DIST_CHOICES and SIZE
 * parameters `min`/`max`. Every draw lies in [min, max]:
 *   uniform  every size in min..max equally likely
 *   golike   Go-like: mostly small with a long tail; size = min * (max/min)^(u^3) for u
 *            uniform in [0,1), so the median is min * (max/min)^(1/8) (about 2.8 x min for
 *            8..32768) and one request in six exceeds 1 KiB there
 *   invsq    inverse-square density 1/s^2 over min..max (min=4 max=32768 is BENCH_METHOD.md's
 *            inverse-square 4..32768: median about 2 x min)
 *   fixed    always min (max is ignored)
 * Draws cost one RNG step and no libm call (golike interpolates a precomputed quantile table).
 */
#ifndef WL_SIZES_H
#define WL_SIZES_H

#include <stddef.h>
#include <stdint.h>

#include "wl_workload.h" /* wl_rand, wl_rand_below */

#define WL_DIST_CHOICES "uniform|golike|invsq|fixed"
#define WL_DIST_QUANTILES 256

typedef enum wl_dist_kind {
    WL_DIST_UNIFORM,
    WL_DIST_GOLIKE,
    WL_DIST_INVSQ,
    WL_DIST_FIXED
} wl_dist_kind;

/* Invariant: 1 <= min <= max (max == min for fixed); q[] holds golike's quantiles, q[0] == min,
 * q[WL_DIST_QUANTILES] == max, non-decreasing. */
typedef struct wl_sizedist {
    wl_dist_kind kind;
    uint64_t min, max;
    double inv_min, inv_span; /* invsq: 1/min and 1/min - 1/max */
    uint32_t q[WL_DIST_QUANTILES + 1];
} wl_sizedist;

/* kind is the index of the `dist` choice. Rejects min < 1, min > max, max > 4 GiB with a
 * message naming the parameter (min_name / max_name, e.g. "min"). 0 or -1. */
int wl_sizedist_init(wl_sizedist *d, int64_t kind, int64_t min, int64_t max, const char *min_name,
                     const char *max_name, char *err, size_t errlen);

/* One size drawn with rng: uniform inline (the churn hot path), the others out of line. */
size_t wl_size_draw_slow(const wl_sizedist *d, uint64_t rng[4]);

static inline size_t wl_size_draw(const wl_sizedist *d, uint64_t rng[4])
{
    if (__builtin_expect(d->kind == WL_DIST_UNIFORM, 1))
        return (size_t)(d->min + wl_rand_below(rng, d->max - d->min + 1));
    return wl_size_draw_slow(d, rng);
}

#endif /* WL_SIZES_H */
