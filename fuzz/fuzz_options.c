/* fuzz_options.c - goalloc's knob parsers (_ga_parse_gogc, _ga_parse_memlimit,
 * _ga_parse_debug in options.c) against reference parsers written here from the documented
 * syntax (ga_internal.h, options.c, DESIGN.md "Knobs"):
 *  - GOGC: "off" (-1), or an optional '-' then decimal digits of value <= INT32_MAX; a
 *    negative percent means off (-1), "-0" is 0;
 *  - GOMEMLIMIT: "off" (INT64_MAX), or decimal digits with an optional suffix B, KiB, MiB,
 *    GiB, TiB (case-sensitive), the result fitting int64;
 *  - GOALLOC_DEBUG: comma-separated key=value items, empty items ignored, keys gctrace
 *    (0..2), gcstoptheworld (0..1), scavtrace (0..1), madvdontneed (0..1), values decimal
 *    digits; any other item
 *    makes the whole string malformed; on success the items are applied in order and no other
 *    field changes.
 * Input: byte 0 picks the parser, the rest (up to a NUL) is the string. The parsers must
 * agree with the reference on accept/reject and on the value, and never crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "ga_internal.h"

/* ---- Reference parsers (independent of options.c) ---- */

/* Non-empty decimal digits with value <= max; no sign, no spaces. */
static bool ref_digits(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
            return false;
        if (v > max) return false;
    }
    *out = v;
    return true;
}

static bool ref_gogc(const char *s, int64_t *out)
{
    if (strcmp(s, "off") == 0) {
        *out = -1;
        return true;
    }
    bool neg = s[0] == '-';
    uint64_t v;
    if (!ref_digits(s + neg, strlen(s + neg), INT32_MAX, &v)) return false;
    *out = neg && v != 0 ? -1 : (int64_t)v;
    return true;
}

static bool ref_memlimit(const char *s, int64_t *out)
{
    static const char *const suffix[] = {"TiB", "GiB", "MiB", "KiB", "B"};
    static const int shift[] = {40, 30, 20, 10, 0};
    if (strcmp(s, "off") == 0) {
        *out = INT64_MAX;
        return true;
    }
    size_t n = strlen(s);
    int sh = 0;
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t k = strlen(suffix[i]);
        if (n >= k && memcmp(s + n - k, suffix[i], k) == 0) {
            n -= k;
            sh = shift[i];
            break;
        }
    }
    uint64_t v;
    if (!ref_digits(s, n, (uint64_t)INT64_MAX, &v)) return false;
    if (v > ((uint64_t)INT64_MAX >> sh)) return false;
    *out = (int64_t)(v << sh);
    return true;
}

static bool ref_debug(const char *s, ga_options *o)
{
    static const struct {
        const char *key;
        uint64_t max;
        size_t off;
    } keys[] = {
        {"gctrace", 2, offsetof(ga_options, gctrace)},
        {"gcstoptheworld", 1, offsetof(ga_options, gcstoptheworld)},
        {"scavtrace", 1, offsetof(ga_options, scavtrace)},
        {"madvdontneed", 1, offsetof(ga_options, madvdontneed)},
    };
    ga_options tmp = *o;
    const char *item = s;
    for (;;) {
        size_t len = strcspn(item, ",");
        if (len > 0) {
            const char *eq = memchr(item, '=', len);
            if (!eq) return false;
            size_t klen = (size_t)(eq - item);
            bool known = false;
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                if (strlen(keys[k].key) != klen || memcmp(keys[k].key, item, klen) != 0) continue;
                uint64_t v;
                if (!ref_digits(eq + 1, len - klen - 1, keys[k].max, &v)) return false;
                *(int *)((char *)&tmp + keys[k].off) = (int)v;
                known = true;
            }
            if (!known) return false;
        }
        if (item[len] == '\0') break;
        item += len + 1;
    }
    *o = tmp;
    return true;
}

/* ---- Comparison ---- */

static ga_options sentinel_options(void)
{
    ga_options o;
    memset(&o, 0, sizeof o);
    o.gogc = 12345;
    o.memory_limit = 67890;
    o.gctrace = 7;
    o.gcstoptheworld = 7;
    o.scavtrace = 7;
    o.madvdontneed = 7;
    o.verbose = 7;
    return o;
}

static void check_int_parser(const char *what, int (*parse)(const char *, int64_t *),
                             bool (*ref)(const char *, int64_t *), const char *s)
{
    int64_t got = 0, want = 0;
    int rc = parse(s, &got);
    bool ok = ref(s, &want);
    FZ_CHECK(rc == 0 || rc == -1, "%s(\"%s\") returned %d, not 0 or -1", what, s, rc);
    FZ_CHECK((rc == 0) == ok, "%s(\"%s\") %s it, the documented syntax %s it", what, s,
             rc == 0 ? "accepts" : "rejects", ok ? "accepts" : "rejects");
    if (ok)
        FZ_CHECK(got == want, "%s(\"%s\") = %lld, expected %lld", what, s, (long long)got,
                 (long long)want);
}

static void check_debug(const char *s)
{
    ga_options got = sentinel_options(), want = sentinel_options();
    int rc = _ga_parse_debug(s, &got);
    bool ok = ref_debug(s, &want);
    FZ_CHECK(rc == 0 || rc == -1, "_ga_parse_debug(\"%s\") returned %d, not 0 or -1", s, rc);
    FZ_CHECK((rc == 0) == ok, "_ga_parse_debug(\"%s\") %s it, the documented syntax %s it", s,
             rc == 0 ? "accepts" : "rejects", ok ? "accepts" : "rejects");
    FZ_CHECK(got.gogc == 12345 && got.memory_limit == 67890 && got.verbose == 7,
             "_ga_parse_debug(\"%s\") changed a field that is not a GOALLOC_DEBUG key", s);
    if (ok)
        FZ_CHECK(got.gctrace == want.gctrace && got.gcstoptheworld == want.gcstoptheworld &&
                     got.scavtrace == want.scavtrace && got.madvdontneed == want.madvdontneed,
                 "_ga_parse_debug(\"%s\") set gctrace=%d gcstoptheworld=%d scavtrace=%d "
                 "madvdontneed=%d, expected %d %d %d %d",
                 s, got.gctrace, got.gcstoptheworld, got.scavtrace, got.madvdontneed, want.gctrace,
                 want.gcstoptheworld, want.scavtrace, want.madvdontneed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t n = strnlen((const char *)data + 1, size - 1);
    char *s = malloc(n + 1); /* exactly sized: ASan sees a read past the terminator */
    if (!s) return 0;
    memcpy(s, data + 1, n);
    s[n] = '\0';
    switch (data[0] % 3) {
    case 0:
        check_int_parser("_ga_parse_gogc", _ga_parse_gogc, ref_gogc, s);
        break;
    case 1:
        check_int_parser("_ga_parse_memlimit", _ga_parse_memlimit, ref_memlimit, s);
        break;
    default:
        check_debug(s);
        break;
    }
    free(s);
    return 0;
}
