/* sizes.c - request-size distributions (see wl_sizes.h for their shapes).
 *
 * Invariant: wl_size_draw() returns a value in [d->min, d->max] for every RNG output.
 */
#include "wl_sizes.h"

#include <math.h>
#include <stdio.h>

#include "wl_workload.h"

int wl_sizedist_init(wl_sizedist *d, int64_t kind, int64_t min, int64_t max, const char *min_name,
                     const char *max_name, char *err, size_t errlen)
{
    if (kind < WL_DIST_UNIFORM || kind > WL_DIST_FIXED) {
        snprintf(err, errlen, "parameter 'dist': unknown distribution index %lld", (long long)kind);
        return -1;
    }
    if (min < 1) {
        snprintf(err, errlen, "parameter '%s': must be at least 1 (got %lld)", min_name,
                 (long long)min);
        return -1;
    }
    if (kind == WL_DIST_FIXED) max = min;
    if (max > ((int64_t)1 << 32)) {
        snprintf(err, errlen, "parameter '%s': at most 4GiB (got %lld)", max_name, (long long)max);
        return -1;
    }
    if (min > max) {
        snprintf(err, errlen, "parameter '%s': %lld is below %s=%lld", max_name, (long long)max,
                 min_name, (long long)min);
        return -1;
    }
    d->kind = (wl_dist_kind)kind;
    d->min = (uint64_t)min;
    d->max = (uint64_t)max;
    d->inv_min = 1.0 / (double)min;
    d->inv_span = d->inv_min - 1.0 / (double)max;
    double ratio = (double)max / (double)min;
    for (int i = 0; i <= WL_DIST_QUANTILES; i++) {
        double u = (double)i / WL_DIST_QUANTILES;
        double s = floor((double)min * pow(ratio, u * u * u));
        if (s < (double)min) s = (double)min;
        if (s > (double)max || i == WL_DIST_QUANTILES) s = (double)max;
        d->q[i] = (uint32_t)s;
    }
    return 0;
}

size_t wl_size_draw_slow(const wl_sizedist *d, uint64_t rng[4])
{
    switch (d->kind) {
    case WL_DIST_UNIFORM:
        return (size_t)(d->min + wl_rand_below(rng, d->max - d->min + 1));
    case WL_DIST_GOLIKE: {
        uint64_t r = wl_rand(rng);
        unsigned i = (unsigned)(r >> 56); /* WL_DIST_QUANTILES == 256 buckets */
        uint64_t lo = d->q[i], hi = d->q[i + 1];
        return (size_t)(lo + (((hi - lo + 1) * (r & 0xffffffffu)) >> 32));
    }
    case WL_DIST_INVSQ: {
        double s = 1.0 / (d->inv_min - wl_rand_unit(rng) * d->inv_span);
        uint64_t v = (uint64_t)s;
        return (size_t)(v < d->min ? d->min : v > d->max ? d->max : v);
    }
    case WL_DIST_FIXED:
    default:
        return (size_t)d->min;
    }
}
