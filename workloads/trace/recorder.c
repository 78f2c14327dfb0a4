/* recorder.c - libabench-trace.so: records a program's allocation calls as an abench trace.
 *
 *   LD_PRELOAD=libabench-trace.so ABENCH_TRACE=out.trace <program>
 *   abench run --workload replay --param trace=out.trace ...
 *
 * Wraps malloc, calloc, realloc, free, posix_memalign, aligned_alloc and memalign (and
 * reallocarray, valloc, pvalloc on top of them), calls the next definition (dlsym(RTLD_NEXT))
 * and appends one line per call in the format of wl_replay.h. Without ABENCH_TRACE (or in a forked
 * child) every call passes straight through.
 *
 * Invariants:
 *  - One mutex orders everything: the real call and its trace line happen under it, so the
 *    trace order is the order in which blocks really came and went (an address freed on one
 *    thread and reused on another cannot be recorded out of order).
 *  - `ids` maps each live block the program got while recording to its trace id; a free or
 *    realloc of an address not in it (allocated before recording began) is passed through:
 *    free unrecorded, realloc recorded as a fresh `m`. An address handed out again while the
 *    table still holds it (freed inside libc, out of our sight) first gets an `f` of the old id.
 *  - Lines are buffered and written whole; the buffer is flushed when full and at exit, so a
 *    program that dies by a signal or _exit() loses at most the last 64 KiB (whole lines).
 *  - While dlsym resolves the real functions, allocations come from a static bootstrap buffer
 *    (dlsym itself may call calloc); such blocks are never handed to the real free.
 *  - The recorder never allocates through malloc itself: its table and buffer use mmap and
 *    write(2). A per-thread flag stops recursion.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The exported malloc family: declared by <stdlib.h>; memalign by <malloc.h> (kept out to
 * avoid its deprecated-function attributes). */
void *memalign(size_t align, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);
void *reallocarray(void *p, size_t n, size_t size);

/* ---- Real functions and the bootstrap buffer ---- */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static _Alignas(16) char boot[64 * 1024];
static size_t boot_used;
static int resolving;

static int is_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

/* Bump allocation with a 16-byte size header (for realloc of a boot block). */
static void *boot_alloc(size_t n)
{
    size_t need = 16 + ((n + 15) & ~(size_t)15);
    if (need > sizeof boot - boot_used) return NULL;
    char *p = boot + boot_used;
    boot_used += need;
    memcpy(p, &n, sizeof n);
    return p + 16; /* static storage is zero: fine for calloc */
}

static size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const char *)p - 16, sizeof n);
    return n;
}

/* ---- Recording state (all under `lock`) ---- */

typedef struct slot {
    uintptr_t key; /* 0 empty, 1 tombstone */
    uint64_t id;
} slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fd = -1;
static int forked;  /* set in a forked child: it records nothing */
static int closing; /* after the final flush: write each line at once */
static slot *ids;
static size_t ids_cap, ids_used; /* used counts live keys and tombstones */
static uint64_t next_id = 1, nthreads, last_tid = UINT64_MAX;
static char outbuf[1 << 16];
static size_t out_len;

static __thread int in_rec __attribute__((tls_model("initial-exec")));
static __thread uint64_t my_tid __attribute__((tls_model("initial-exec")));

