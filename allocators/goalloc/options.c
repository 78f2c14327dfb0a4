/* options.c - every goalloc knob in one table: environment parsing, GOALLOC_VERBOSE, setters.
 * See malloc.c for the overview.
 *
 * The table below is the only list of options. Each row names the option, its type, its
 * default, a description and the field of _ga_opt it sets; the environment variable derives
 * from the name: Go's own knobs keep Go's names (gogc -> GOGC, gomemlimit -> GOMEMLIMIT),
 * Go's GODEBUG settings are keys of GOALLOC_DEBUG (gctrace=1,scavtrace=1,madvdontneed=0|1),
 * and the rest are GOALLOC_<NAME> (verbose -> GOALLOC_VERBOSE).
 *
 * Invariants:
 *  - _ga_opt holds the defaults from load time, so readers before _ga_options_init() see them;
 *  - the environment is read exactly once per process (pthread_once), so a malformed value
 *    warns exactly once, names the variable and the value, and keeps the default;
 *  - nothing here calls malloc (goalloc may be the process malloc): getenv, hand-written
 *    parsers, and one-line output through debug.c;
 *  - gogc and memory_limit may change at any time through the setters: read them with
 *    _ga_options_gogc() / _ga_options_memory_limit() (atomic loads).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ga_internal.h"

#ifndef GOALLOC_VERSION
#define GOALLOC_VERSION "unknown"
#endif
#ifdef GOALLOC_TEST_HOOKS
#define GA_TEST_HOOKS_ON 1
#else
#define GA_TEST_HOOKS_ON 0
#endif

ga_options _ga_opt = {
    .gogc = 100,
    .memory_limit = INT64_MAX,
    .gctrace = 0,
    .scavtrace = 0,
    .madvdontneed = 1,
    .verbose = 0,
    .arena_retain = (int64_t)64 << 20,
};

/* ---- GOALLOC_DEBUG parsing (GOGC and GOMEMLIMIT: knobs.c) ---- */

/* GOALLOC_DEBUG keys: the options table rows of kind OPT_DEBUG_KEY, with their bounds. */
static int debug_key(const char *key, size_t keylen, size_t *offset, int *max);

int _ga_parse_debug_item(const char *s, ga_options *o, const char **bad, size_t *badlen)
{
    int rc = 0;
    if (!s) return -1;
    for (const char *item = s; *item;) {
        const char *end = strchr(item, ',');
        if (!end) end = item + strlen(item);
        size_t len = (size_t)(end - item);
        const char *eq = memchr(item, '=', len);
        size_t offset = 0;
        int max = 0;
        int64_t v;
        if (len == 0) {
            /* empty item ("a=1,,b=1" or a trailing comma): nothing to set */
        } else if (!eq || debug_key(item, (size_t)(eq - item), &offset, &max) != 0 ||
                   _ga_parse_uint(eq + 1, (size_t)(end - eq - 1), max, &v) != 0) {
            if (rc == 0 && bad) {
                *bad = item;
                *badlen = len;
            }
            rc = -1;
        } else {
            *(int *)((char *)o + offset) = (int)v;
        }
        item = *end ? end + 1 : end;
    }
    return rc;
}

int _ga_parse_debug(const char *s, ga_options *o)
{
    return _ga_parse_debug_item(s, o, NULL, NULL);
}

static int parse_bool(const char *s, int64_t *out)
{
    return _ga_parse_uint(s, strlen(s), 1, out);
}

/* The first malformed environment setting, for ga_config_error(); written once by init_once. */
static char env_error[400];

/* ---- The options table ---- */

typedef enum opt_kind {
    OPT_GO_ENV,      /* Go's own variable: env = upper(name) */
    OPT_GOALLOC_ENV, /* env = "GOALLOC_" + upper(name) */
    OPT_DEBUG_KEY,   /* a key of GOALLOC_DEBUG (mirrors GODEBUG) */
} opt_kind;

typedef enum opt_type {
    OPT_PERCENT, /* int64: percent, -1 = off */
    OPT_BYTES,   /* int64: bytes, INT64_MAX = off */
    OPT_INT,     /* int, 0..max */
} opt_type;

typedef enum opt_origin { FROM_DEFAULT, FROM_ENV, FROM_API } opt_origin;

