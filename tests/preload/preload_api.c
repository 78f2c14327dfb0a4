/* preload_api.c - every function libgoalloc-malloc.so exports, called the way a C program
 * calls them, under LD_PRELOAD: each block must be goalloc's (ga_owns, via dlsym), at least
 * 8-byte aligned (16 for sizes >= 16), usable for its size, and each error path must give
 * the C/POSIX answer (NULL + ENOMEM, EINVAL). Prints one line per failure and exits 1.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
/* Volatile so that the compiler cannot see (and warn about) the absurd sizes. */
static volatile size_t huge = SIZE_MAX / 2;
static int (*owns)(const void *);

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "preload_api: %s:%d: ", __func__, __LINE__);                           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* A block of `size` bytes from the preload: goalloc's, aligned, usable, writable. */
static void check_block(const char *what, void *p, size_t size, size_t align)
{
    CHECK(p != NULL, "%s(%zu) returned NULL", what, size);
    if (!p) return;
    if (align < 8) align = 8;
    if (size >= 16 && align < 16) align = 16;
    CHECK(owns(p), "%s(%zu) = %p is not goalloc's", what, size, p);
    CHECK(((uintptr_t)p & (align - 1)) == 0, "%s(%zu) = %p not %zu-aligned", what, size, p, align);
    CHECK(malloc_usable_size(p) >= size, "%s(%zu): usable size %zu", what, size,
          malloc_usable_size(p));
    memset(p, 0xa5, size);
}

static void test_malloc_free(void)
{
    for (size_t size = 0; size <= 70000; size = size < 64 ? size + 1 : size * 2 + 3) {
        void *p = malloc(size);
        check_block("malloc", p, size, 1);
        free(p);
    }
    free(NULL);
    errno = 0;
    CHECK(malloc(huge * 2 - 4096) == NULL && errno == ENOMEM, "absurd malloc: not NULL + ENOMEM");
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) != 0");
}

static void test_calloc(void)
{
    for (size_t n = 1; n <= 50000; n = n * 3 + 1) {
        unsigned char *p = calloc(n, 3);
        check_block("calloc", p, 0, 1);
        size_t nz = 0;
        for (size_t i = 0; p && i < n * 3; i++)
            nz += p[i] != 0;
        CHECK(nz == 0, "calloc(%zu, 3): %zu non-zero bytes", n, nz);
        free(p);
    }
    errno = 0;
    CHECK(calloc(huge, 3) == NULL && errno == ENOMEM, "calloc overflow: not NULL + ENOMEM");
}

static void test_realloc(void)
{
    unsigned char *p = realloc(NULL, 5);
    check_block("realloc", p, 5, 1);
    for (size_t size = 5; p && size < 200000; size = size * 3 + 1) {
        for (size_t i = 0; i < size; i++)
            p[i] = (unsigned char)(i * 7);
        unsigned char *q = realloc(p, size * 3 + 1);
        size_t bad = 0;
        for (size_t i = 0; q && i < size; i++)
            bad += q[i] != (unsigned char)(i * 7);
        CHECK(bad == 0, "realloc to %zu lost %zu bytes of the prefix", size * 3 + 1, bad);
        check_block("realloc", q, size * 3 + 1, 1);
        p = q;
    }
    errno = 0;
    void *r = reallocarray(p, huge, 4); /* fails, p stays valid */
    CHECK(r == NULL && errno == ENOMEM, "reallocarray overflow: not NULL + ENOMEM");
    p = reallocarray(r ? r : p, 10, 10);
    check_block("reallocarray", p, 100, 1);
    free(p);
}

static void test_aligned(void)
{
    long page = sysconf(_SC_PAGESIZE);
    for (size_t a = 1; a <= (1u << 20); a <<= 1) {
        void *p = aligned_alloc(a, 3 * a);
        check_block("aligned_alloc", p, 3 * a, a);
        free(p);
        p = memalign(a, a + 1);
        check_block("memalign", p, a + 1, a);
        free(p);
        if (a >= sizeof(void *)) {
            void *q = NULL;
            CHECK(posix_memalign(&q, a, 100) == 0, "posix_memalign(%zu) failed", a);
            check_block("posix_memalign", q, 100, a);
            free(q);
        }
    }
    void *q = (void *)1;
    CHECK(posix_memalign(&q, 24, 8) == EINVAL, "posix_memalign(24) is not EINVAL");
    CHECK(posix_memalign(&q, 4, 8) == EINVAL, "posix_memalign(4) is not EINVAL");
    void *v = valloc(10);
    check_block("valloc", v, 10, (size_t)page);
    free(v);
    v = pvalloc(10);
    check_block("pvalloc", v, (size_t)page, (size_t)page);
    free(v);
}

static void test_cfree(void)
{
    void (*cf)(void *);
    *(void **)&cf = dlsym(RTLD_DEFAULT, "cfree");
    CHECK(cf != NULL, "cfree is not exported");
    if (cf) cf(malloc(32));
}

int main(void)
{
    *(void **)&owns = dlsym(RTLD_DEFAULT, "ga_owns"); /* POSIX's idiom for function pointers */
    if (!owns) {
        fprintf(stderr, "preload_api: ga_owns not found: run under "
                        "LD_PRELOAD=libgoalloc-malloc.so\n");
        return 1;
    }
    test_malloc_free();
    test_calloc();
    test_realloc();
    test_aligned();
    test_cfree();
    if (failures) return 1;
    printf("preload_api: ok\n");
    return 0;
}
