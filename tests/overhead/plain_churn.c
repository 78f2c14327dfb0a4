/* plain_churn.c - the independent check of abench's churn figure: the reference loop of
 * BENCH_METHOD.md written plainly, outside the harness (no workload descriptor, no adapter, no
 * sampling, no live-byte account), calling the process malloc/free directly so that any
 * allocator can be put under it with LD_PRELOAD.
 *
 * A ring of `slots` blocks; each step frees a random slot and mallocs a block of a uniformly
 * drawn size in [min, max] into it, writing one byte. The RNG is xorshift64*, not the
 * workloads' xoshiro256**, on purpose: nothing is shared with the code under check.
 *
 *   plain-churn [STEPS [SLOTS [MIN [MAX]]]]     defaults 20000000 4096 8 255
 *
 * Prints one line: "plain-churn steps=N ns_per_pair=X" (CLOCK_MONOTONIC around the loop; the
 * final frees are outside it). Build with -fno-builtin-malloc -fno-builtin-free so the compiler
 * keeps every call (BENCH_METHOD.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n)
{
    __extension__ typedef unsigned __int128 u128;
    return (uint64_t)(((u128)next() * n) >> 64);
}

static uint64_t arg(int argc, char **argv, int i, uint64_t def)
{
    if (argc <= i) return def;
    char *end;
    unsigned long long v = strtoull(argv[i], &end, 10);
    if (*end || v == 0) {
        fprintf(stderr, "plain-churn: argument %d '%s': want a positive integer\n", i, argv[i]);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    uint64_t steps = arg(argc, argv, 1, 20000000), slots = arg(argc, argv, 2, 4096);
    uint64_t min = arg(argc, argv, 3, 8), max = arg(argc, argv, 4, 255);
    if (max < min) {
        fprintf(stderr, "plain-churn: MAX %llu is below MIN %llu\n", (unsigned long long)max,
                (unsigned long long)min);
        return 2;
    }
    char **ring = calloc(slots, sizeof *ring);
    if (!ring) return 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (uint64_t i = 0; i < steps; i++) {
        uint64_t j = below(slots);
        free(ring[j]);
        size_t s = (size_t)(min + below(max - min + 1));
        char *p = malloc(s);
        if (!p) return 1;
        p[0] = (char)i;
        ring[j] = p;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    for (uint64_t j = 0; j < slots; j++)
        free(ring[j]);
    free(ring);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("plain-churn steps=%llu ns_per_pair=%.3f\n", (unsigned long long)steps,
           ns / (double)steps);
    return 0;
}