typedef struct opt_desc {
    const char *name;
    opt_kind kind;
    opt_type type;
    int max; /* OPT_INT upper bound */
    const char *desc;
    size_t offset; /* of the field in ga_options: int64_t for PERCENT/BYTES, int for INT */
} opt_desc;

#define FIELD(f) offsetof(ga_options, f)

static const opt_desc options[] = {
    {"gogc", OPT_GO_ENV, OPT_PERCENT, 0, "GC target: heap growth percent over live; off = no GC",
     FIELD(gogc)},
    {"gomemlimit", OPT_GO_ENV, OPT_BYTES, 0, "soft memory limit (off, bytes, B/KiB/MiB/GiB/TiB)",
     FIELD(memory_limit)},
    {"gctrace", OPT_DEBUG_KEY, OPT_INT, 2, "one line per GC cycle on stderr (Go's format)",
     FIELD(gctrace)},
    {"gcstoptheworld", OPT_DEBUG_KEY, OPT_INT, 1,
     "1: mark with the world stopped (no concurrent mark, no write barrier work)",
     FIELD(gcstoptheworld)},
    {"scavtrace", OPT_DEBUG_KEY, OPT_INT, 1, "one line per scavenger generation on stderr",
     FIELD(scavtrace)},
    {"madvdontneed", OPT_DEBUG_KEY, OPT_INT, 1, "release pages with MADV_DONTNEED (0: MADV_FREE)",
     FIELD(madvdontneed)},
    {"verbose", OPT_GOALLOC_ENV, OPT_INT, 1, "print every option and the build configuration",
     FIELD(verbose)},
    {"arena_retain", OPT_GOALLOC_ENV, OPT_BYTES, 0,
     "cap in bytes on each of the user-arena quarantine and reuse lists; chunks beyond it go "
     "back to the OS (off = no cap)",
     FIELD(arena_retain)},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static _Atomic int origin[NOPTIONS]; /* opt_origin of each row */

static int64_t *i64_of(ga_options *o, const opt_desc *d)
{
    return (int64_t *)((char *)o + d->offset);
}

static int *int_of(ga_options *o, const opt_desc *d)
{
    return (int *)((char *)o + d->offset);
}

static int64_t load(const opt_desc *d)
{
    return d->type == OPT_INT ? __atomic_load_n(int_of(&_ga_opt, d), __ATOMIC_RELAXED)
                              : __atomic_load_n(i64_of(&_ga_opt, d), __ATOMIC_RELAXED);
}

static void store(const opt_desc *d, int64_t v)
{
    if (d->type == OPT_INT)
        __atomic_store_n(int_of(&_ga_opt, d), (int)v, __ATOMIC_RELAXED);
    else
        __atomic_store_n(i64_of(&_ga_opt, d), v, __ATOMIC_RELAXED);
}

static int debug_key(const char *key, size_t keylen, size_t *offset, int *max)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const opt_desc *d = &options[i];
        if (d->kind == OPT_DEBUG_KEY && strlen(d->name) == keylen &&
            memcmp(d->name, key, keylen) == 0) {
            *offset = d->offset;
            *max = d->max;
            return 0;
        }
    }
    return -1;
}