static void flush_out(void)
{
    size_t off = 0;
    while (off < out_len) {
        ssize_t k = write(fd, outbuf + off, out_len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break; /* disk full or closed: drop the rest rather than hang */
        off += (size_t)k;
    }
    out_len = 0;
}

static void put(const char *line, int len)
{
    if (len <= 0) return;
    if (out_len + (size_t)len > sizeof outbuf) flush_out();
    memcpy(outbuf + out_len, line, (size_t)len);
    out_len += (size_t)len;
    if (closing) flush_out();
}

static size_t hash_ptr(uintptr_t p, size_t cap)
{
    uint64_t x = (uint64_t)p * 0x9e3779b97f4a7c15ull;
    return (size_t)(x >> 20) & (cap - 1);
}

static void table_put(slot *t, size_t cap, uintptr_t key, uint64_t id)
{
    size_t h = hash_ptr(key, cap);
    while (t[h].key > 1)
        h = (h + 1) & (cap - 1);
    t[h].key = key;
    t[h].id = id;
}

/* Grows (or cleans of tombstones) the table when it is half full. 0, or -1 out of memory. */
static int table_reserve(void)
{
    if (2 * (ids_used + 1) <= ids_cap) return 0;
    size_t live = 0;
    for (size_t i = 0; i < ids_cap; i++)
        live += ids[i].key > 1;
    size_t cap = ids_cap ? ids_cap : 1 << 16;
    while (4 * (live + 1) > cap)
        cap *= 2;
    slot *t =
        mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED) return -1;
    for (size_t i = 0; i < ids_cap; i++)
        if (ids[i].key > 1) table_put(t, cap, ids[i].key, ids[i].id);
    if (ids) munmap(ids, ids_cap * sizeof *ids);
    ids = t;
    ids_cap = cap;
    ids_used = live;
    return 0;
}

/* Removes p; returns its id, or 0 when p was not recorded. */
static uint64_t table_take(const void *p)
{
    if (!ids_cap) return 0;
    uintptr_t key = (uintptr_t)p;
    for (size_t h = hash_ptr(key, ids_cap); ids[h].key; h = (h + 1) & (ids_cap - 1))
        if (ids[h].key == key) {
            ids[h].key = 1;
            return ids[h].id;
        }
    return 0;
}

static void thread_mark(void)
{
    if (!my_tid) my_tid = ++nthreads;
    if (my_tid != last_tid) {
        char line[32];
        put(line, snprintf(line, sizeof line, "t %llu\n", (unsigned long long)(my_tid - 1)));
        last_tid = my_tid;
    }
}

/* A new block p: gets an id, and the line "<kind> <id> <a> [<b>]". */
/* Records the free of a block that left behind our back (a libc-internal realloc or free):
 * called when an address we think is live comes back from the allocator. */
static void forget_stale(const void *p)
{
    uint64_t stale = table_take(p);
    if (stale) {
        char line[32];
        thread_mark();
        put(line, snprintf(line, sizeof line, "f %llu\n", (unsigned long long)stale));
    }
}

static void rec_new(char kind, void *p, size_t a, size_t b, int two)
{
    forget_stale(p);
    if (table_reserve() != 0) return;
    uint64_t id = next_id++;
    table_put(ids, ids_cap, (uintptr_t)p, id);
    ids_used++;
    thread_mark();
    char line[96];
    int n =
        two ? snprintf(line, sizeof line, "%c %llu %zu %zu\n", kind, (unsigned long long)id, a, b)
            : snprintf(line, sizeof line, "%c %llu %zu\n", kind, (unsigned long long)id, a);
    put(line, n);
}

/* ---- Set-up and tear-down ---- */

static void atfork_child(void)
{
    forked = 1;
}

static void init(void)
{
    static int done;
    if (done || resolving) return;
    resolving = 1;
    *(void **)&real_malloc = dlsym(RTLD_NEXT, "malloc"); /* POSIX: object to function pointer */
    *(void **)&real_calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **)&real_realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **)&real_free = dlsym(RTLD_NEXT, "free");
    *(void **)&real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    *(void **)&real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    *(void **)&real_memalign = dlsym(RTLD_NEXT, "memalign");
    resolving = 0;
    done = 1;
    const char *path = getenv("ABENCH_TRACE");
    if (!path || !*path) return;
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f < 0) {
        char msg[512];
        int n = snprintf(msg, sizeof msg, "libabench-trace: cannot open ABENCH_TRACE=%s: %s\n",
                         path, strerror(errno));
        if (n > 0) (void)!write(2, msg, (size_t)n);
        return;
    }
    pthread_atfork(NULL, NULL, atfork_child);
    fd = f;
    static const char header[] = "# abench-trace v1 (libabench-trace.so; format: wl_replay.h)\n";
    put(header, (int)sizeof header - 1);
}

__attribute__((constructor)) static void trace_start(void)
{
    init();
}

