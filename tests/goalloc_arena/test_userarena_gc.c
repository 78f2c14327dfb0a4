/* test_userarena_gc.c - user arenas with the collector: live arenas are roots, and a freed
 * chunk leaves quarantine only after a collection finds no pointer into it (Go's rule).
 * A process of its own: the first collection switches arenas from the manual-mode rule. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ga_internal.h"
#include "goalloc.h"
#include "goalloc_arena.h"
#include "goalloc_gc.h"

#define CHUNK ((size_t)8 << 20)

/* A collected object referenced only from a value in a live arena survives collections; once
 * the arena is freed it is collected. */
static void test_live_arena_is_a_root(void **state)
{
    (void)state;
    ga_arena *a = ga_arena_new();
    void **holder = ga_arena_alloc(a, sizeof(void *), 8, 1);
    char *obj = ga_gc_alloc(4096, GA_GC_NOSCAN);
    assert_non_null(obj);
    memset(obj, 0x3c, 4096);
    ga_store_ptr(holder, obj);
    obj = NULL;
    ga_gc();
    ga_gc();
    ga_gc_stats g1, g2;
    ga_gc_read_stats(&g1);
    assert_true(g1.HeapMarked >= 4096); /* marked through the arena value alone */
    for (int i = 0; i < 4096; i++)
        assert_int_equal(((unsigned char *)*holder)[i], 0x3c);
    ga_arena_free(a);
    ga_gc();
    ga_gc_read_stats(&g2);
    assert_true(g2.HeapMarked + 4096 <= g1.HeapMarked);
}

/* A pointer into a freed, quarantined chunk keeps it quarantined through collections; once
 * the pointer is gone, the next collection releases it. */
static void *dangling[1];

static void test_quarantine_follows_the_gc(void **state)
{
    (void)state;
    assert_int_equal(ga_gc_add_roots(dangling, dangling + 1), 0);
    ga_gc(); /* the GC rule applies from the first collection on */
    ga_arena *a = ga_arena_new();
    char *first = ga_arena_alloc(a, 1 << 20, 8, 1);
    for (int i = 0; i < 12; i++)
        assert_non_null(ga_arena_alloc(a, 1 << 20, 8, 1));
    ga_store_ptr(&dangling[0], first + 100); /* an interior pointer into the first chunk */
    ga_arena_stats s0, s1, s2;
    ga_arena_free(a);
    ga_arena_read_stats(&s0);
    assert_true(s0.chunks_quarantined >= 1);
    ga_gc();
    ga_arena_read_stats(&s1);
    assert_int_equal(s1.chunks_quarantined, 1); /* the pointed-into chunk stays */
    ga_store_ptr(&dangling[0], NULL);
    ga_gc();
    ga_arena_read_stats(&s2);
    assert_int_equal(s2.chunks_quarantined, 0);
    assert_true(s2.chunks_ready >= s1.chunks_ready + 1);
    assert_int_equal(ga_gc_remove_roots(dangling, dangling + 1), 0);
}

/* Once a collection has run, a freed arena's memory is not handed to the next arena before
 * a collection could find a pointer into it: the next arena's blocks lie elsewhere and the
 * freed values stay as they were (manual mode would rewind and reuse them at once). */
static void test_freed_small_arena_not_reused_after_gc(void **state)
{
    (void)state;
    ga_gc();
    ga_arena *a = ga_arena_new();
    unsigned char *s1 = ga_arena_alloc(a, 3000, 8, 1);
    unsigned char *n1 = ga_arena_alloc(a, 5000, 8, 0);
    memset(s1, 0xc3, 3000);
    memset(n1, 0x3c, 5000);
    ga_arena_free(a);
    ga_arena *b = ga_arena_new();
    unsigned char *s2 = ga_arena_alloc(b, 3000, 8, 1);
    unsigned char *n2 = ga_arena_alloc(b, 5000, 8, 0);
    assert_true(s2 + 3000 <= s1 || s2 >= s1 + 3000);
    assert_true(n2 + 5000 <= n1 || n2 >= n1 + 5000);
    assert_int_equal(s1[2999], 0xc3);
    assert_int_equal(n1[0], 0x3c);
    ga_arena_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_arena_is_a_root),
        cmocka_unit_test(test_quarantine_follows_the_gc),
        cmocka_unit_test(test_freed_small_arena_not_reused_after_gc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
