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

/* One record of a loaded trace: 16 bytes, so the loaded form of a trace is about as large as
 * its text (a line is 10-20 bytes). A `t` record marks a change of trace thread; every other
 * record is one operation. Sizes are below 2^41 (the loader rejects larger), so 48 bits hold
 * them. */
typedef struct wl_trace_op {
    uint32_t slot;      /* m c a r f: dense block index of <id> */
    uint32_t aux;       /* r: slot of <newid>; c: index into wl_trace.counts; t: thread index */
    uint32_t size_lo;   /* m a r: bytes; c: element size (low 32 bits) */
    uint16_t size_hi;   /* the same, bits 32..47 */
    uint8_t kind;       /* 'm' 'c' 'a' 'r' 'f', or 't' */
    uint8_t align_log2; /* a: log2 of the alignment */
} wl_trace_op;

_Static_assert(sizeof(wl_trace_op) == 16, "a trace record is 16 bytes");

static inline uint64_t wl_trace_op_size(const wl_trace_op *op)
{
    return (uint64_t)op->size_lo | (uint64_t)op->size_hi << 32;
}

/* Invariants: every record's slots < nslots; replaying the records in order is valid (no
 * double free, no use of a dead id); live bytes after the last op == end_live, and never
 * exceed peak_live. nops counts the operations (records other than `t`); a `t` record is
 * present only where the thread changes (operations before the first one ran on thread 0).
 * All memory is wl_meta_alloc'd; the loader's temporary tables are unmapped before it
 * returns. */
typedef struct wl_trace {
    wl_trace_op *ops;
    size_t nrec, nops, ops_bytes; /* records, operations among them, bytes mapped for ops */
    uint64_t *counts;             /* c: element counts, indexed by wl_trace_op.aux */
    size_t ncounts, counts_cap;
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
