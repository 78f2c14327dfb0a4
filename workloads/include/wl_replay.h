/* wl_replay.h - the abench trace format and its loader (workloads/replay.c).
 *
 * A trace is text, one operation per line (fields separated by spaces or tabs):
 *   m <id> <size>            malloc(size)               -> block <id>
 *   c <id> <n> <size>        calloc(n, size)            -> block <id>
 *   a <id> <align> <size>    aligned allocation (posix_memalign / aligned_alloc / memalign)
 *   r <id> <newid> <size>    realloc(block <id>, size)  -> block <newid> (newid may equal id;
 *                            size > 0: a realloc to 0 is recorded as `f <id>`)
 *   f <id>                   free(block <id>)
 *   t <thread>               the following operations ran on program thread <thread>
 *   # ...                    comment; blank lines are ignored
 * Ids and numbers are unsigned decimal (ids < 2^64). An id names a live block from its
 * allocation to its free; after the free it may be reused. align is a power of two.
 * libabench-trace.so (workloads/trace/) writes this format with a "# abench-trace v1" header.
 *
 * Replay, mode=serial (the default): every runner thread runs all operations in file order
 * (`t` lines are ignored), then frees the blocks the program never freed, so live bytes end
 * at 0. mode=threads: the runner threads share one replay of the trace; the operations of trace
 * thread k (numbered by first appearance) run on runner thread k % nthreads, each waiting only
 * for the earlier operations on the same ids, so blocks are allocated and freed on different
 * threads as in the recorded program; leftovers are freed by the thread that allocated them.
 */
#ifndef WL_REPLAY_H
#define WL_REPLAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct wl_trace_op {
    char kind;       /* 'm' 'c' 'a' 'r' 'f' */
    uint32_t slot;   /* dense block index of <id> */
    uint32_t slot2;  /* r: dense index of <newid> */
    uint32_t thread; /* dense index of the trace thread it ran on (order of first `t` line) */
    uint32_t gen;    /* operations on `slot` before this one (mode=threads waits for them) */
    uint32_t gen2;   /* r with slot2 != slot: operations on `slot2` before this one */
    uint64_t size;   /* m/a/r: bytes; c: element size */
    uint64_t arg;    /* c: element count; a: alignment */
} wl_trace_op;

/* Invariants: every op's slots < nslots; replaying ops in order is valid (no double free, no
 * use of a dead id); live bytes after the last op == end_live, and never exceed peak_live. */
typedef struct wl_trace {
    wl_trace_op *ops;
    size_t nops, cap;
    size_t nslots;
    uint64_t nthreads; /* distinct `t` ids seen (0 when none) */
    int64_t end_live, peak_live;
    size_t end_blocks; /* blocks still live after the last op */
    uint32_t *owner;   /* per slot live at the end: the trace thread that allocated it */
    size_t owner_cap;
} wl_trace;

/* Loads and validates a trace file. 0, or -1 with a one-line message "<path>:<line>: <what>"
 * (or "<path>: <errno text>") in err. */
int wl_trace_load(const char *path, wl_trace *tr, char *err, size_t errlen);
void wl_trace_free(wl_trace *tr);

#endif /* WL_REPLAY_H */