/* The environment variable of a row (GOALLOC_DEBUG for debug keys), into buf. */
static const char *env_name(const opt_desc *d, char *buf, size_t size)
{
    const char *prefix = d->kind == OPT_GOALLOC_ENV ? "GOALLOC_" : "";
    if (d->kind == OPT_DEBUG_KEY) return "GOALLOC_DEBUG";
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    for (const char *p = d->name; *p && n + 1 < size; p++)
        buf[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    buf[n] = '\0';
    return buf;
}

/* ---- Reading the environment (once) ---- */

static void read_env_row(size_t i)
{
    const opt_desc *d = &options[i];
    char name[64];
    const char *var = env_name(d, name, sizeof name);
    const char *s = getenv(var);
    if (!s || !*s) return; /* unset or empty: the default, as Go does */
    int64_t v;
    int rc = d->type == OPT_PERCENT ? _ga_parse_gogc(s, &v)
             : d->type == OPT_BYTES ? _ga_parse_memlimit(s, &v)
                                    : parse_bool(s, &v);
    if (rc != 0 || (d->type == OPT_INT && v > d->max)) {
        _ga_warn("ignoring malformed %s=\"%.200s\" (%s); keeping the default", var, s, d->desc);
        if (!env_error[0])
            (void)snprintf(env_error, sizeof env_error, "%s=\"%.200s\" is malformed (%s)", var, s,
                           d->desc);
        return;
    }
    store(d, v);
    origin[i] = FROM_ENV;
}

static void read_debug_env(void)
{
    const char *s = getenv("GOALLOC_DEBUG");
    if (!s || !*s) return;
    ga_options parsed = _ga_opt;
    const char *bad = NULL;
    size_t badlen = 0;
    if (_ga_parse_debug_item(s, &parsed, &bad, &badlen) != 0) {
        _ga_warn(
            "ignoring malformed item \"%.*s\" of GOALLOC_DEBUG=\"%.200s\" (keys: gctrace=0|1|2, "
            "gcstoptheworld=0|1, scavtrace=0|1, madvdontneed=0|1); keeping its default",
            (int)(badlen > 100 ? 100 : badlen), bad, s);
        if (!env_error[0])
            (void)snprintf(env_error, sizeof env_error,
                           "GOALLOC_DEBUG item \"%.*s\" is malformed (keys: gctrace=0|1|2, "
                           "gcstoptheworld=0|1, scavtrace=0|1, madvdontneed=0|1)",
                           (int)(badlen > 100 ? 100 : badlen), bad);
    }
    for (size_t i = 0; i < NOPTIONS; i++) {
        const opt_desc *d = &options[i];
        if (d->kind != OPT_DEBUG_KEY || *int_of(&parsed, d) == load(d)) continue;
        store(d, *int_of(&parsed, d));
        origin[i] = FROM_ENV;
    }
}

static void print_options(void)
{
    static const char *from[] = {"default", "environment", "api"};
    _ga_warn("build: version %s, debug level %d, test hooks %s, page %zu B, arena %zu MiB",
             GOALLOC_VERSION, GOALLOC_DEBUG, GA_TEST_HOOKS_ON ? "on" : "off", GA_PAGE_SIZE,
             GA_ARENA_SIZE >> 20);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const opt_desc *d = &options[i];
        char name[64], val[32];
        const char *var = env_name(d, name, sizeof name);
        int64_t v = load(d);
        int off = (d->type == OPT_PERCENT && v < 0) || (d->type == OPT_BYTES && v == INT64_MAX);
        if (off)
            strcpy(val, "off");
        else
            (void)snprintf(val, sizeof val, "%lld", (long long)v);
        _ga_warn("option %s%s%s=%s (%s): %s", var, d->kind == OPT_DEBUG_KEY ? " " : "",
                 d->kind == OPT_DEBUG_KEY ? d->name : "", val, from[origin[i]], d->desc);
    }
}

static void init_once(void)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].kind != OPT_DEBUG_KEY) read_env_row(i);
    read_debug_env();
    _ga_os_set_madv_dontneed(_ga_opt.madvdontneed != 0);
    if (_ga_opt.verbose) print_options();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

void _ga_options_init(void)
{
    pthread_once(&once, init_once);
}

const char *ga_config_error(void)
{
    _ga_options_init();
    return env_error[0] ? env_error : NULL;
}

/* ---- Reading and setting at run time ---- */

int64_t _ga_options_gogc(void)
{
    return __atomic_load_n(&_ga_opt.gogc, __ATOMIC_RELAXED);
}

int64_t _ga_options_memory_limit(void)
{
    return __atomic_load_n(&_ga_opt.memory_limit, __ATOMIC_RELAXED);
}

/* Index of the row that owns the field at `offset`. */
static size_t row_of(size_t offset)
{
    size_t i = 0;
    while (i + 1 < NOPTIONS && options[i].offset != offset)
        i++;
    return i;
}

int64_t ga_set_memory_limit(int64_t bytes)
{
    _ga_options_init();
    if (bytes < 0) return _ga_options_memory_limit();
    origin[row_of(FIELD(memory_limit))] = FROM_API;
    return __atomic_exchange_n(&_ga_opt.memory_limit, bytes, __ATOMIC_RELAXED);
}

int ga_set_gc_percent(int percent)
{
    _ga_options_init();
    origin[row_of(FIELD(gogc))] = FROM_API;
    return (int)__atomic_exchange_n(&_ga_opt.gogc, percent < 0 ? -1 : (int64_t)percent,
                                    __ATOMIC_RELAXED);
}
