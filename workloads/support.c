/* support.c - fatal workload errors and bookkeeping memory.
 *
 * Bookkeeping (a workload's tables of pointers and sizes) comes from mmap, never from the
 * allocator under test, so it appears neither in the allocator's statistics nor in the
 * operation sequence. wl_meta_alloc() memory is zeroed.
 */
#include "wl_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

void wl_die(const char *workload, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "abench workload %s: ", workload);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void *wl_meta_alloc(const char *workload, size_t size)
{
    if (size == 0) size = 1;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) wl_die(workload, "cannot map %zu bytes of bookkeeping memory", size);
    return p;
}

void wl_meta_free(void *p, size_t size)
{
    if (p) munmap(p, size ? size : 1);
}
