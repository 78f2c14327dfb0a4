/* trace_target.c - a small program for the recorder test (test_wl_trace): every call the
 * recorder wraps, on the main thread and two worker threads, and two blocks it never frees
 * (100 B from malloc, 3 x 50 B from calloc). Prints "trace-target ok" when done. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *memalign(size_t align, size_t size);
void *valloc(size_t size);
void *reallocarray(void *p, size_t n, size_t size);

static void *worker(void *arg)
{
    size_t id = (size_t)arg;
    char *grow = NULL;
    for (size_t n = 16; n <= 4096; n *= 2) {
        char *q = realloc(grow, n);
        if (!q) abort();
        memset(q + n / 2, (int)id, n / 2);
        grow = q;
    }
    void *a = NULL;
    if (posix_memalign(&a, 64, 200) != 0) abort();
    void *b = aligned_alloc(128, 256);
    void *c = memalign(256, 300);
    if (!b || !c) abort();
    for (int i = 0; i < 500; i++) {
        void *p = malloc((size_t)(i % 97) + 1);
        if (!p) abort();
        memset(p, 1, 1);
        free(p);
    }
    void *v = valloc(100); /* page-aligned: recorded as 'a' */
    char *ra = reallocarray(NULL, 10, 20);
    if (!v || !ra) abort();
    ra = reallocarray(ra, 20, 20); /* a realloc: recorded as 'r' */
    if (!ra) abort();
    memset(ra, 2, 400);
    free(ra);
    free(v);
    free(a);
    free(b);
    free(c);
    free(grow);
    return NULL;
}

int main(void)
{
    char *leak1 = malloc(100);
    char *leak2 = calloc(3, 50);
    if (!leak1 || !leak2) return 1;
    leak1[0] = leak2[0] = 1;
    pthread_t th[2];
    for (size_t i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(i + 1)) != 0) return 1;
    for (size_t i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    char *r = realloc(NULL, 10); /* realloc(NULL) is a malloc */
    r = realloc(r, 0);           /* glibc: frees, returns NULL */
    free(r);
    printf("trace-target ok\n");
    return 0;
}
