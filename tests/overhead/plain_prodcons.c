/* plain_prodcons.c - the independent check of abench's prodcons figure: a producer/consumer
 * hand-off written plainly, outside the harness (no workload descriptor, no adapter, no
 * sampling, no live-byte account), calling the process malloc/free directly so that any
 * allocator can be put under it with LD_PRELOAD.
 *
 * Two threads. The producer (the main thread) mallocs blocks of a uniformly drawn size in
 * [min, max], writes one byte in each and hands them to the consumer through a bounded ring of
 * `depth` x `batch` block pointers, a batch at a time; the consumer checks the byte of every
 * block of a batch and frees it. Every free is a cross-thread free. The RNG is xorshift64*,
 * not the workloads' xoshiro256**, on purpose: nothing is shared with the code under check.
 *
 * Ring invariant (under `lock`): 0 <= count <= cap = depth x batch, both multiples of batch;
 * entries [head, head + count) (mod cap) are published blocks owned by the consumer, the rest
 * belong to the producer. Block number k carries the byte (char)k, and the ring is FIFO, so
 * the consumer knows what each block must hold.
 *
 *   plain-prodcons [BATCHES [BATCH [DEPTH [MIN [MAX]]]]]     defaults 4000 4096 4 8 255
 *
 * Prints one line: "plain-prodcons steps=N ns_per_op=X", N = BATCHES x BATCH blocks, X the
 * thread time per block as abench counts it (wall time x 2 threads / N), the wall time taken
 * with CLOCK_MONOTONIC from before the consumer starts to after it is joined. Build with
 * -fno-builtin-malloc -fno-builtin-free so the compiler keeps every call (BENCH_METHOD.md).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull; /* the producer's only */

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
        fprintf(stderr, "plain-prodcons: argument %d '%s': want a positive integer\n", i, argv[i]);
        exit(2);
    }
    return v;
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    char **slot;
    uint64_t cap, batch, batches, head, count;
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .not_full = PTHREAD_COND_INITIALIZER,
          .not_empty = PTHREAD_COND_INITIALIZER};

static void *consumer(void *unused)
{
    (void)unused;
    uint64_t k = 0;
    for (uint64_t b = 0; b < ring.batches; b++) {
        pthread_mutex_lock(&ring.lock);
        while (ring.count == 0)
            pthread_cond_wait(&ring.not_empty, &ring.lock);
        char **blk = ring.slot + ring.head;
        pthread_mutex_unlock(&ring.lock);
        for (uint64_t i = 0; i < ring.batch; i++, k++) {
            if (blk[i][0] != (char)k) {
                fprintf(stderr, "plain-prodcons: block %llu was overwritten\n",
                        (unsigned long long)k);
                exit(1);
            }
            free(blk[i]);
        }
        pthread_mutex_lock(&ring.lock);
        ring.head = (ring.head + ring.batch) % ring.cap;
        ring.count -= ring.batch;
        pthread_cond_signal(&ring.not_full);
        pthread_mutex_unlock(&ring.lock);
    }
    return NULL;
}

static void produce(uint64_t min, uint64_t max)
{
    uint64_t k = 0;
    for (uint64_t b = 0; b < ring.batches; b++) {
        pthread_mutex_lock(&ring.lock);
        while (ring.count == ring.cap)
            pthread_cond_wait(&ring.not_full, &ring.lock);
        char **blk = ring.slot + (ring.head + ring.count) % ring.cap;
        pthread_mutex_unlock(&ring.lock);
        for (uint64_t i = 0; i < ring.batch; i++, k++) {
            char *p = malloc((size_t)(min + below(max - min + 1)));
            if (!p) exit(1);
            p[0] = (char)k;
            blk[i] = p;
        }
        pthread_mutex_lock(&ring.lock);
        ring.count += ring.batch;
        pthread_cond_signal(&ring.not_empty);
        pthread_mutex_unlock(&ring.lock);
    }
}

int main(int argc, char **argv)
{
    ring.batches = arg(argc, argv, 1, 4000);
    ring.batch = arg(argc, argv, 2, 4096);
    uint64_t depth = arg(argc, argv, 3, 4);
    uint64_t min = arg(argc, argv, 4, 8), max = arg(argc, argv, 5, 255);
    if (max < min) {
        fprintf(stderr, "plain-prodcons: MAX %llu is below MIN %llu\n", (unsigned long long)max,
                (unsigned long long)min);
        return 2;
    }
    ring.cap = depth * ring.batch;
    ring.slot = calloc(ring.cap, sizeof *ring.slot);
    if (!ring.slot) return 1;
    struct timespec a, b;
    pthread_t t;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (pthread_create(&t, NULL, consumer, NULL) != 0) return 1;
    produce(min, max);
    pthread_join(t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    free(ring.slot);
    uint64_t steps = ring.batches * ring.batch;
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("plain-prodcons steps=%llu ns_per_op=%.3f\n", (unsigned long long)steps,
           2 * ns / (double)steps);
    return 0;
}
