/* ab_stats.h - the backend-neutral statistics record filled by ab_allocator.stats().
 *
 * Five neutral figures every report can compare across backends, each with a validity bit
 * (a backend that cannot measure a figure leaves its bit clear and the report says "n/a"),
 * plus up to AB_STATS_MAX_EXTRA backend-specific key/values named as the library names them
 * (jemalloc "stats.metadata", goalloc "HeapInuse", "NumGC", ...).
 *
 * Invariants where the backend can state them: allocated <= active <= mapped;
 * resident <= mapped; retained is not part of mapped.
 */
#ifndef AB_STATS_H
#define AB_STATS_H

#include <stdint.h>

#define AB_STATS_MAX_EXTRA 96
#define AB_STATS_KEY_MAX 48

/* The neutral fields, declared once: X(name, bit, description). */
#define AB_STATS_FIELDS(X)                                                                         \
    X(allocated, 0, "bytes in blocks the program holds, as the allocator counts them")             \
    X(active, 1, "bytes in pages that hold at least one live block")                               \
    X(resident, 2, "bytes of the allocator's memory resident in RAM (its own estimate)")           \
    X(mapped, 3, "bytes mapped read/write and not returned to the OS")                             \
    X(retained, 4, "bytes of address space kept but returned to the OS (virtual only)")

enum ab_stats_bit {
#define AB_X(name, bit, desc) AB_STAT_##name = 1u << (bit),
    AB_STATS_FIELDS(AB_X)
#undef AB_X
};

typedef struct ab_stat_kv {
    char key[AB_STATS_KEY_MAX];
    double value;
} ab_stat_kv;

typedef struct ab_stats {
#define AB_X(name, bit, desc) uint64_t name;
    AB_STATS_FIELDS(AB_X)
#undef AB_X
    unsigned valid; /* AB_STAT_* bits of the fields above that were really measured */
    unsigned n_extra;
    ab_stat_kv extra[AB_STATS_MAX_EXTRA];
} ab_stats;

/* Appends one extra key/value; silently ignores overflow past AB_STATS_MAX_EXTRA and
 * truncates the key. Header-only so adapters need no extra library. */
static inline void ab_stats_put(ab_stats *s, const char *key, double value)
{
    if (s->n_extra >= AB_STATS_MAX_EXTRA) return;
    ab_stat_kv *kv = &s->extra[s->n_extra++];
    unsigned i = 0;
    for (; key[i] && i + 1 < AB_STATS_KEY_MAX; i++)
        kv->key[i] = key[i];
    kv->key[i] = '\0';
    kv->value = value;
}

#endif /* AB_STATS_H */
