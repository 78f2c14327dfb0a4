/* ab_mimalloc.c - the mimalloc backend (Debian's libmimalloc 2.0.x, which exports malloc & co).
 *
 * Owns ab_alloc_mimalloc. Invariants:
 *  - linking this adapter makes the process malloc mimalloc's; the members call mi_* directly
 *    (the same heap), and check_process_malloc() proves that a block from the process malloc
 *    lies in mimalloc's heap region.
 *  - aligned_alloc checks mimalloc's result: 2.0.9 misaligns size == alignment in 256..1024
 *    (microsoft/mimalloc#700); such a block is freed and requested again one byte larger.
 *    The process posix_memalign/aligned_alloc (mimalloc's) keep the bug.
 *  - mimalloc sets no errno for requests above PTRDIFF_MAX or for calloc overflow, so those
 *    are answered here (NULL + ENOMEM) before calling it; any NULL it returns gets ENOMEM.
 *  - stats(), honestly: a release build of mimalloc counts no allocated bytes, so `allocated`
 *    and `active` are n/a. `mapped` is the committed bytes of mi_process_info() (exact).
 *    `retained` is reserved minus committed, read from mi_stats_print_out()'s table (the only
 *    way 2.0.x exposes "reserved"; three significant digits). `resident` is n/a: 2.0.x on Linux
 *    reports its commit as the current RSS. The table's other rows become extras.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mimalloc.h>

#include "ab_allocator.h"
#include "ab_checked.h"

/* ---- Version ---- */

static char mi_version_buf[64];
static pthread_once_t mi_version_once = PTHREAD_ONCE_INIT;

static void mi_version_init(void)
{
    int v = mi_version(); /* e.g. 209 for 2.0.9 */
    snprintf(mi_version_buf, sizeof mi_version_buf, "mimalloc %d.%d.%d", v / 100, (v % 100) / 10,
             v % 10);
}

static const char *mi_ab_version(void)
{
    pthread_once(&mi_version_once, mi_version_init);
    return mi_version_buf;
}

/* ---- Allocation ---- */

static void *mi_ab_malloc(size_t size)
{
    return ab_checked_malloc(mi_malloc, size);
}

static void *mi_ab_calloc(size_t n, size_t size)
{
    return ab_checked_calloc(mi_calloc, n, size);
}

static void *mi_ab_realloc(void *p, size_t size)
{
    return ab_checked_realloc(mi_realloc, p, size);
}

static void mi_ab_free(void *p)
{
    mi_free(p);
}

static void *mi_ab_aligned_alloc(size_t alignment, size_t size)
{
    if (ab_check_alignment(alignment, size) != 0) return NULL;
    void *p = mi_malloc_aligned(size, alignment);
    if (p && ((uintptr_t)p & (alignment - 1)) != 0) {
        /* mimalloc 2.0.9 bug (upstream issue microsoft/mimalloc#700, fixed after 2.0.9): a
         * size equal to an alignment of 256..1024 takes a path that ignores the alignment.
         * One more byte makes the size no multiple of the alignment: the correct path. */
        mi_free(p);
        p = mi_malloc_aligned(size + 1, alignment);
        if (p && ((uintptr_t)p & (alignment - 1)) != 0) {
            mi_free(p);
            p = NULL;
        }
    }
    if (!p) errno = ENOMEM;
    return p;
}

static size_t mi_ab_usable_size(const void *p)
{
    return mi_usable_size(p);
}

/* ---- Stats: mi_process_info plus the rows of mi_stats_print_out's table ---- */

typedef struct mi_text {
    char buf[8192];
    size_t len; /* invariant: len < sizeof buf, buf[len] == '\0' */
} mi_text;

