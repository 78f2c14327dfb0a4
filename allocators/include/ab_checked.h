/* ab_checked.h - the contract checks an adapter puts in front of a library that does not make
 * them itself: sizes above PTRDIFF_MAX and calloc overflow give NULL + ENOMEM, a failed
 * allocation sets ENOMEM, an alignment that is not a power of two gives NULL + EINVAL
 * (ab_allocator.h). Header-only and inline: with the library function a constant, each call
 * compiles to the checks and a direct call. */
#ifndef AB_CHECKED_H
#define AB_CHECKED_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

static inline void *ab_checked_malloc(void *(*fn)(size_t), size_t size)
{
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = fn(size);
    if (!p) errno = ENOMEM;
    return p;
}

static inline void *ab_checked_calloc(void *(*fn)(size_t, size_t), size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total) || total > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = fn(n, size);
    if (!p) errno = ENOMEM;
    return p;
}

/* realloc(p, 0) may answer NULL without failing: only a NULL for a size is ENOMEM. */
static inline void *ab_checked_realloc(void *(*fn)(void *, size_t), void *p, size_t size)
{
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = fn(p, size);
    if (!q && size) errno = ENOMEM;
    return q;
}

/* 0 when (alignment, size) may be passed on; otherwise sets errno and returns -1. */
static inline int ab_check_alignment(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return -1;
    }
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

#endif /* AB_CHECKED_H */
