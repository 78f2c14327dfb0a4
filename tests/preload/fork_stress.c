/* fork_stress.c - fork safety of libgoalloc-malloc.so: threads allocate and free without pause
 * while the main thread forks; every child allocates (also from a new thread), frees blocks
 * it inherited, and exits. A lock inherited in the held state hangs a child (the alarm turns
 * that into a failure); a heap left inconsistent crashes or trips goalloc's debug checks.
 *
 * Run it under LD_PRELOAD=libgoalloc-malloc.so: it first proves that malloc is goalloc's
 * (ga_owns, looked up with dlsym, owns a fresh malloc block) and fails otherwise.
 * Prints "forks ok N" and exits 0 when every child exited cleanly.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 3
#define NFORKS 100
#define NKEEP 64

static atomic_int stop;

static size_t next_size(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    /* mostly small, sometimes large (> 32 KiB: own span) */
    return (*x % 16 == 0) ? 32768 + *x % 100000 : 1 + *x % 2048;
}

static void *churn(void *arg)
{
    uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    void *keep[NKEEP] = {0};
    for (unsigned i = 0; !atomic_load(&stop); i++) {
        unsigned k = i % NKEEP;
        free(keep[k]);
        size_t n = next_size(&x);
        keep[k] = malloc(n);
        if (!keep[k]) abort();
        memset(keep[k], (int)k, n < 64 ? n : 64);
    }
    for (unsigned k = 0; k < NKEEP; k++)
        free(keep[k]);
    return NULL;
}

static void *child_thread(void *arg)
{
    (void)arg;
    uint64_t x = 42;
    for (int i = 0; i < 500; i++) {
        void *p = malloc(next_size(&x));
        if (!p) abort();
        free(p);
    }
    return NULL;
}

/* In the child: allocate, free what the parent allocated before the fork, use a thread. */
static int child_main(void **inherited, int n)
{
    uint64_t x = (uint64_t)getpid();
    for (int i = 0; i < 1000; i++) {
        size_t len = next_size(&x);
        char *p = malloc(len);
        if (!p) return 2;
        memset(p, 0x5a, len);
        free(p);
    }
    for (int i = 0; i < n; i++)
        free(inherited[i]);
    pthread_t t;
    if (pthread_create(&t, NULL, child_thread, NULL) != 0) return 3;
    pthread_join(t, NULL);
    return 0;
}

int main(void)
{
    int (*owns)(const void *);
    *(void **)&owns = dlsym(RTLD_DEFAULT, "ga_owns"); /* POSIX's idiom for function pointers */
    void *probe = malloc(64);
    if (!owns || !owns(probe)) {
        fprintf(stderr, "fork_stress: malloc is not goalloc's (run under "
                        "LD_PRELOAD=libgoalloc-malloc.so)\n");
        return 1;
    }
    free(probe);
    alarm(60); /* a hung child or parent fails the test instead of stalling ctest */

    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, churn, (void *)(i + 1)) != 0) return 1;

    int ok = 0;
    for (int f = 0; f < NFORKS; f++) {
        void *inherited[8];
        for (int i = 0; i < 8; i++)
            inherited[i] = malloc((size_t)(i + 1) * 4000);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork_stress: fork");
            return 1;
        }
        if (pid == 0) _exit(child_main(inherited, 8));
        for (int i = 0; i < 8; i++)
            free(inherited[i]);
        int status;
        if (waitpid(pid, &status, 0) != pid) return 1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
        else
            fprintf(stderr, "fork_stress: child %d ended with status %#x\n", f, status);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("forks ok %d of %d\n", ok, NFORKS);
    return ok == NFORKS ? 0 : 1;
}