__attribute__((destructor(101))) static void trace_stop(void)
{
    pthread_mutex_lock(&lock);
    if (fd >= 0) {
        flush_out();
        closing = 1; /* frees from later destructors still reach the file */
    }
    pthread_mutex_unlock(&lock);
}

/* Whether this call is recorded; if so the caller holds the lock and must call end(). */
static int begin(void)
{
    if (fd < 0 || forked || in_rec) return 0;
    in_rec = 1;
    pthread_mutex_lock(&lock);
    return 1;
}

static void end(void)
{
    pthread_mutex_unlock(&lock);
    in_rec = 0;
}

/* ---- The malloc family ---- */

void *malloc(size_t n)
{
    if (!real_malloc) {
        init();
        if (!real_malloc) return boot_alloc(n);
    }
    if (!begin()) return real_malloc(n);
    void *p = real_malloc(n);
    if (p) rec_new('m', p, n, 0, 0);
    end();
    return p;
}

void *calloc(size_t k, size_t n)
{
    if (!real_calloc) {
        init();
        if (!real_calloc) return n && k > SIZE_MAX / n ? NULL : boot_alloc(k * n);
    }
    if (!begin()) return real_calloc(k, n);
    void *p = real_calloc(k, n);
    if (p) rec_new('c', p, k, n, 1);
    end();
    return p;
}

void free(void *p)
{
    if (!p || is_boot(p)) return;
    if (!real_free) init();
    if (!begin()) {
        real_free(p);
        return;
    }
    uint64_t id = table_take(p);
    if (id) {
        char line[32];
        thread_mark();
        put(line, snprintf(line, sizeof line, "f %llu\n", (unsigned long long)id));
    }
    real_free(p);
    end();
}

void *realloc(void *p, size_t n)
{
    if (p && is_boot(p)) {
        void *q = malloc(n);
        if (q) memcpy(q, p, boot_size(p) < n ? boot_size(p) : n);
        return q;
    }
    if (!real_realloc) {
        init();
        if (!real_realloc) return boot_alloc(n);
    }
    if (!p) return malloc(n);
    if (!begin()) return real_realloc(p, n);
    void *q = real_realloc(p, n);
    if (q || n == 0) {
        uint64_t id = table_take(p);
        char line[80];
        if (n == 0) { /* glibc freed p (q is NULL, or a new minimal block) */
            if (id) {
                thread_mark();
                put(line, snprintf(line, sizeof line, "f %llu\n", (unsigned long long)id));
            }
            if (q) rec_new('m', q, 0, 0, 0);
        } else if (id && (forget_stale(q), table_reserve() == 0)) {
            uint64_t nid = next_id++;
            table_put(ids, ids_cap, (uintptr_t)q, nid);
            ids_used++;
            thread_mark();
            put(line, snprintf(line, sizeof line, "r %llu %llu %zu\n", (unsigned long long)id,
                               (unsigned long long)nid, n));
        } else {
            rec_new('m', q, n, 0, 0);
        }
    }
    end();
    return q;
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (!real_posix_memalign) init();
    if (!real_posix_memalign) return ENOMEM;
    if (!begin()) return real_posix_memalign(out, align, n);
    int rc = real_posix_memalign(out, align, n);
    if (rc == 0) rec_new('a', *out, align, n, 1);
    end();
    return rc;
}

void *aligned_alloc(size_t align, size_t n)
{
    if (!real_aligned_alloc) init();
    if (!real_aligned_alloc) return NULL;
    if (!begin()) return real_aligned_alloc(align, n);
    void *p = real_aligned_alloc(align, n);
    if (p) rec_new('a', p, align, n, 1);
    end();
    return p;
}

void *memalign(size_t align, size_t n)
{
    if (!real_memalign) init();
    if (!real_memalign) return NULL;
    if (!begin()) return real_memalign(align, n);
    void *p = real_memalign(align, n);
    if (p) rec_new('a', p, align, n, 1);
    end();
    return p;
}

void *reallocarray(void *p, size_t k, size_t n)
{
    if (n && k > SIZE_MAX / n) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, k * n);
}

void *valloc(size_t n)
{
    return memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return memalign(page, n ? (n + page - 1) & ~(page - 1) : page);
}
