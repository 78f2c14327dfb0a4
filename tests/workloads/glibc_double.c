/* glibc_double.c - TEST DOUBLE of the sys backend (ab_alloc_sys), used only when the real
 * adapter library ab_adapter_sys is not in the build: the required members call glibc
 * straight through. No stats beyond "none valid", no process check beyond "yes".
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "ab_allocator.h"

extern const ab_allocator wl_test_glibc_double;

static const char *version(void)
{
    return "glibc (workload test double)";
}

static int check(char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return 0;
}

static void *d_malloc(size_t n)
{
    return malloc(n);
}

static void *d_calloc(size_t n, size_t s)
{
    return calloc(n, s);
}

static void *d_realloc(void *p, size_t n)
{
    return realloc(p, n);
}

static void d_free(void *p)
{
    free(p);
}

static void *d_aligned(size_t al, size_t n)
{
    void *p = NULL;
    if (al < sizeof(void *)) al = sizeof(void *);
    return posix_memalign(&p, al, n) == 0 ? p : NULL;
}

static size_t d_usable(const void *p)
{
    return malloc_usable_size((void *)p);
}

static int d_stats(ab_stats *out)
{
    memset(out, 0, sizeof *out);
    return 0;
}

static void d_collect(int level)
{
    (void)level;
    malloc_trim(0);
}

const ab_allocator wl_test_glibc_double = {
    .name = "sys",
    .version = version,
    .check_process_malloc = check,
    .malloc = d_malloc,
    .calloc = d_calloc,
    .realloc = d_realloc,
    .free = d_free,
    .aligned_alloc = d_aligned,
    .usable_size = d_usable,
    .stats = d_stats,
    .collect = d_collect,
};