static void mi_text_out(const char *msg, void *arg)
{
    mi_text *t = arg;
    size_t n = strlen(msg);
    if (n > sizeof t->buf - 1 - t->len) n = sizeof t->buf - 1 - t->len;
    memcpy(t->buf + t->len, msg, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* Parses one amount of the table ("32.0 MiB", "512 B", "7") at *s; advances *s. */
static int mi_parse_amount(const char **s, double *v)
{
    char *end;
    double x = strtod(*s, &end);
    if (end == *s) return -1;
    const char *u = end;
    while (*u == ' ')
        u++;
    static const struct {
        const char *unit;
        double mul;
    } units[] = {{"KiB", 1024.0},
                 {"MiB", 1048576.0},
                 {"GiB", 1073741824.0},
                 {"TiB", 1099511627776.0},
                 {"B", 1.0}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t ul = strlen(units[i].unit);
        if (strncmp(u, units[i].unit, ul) == 0 && (u[ul] == ' ' || u[ul] == '\n' || !u[ul])) {
            x *= units[i].mul;
            end = (char *)u + ul;
            break;
        }
    }
    *v = x;
    *s = end;
    return 0;
}

/* The "current" column (4th amount) of the row whose label is `label`, or the only amount of
 * a one-column row. Returns -1 when the row is missing. */
static int mi_row(const char *text, const char *label, int want_current, double *v)
{
    size_t ll = strlen(label);
    for (const char *line = text; line && *line;) {
        const char *s = line;
        while (*s == ' ')
            s++;
        if (strncmp(s, label, ll) == 0 && s[ll] == ':') {
            s += ll + 1;
            double cols[4];
            int n = 0;
            while (n < 4) {
                while (*s == ' ')
                    s++;
                if (mi_parse_amount(&s, &cols[n]) != 0) break;
                n++;
            }
            if (n == 0) return -1;
            *v = want_current && n >= 4 ? cols[3] : cols[0];
            return (want_current && n < 4) ? -1 : 0;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return -1;
}

static int mi_ab_stats(ab_stats *out)
{
    out->valid = 0;
    out->n_extra = 0;
    size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
    mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
    out->mapped = commit;
    out->valid |= AB_STAT_mapped;
    ab_stats_put(out, "process.peak_commit", (double)peak_commit);
    ab_stats_put(out, "process.peak_rss", (double)peak_rss);
    ab_stats_put(out, "process.page_faults", (double)faults);

    mi_stats_merge(); /* this thread's counters into the main table */
    /* one static buffer, so that a sampler calling stats() every few ms allocates nothing */
    static mi_text text;
    static pthread_mutex_t text_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&text_lock);
    mi_text *t = &text;
    t->len = 0;
    t->buf[0] = '\0';
    mi_stats_print_out(mi_text_out, t);
    static const char *rows[] = {"reserved", "committed", "reset",  "touched",
                                 "segments", "pages",     "threads"};
    double reserved = -1, committed = -1, v;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (mi_row(t->buf, rows[i], 1, &v) != 0) continue;
        char key[AB_STATS_KEY_MAX];
        snprintf(key, sizeof key, "stats.%s", rows[i]);
        ab_stats_put(out, key, v);
        if (i == 0) reserved = v;
        if (i == 1) committed = v;
    }
    static const char *counts[] = {"mmaps", "commits"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        char key[AB_STATS_KEY_MAX];
        snprintf(key, sizeof key, "stats.%s", counts[i]);
        if (mi_row(t->buf, counts[i], 0, &v) == 0) ab_stats_put(out, key, v);
    }
    pthread_mutex_unlock(&text_lock);
    if (reserved >= 0 && committed >= 0) {
        out->retained = reserved > committed ? (uint64_t)(reserved - committed) : 0;
        out->valid |= AB_STAT_retained;
    }
    return 0;
}

static void mi_ab_collect(int level)
{
    (void)level; /* no GC: FULL is PURGE */
    mi_collect(true);
}

/* ---- Proof of the process malloc ---- */

static int mi_ab_check_process_malloc(char *err, size_t errlen)
{
    void *p = malloc(64);
    if (!p) {
        snprintf(err, errlen, "mimalloc: malloc(64) failed");
        return -1;
    }
    int in = mi_is_in_heap_region(p);
    free(p);
    if (!in) {
        snprintf(err, errlen,
                 "mimalloc: process malloc is not mimalloc's: a block from malloc() "
                 "is outside mimalloc's heap region");
        return -1;
    }
    return 0;
}

const ab_allocator ab_alloc_mimalloc = {
    .name = "mimalloc",
    .caps = 0,
    .version = mi_ab_version,
    .init = NULL,
    .check_process_malloc = mi_ab_check_process_malloc,
    .malloc = mi_ab_malloc,
    .calloc = mi_ab_calloc,
    .realloc = mi_ab_realloc,
    .free = mi_ab_free,
    .aligned_alloc = mi_ab_aligned_alloc,
    .usable_size = mi_ab_usable_size,
    .thread_init = NULL,
    .thread_exit = NULL,
    .stats = mi_ab_stats,
    .collect = mi_ab_collect,
};
