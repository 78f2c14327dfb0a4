/* knobs.c - parsing Go's knob syntax: GOGC and GOMEMLIMIT. See malloc.c for the overview.
 *
 * Kept apart from options.c, which owns the options table, so that the abench CLI (which
 * links no allocator) can reject a malformed GOGC or GOMEMLIMIT with exactly goalloc's
 * rules, and the fuzzers can drive the parsers alone. Pure functions: no allocation, no
 * global state.
 */
#include <stdint.h>
#include <string.h>

#include "ga_internal.h"

/* Decimal digits only (no sign, no spaces), at most `max`. 0 or -1. */
int _ga_parse_uint(const char *s, size_t len, int64_t max, int64_t *out)
{
    if (len == 0) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        int d = s[i] - '0';
        if (d > max || v > (max - d) / 10) return -1; /* v * 10 + d > max */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* GOGC: "off", or a decimal percent up to INT32_MAX. As in Go, a negative percent means off
 * (stored as -1). Empty, spaces, '+', junk and overflow are malformed. */
int _ga_parse_gogc(const char *s, int64_t *out)
{
    if (!s) return -1;
    if (strcmp(s, "off") == 0) {
        *out = -1;
        return 0;
    }
    int neg = s[0] == '-';
    int64_t v;
    if (_ga_parse_uint(s + neg, strlen(s + neg), INT32_MAX, &v) != 0) return -1;
    *out = neg && v > 0 ? -1 : v;
    return 0;
}

/* GOMEMLIMIT, Go's syntax: "off" (no limit: INT64_MAX), or a non-negative decimal number of
 * bytes with an optional unit suffix B, KiB, MiB, GiB or TiB (case-sensitive). The result must
 * fit in int64. Empty, signs, spaces, other units (KB, k, ...) and overflow are malformed. */
int _ga_parse_memlimit(const char *s, int64_t *out)
{
    static const struct {
        char letter;
        int shift;
    } units[] = {{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};
    if (!s) return -1;
    if (strcmp(s, "off") == 0) {
        *out = INT64_MAX;
        return 0;
    }
    size_t len = strlen(s);
    int shift = 0;
    if (len > 0 && s[len - 1] == 'B') {
        len--;
        if (len >= 2 && s[len - 1] == 'i') {
            shift = -1;
            for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
                if (s[len - 2] == units[u].letter) shift = units[u].shift;
            if (shift < 0) return -1;
            len -= 2;
        }
    }
    int64_t v;
    if (_ga_parse_uint(s, len, INT64_MAX >> shift, &v) != 0) return -1;
    *out = v << shift;
    return 0;
}
