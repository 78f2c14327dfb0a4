/* ab_sys.c - the glibc backend: the process malloc family as the C library provides it.
 *
 * Owns ab_alloc_sys. Invariants:
 *  - every block comes from the process malloc family (malloc, calloc, realloc,
 *    posix_memalign) and goes back through free(); nothing is cached here.
 *  - check_process_malloc() proves that process malloc is glibc's: a fresh block must show up
 *    in glibc's own accounting (mallinfo2). In a sanitizer build the process malloc is the
 *    sanitizer's allocator (it replaces glibc's), and the check proves that instead, by the
 *    sanitizer's ownership query; version() says so.
 *  - stats(): glibc has no page-level accounting; only `allocated` (uordblks + hblkhd) and
 *    `mapped` (arena + hblkhd, all arenas) are measured, the rest is n/a. Under a sanitizer,
 *    the sanitizer's allocated / heap size figures instead.
 * ab_null.c, ab_broken.c and ab_boehm.c build on this backend.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ab_allocator.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SYS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SYS_SANITIZER 1
#endif
#endif
#ifndef SYS_SANITIZER
#define SYS_SANITIZER 0
#endif

#if SYS_SANITIZER
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#else /* gcc on Debian ships the runtime without this header: the runtime's C interface */
int __sanitizer_get_ownership(const volatile void *p);
size_t __sanitizer_get_current_allocated_bytes(void);
size_t __sanitizer_get_heap_size(void);
size_t __sanitizer_get_free_bytes(void);
size_t __sanitizer_get_unmapped_bytes(void);
#endif
#endif

/* ---- Version ---- */

static char sys_version_buf[96];
static pthread_once_t sys_version_once = PTHREAD_ONCE_INIT;

static void sys_version_init(void)
{
    snprintf(sys_version_buf, sizeof sys_version_buf, "glibc %s%s", gnu_get_libc_version(),
             SYS_SANITIZER ? " (malloc replaced by the sanitizer's allocator)" : "");
}

static const char *sys_version(void)
{
    pthread_once(&sys_version_once, sys_version_init);
    return sys_version_buf;
}

/* ---- Allocation ---- */

static void *sys_malloc(size_t size)
{
    return malloc(size);
}

static void *sys_calloc(size_t n, size_t size)
{
    return calloc(n, size);
}

static void *sys_realloc(void *p, size_t size)
{
    return realloc(p, size);
}

static void sys_free(void *p)
{
    free(p);
}

/* glibc 2.36 aligned_alloc rounds a non-power-of-two alignment up instead of rejecting it, so
 * the interface's rule is checked here; posix_memalign wants at least sizeof(void *). */
static void *sys_aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment > PTRDIFF_MAX) { /* no address space has it; ASan's allocator (gcc 12) even */
        errno = ENOMEM;            /* aborts on an internal CHECK for alignment 2^63 */
        return NULL;
    }
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    void *p = NULL;
    int rc = posix_memalign(&p, alignment, size);
    if (rc != 0) {
        errno = rc;
        return NULL;
    }
    return p;
}

static size_t sys_usable_size(const void *p)
{
    return malloc_usable_size((void *)p);
}

/* ---- Proof of the process malloc ---- */

#if SYS_SANITIZER
static int sys_check_process_malloc(char *err, size_t errlen)
{
    void *p = malloc(4096);
    if (!p) {
        snprintf(err, errlen, "sys: malloc(4096) failed");
        return -1;
    }
    int owned = __sanitizer_get_ownership(p);
    free(p);
    if (!owned) {
        snprintf(err, errlen,
                 "sys: sanitizer build, but the sanitizer does not own a block "
                 "from the process malloc");
        return -1;
    }
    return 0;
}
#else
/* A 64 KiB block (below the default mmap threshold) must raise glibc's uordblks by at least
 * its size: if another allocator replaced malloc, glibc's arenas would not see it. */
static int sys_check_process_malloc(char *err, size_t errlen)
{
    const size_t n = 64 * 1024;
    struct mallinfo2 before = mallinfo2();
    void *p = malloc(n);
    struct mallinfo2 after = mallinfo2();
    if (!p) {
        snprintf(err, errlen, "sys: malloc(%zu) failed", n);
        return -1;
    }
    size_t grew = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
    free(p);
    if (after.uordblks + after.hblkhd < before.uordblks + before.hblkhd + n) {
        snprintf(err, errlen,
                 "sys: process malloc is not glibc's: malloc(%zu) grew glibc's allocated bytes "
                 "by %zu",
                 n, grew);
        return -1;
    }
    return 0;
}
#endif

/* ---- Stats and collect ---- */

static int sys_stats(ab_stats *out)
{
    out->valid = 0;
    out->n_extra = 0;
#if SYS_SANITIZER
    out->allocated = __sanitizer_get_current_allocated_bytes();
    out->mapped = __sanitizer_get_heap_size();
    out->valid = AB_STAT_allocated | AB_STAT_mapped;
    ab_stats_put(out, "sanitizer.free_bytes", (double)__sanitizer_get_free_bytes());
    ab_stats_put(out, "sanitizer.unmapped_bytes", (double)__sanitizer_get_unmapped_bytes());
#else
    struct mallinfo2 mi = mallinfo2();
    out->allocated = mi.uordblks + mi.hblkhd;
    out->mapped = mi.arena + mi.hblkhd;
    out->valid = AB_STAT_allocated | AB_STAT_mapped;
    ab_stats_put(out, "mallinfo2.arena", (double)mi.arena);
    ab_stats_put(out, "mallinfo2.ordblks", (double)mi.ordblks);
    ab_stats_put(out, "mallinfo2.hblks", (double)mi.hblks);
    ab_stats_put(out, "mallinfo2.hblkhd", (double)mi.hblkhd);
    ab_stats_put(out, "mallinfo2.uordblks", (double)mi.uordblks);
    ab_stats_put(out, "mallinfo2.fordblks", (double)mi.fordblks);
    ab_stats_put(out, "mallinfo2.keepcost", (double)mi.keepcost);
#endif
    return 0;
}

static void sys_collect(int level)
{
    (void)level; /* no GC: FULL is PURGE */
    malloc_trim(0);
}

const ab_allocator ab_alloc_sys = {
    .name = "sys",
    .caps = 0,
    .version = sys_version,
    .init = NULL,
    .check_process_malloc = sys_check_process_malloc,
    .malloc = sys_malloc,
    .calloc = sys_calloc,
    .realloc = sys_realloc,
    .free = sys_free,
    .aligned_alloc = sys_aligned_alloc,
    .usable_size = sys_usable_size,
    .thread_init = NULL,
    .thread_exit = NULL,
    .stats = sys_stats,
    .collect = sys_collect,
};
