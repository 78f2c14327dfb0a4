/* binarytrees.c - workload `binarytrees`: the classic GC benchmark, collected or manual.
 *
 * Per thread: a stretch tree of depth max+1 built, checked and dropped; a long-lived tree of
 * depth max kept to the end; then for d = 4, 6, ..., max, 2^(max - d + 4) trees of depth d
 * built, checked and dropped. Trees are built top-down and every node is stored into its
 * parent (or a root slot) before its children are allocated, so in GC mode the tree under
 * construction is always reachable from the registered roots. One op = one node allocated.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wl_gcmode.h"

enum { P_DEPTH, P_MODE, P_N };
enum { MIN_DEPTH = 4 };

static const wl_param_def bt_params[P_N] = {
    [P_DEPTH] = {"depth", WL_P_INT, "16", "depth of the largest trees", NULL, MIN_DEPTH + 2, 24},
    [P_MODE] = WL_GCMODE_PARAM,
};

typedef struct node {
    struct node *left, *right;
} node;

typedef struct bt_state {
    int gc;
    void **roots; /* two slots per thread: [2 id] long-lived tree, [2 id + 1] working tree */
} bt_state;

static uint64_t make_tree(wl_thread *t, int gc, void **dest, int depth)
{
    node *n = wl_gcm_alloc(t, gc, sizeof(node), 1);
    if (!n) {
        fprintf(stderr, "binarytrees: out of memory\n");
        abort();
    }
    wl_gcm_store(t, gc, dest, n);
    if (depth == 0) return 1;
    return 1 + make_tree(t, gc, (void **)&n->left, depth - 1) +
           make_tree(t, gc, (void **)&n->right, depth - 1);
}

static uint64_t check_tree(const node *n)
{
    return n ? 1 + check_tree(n->left) + check_tree(n->right) : 0;
}

static void drop_tree(wl_thread *t, int gc, void **slot, uint64_t nodes)
{
    node *n = *slot;
    wl_gcm_store(t, gc, slot, NULL);
    if (gc) {
        wl_gc_drop(t, nodes * sizeof(node));
        return;
    }
    /* Manual mode: free depth-first with an explicit stack of at most depth + 1 pending
     * right subtrees per level (the tree is complete, so 64 entries are plenty). */
    node *stack[64];
    int sp = 0;
    while (n || sp) {
        if (!n) n = stack[--sp];
        node *l = n->left, *r = n->right;
        wl_free(t, n, sizeof(node));
        if (r) stack[sp++] = r;
        n = l;
    }
}

static void bt_round(wl_thread *t, int gc, void **slot, int depth, uint64_t *sink)
{
    uint64_t n = make_tree(t, gc, slot, depth);
    *sink += check_tree(*slot);
    drop_tree(t, gc, slot, n);
    wl_count_ops(t, n);
    wl_hash_op(t, 7, n);
}

static int bt_setup(wl_run *run, char *err, size_t errlen)
{
    int rc = wl_gcmode_resolve(run, P_MODE, err, errlen);
    if (rc) return rc;
    bt_state *st = run->a->calloc(1, sizeof *st);
    if (!st) return snprintf(err, errlen, "binarytrees: out of memory"), -1;
    st->gc = run->p[P_MODE].i == WL_GCMODE_GC;
    st->roots = wl_gcm_roots_new(run, st->gc, 2 * (size_t)run->nthreads);
    run->state = st;
    if (!st->roots) return snprintf(err, errlen, "binarytrees: cannot register roots"), -1;
    return 0;
}

static void bt_thread(wl_thread *t)
{
    bt_state *st = t->run->state;
    int max = (int)t->run->p[P_DEPTH].i, gc = st->gc;
    void **long_slot = &st->roots[2 * t->id], **work = &st->roots[2 * t->id + 1];
    uint64_t sink = 0;
    bt_round(t, gc, work, max + 1, &sink); /* stretch */
    uint64_t long_nodes = make_tree(t, gc, long_slot, max);
    wl_count_ops(t, long_nodes);
    for (int d = MIN_DEPTH; d <= max; d += 2)
        for (uint64_t i = 0, iters = 1ull << (max - d + MIN_DEPTH); i < iters; i++)
            bt_round(t, gc, work, d, &sink);
    sink += check_tree(*long_slot);
    drop_tree(t, gc, long_slot, long_nodes);
    wl_hash_op(t, 8, sink);
}

static void bt_teardown(wl_run *run)
{
    bt_state *st = run->state;
    if (!st) return;
    wl_gcm_roots_free(run, st->gc, st->roots, 2 * (size_t)run->nthreads);
    run->a->free(st);
    run->state = NULL;
}

const wl_workload wl_binarytrees = {
    .name = "binarytrees",
    .summary = "binary-trees: GC throughput, or malloc/free of whole trees in manual mode",
    .description =
        "The classic binary-trees benchmark per thread: a stretch tree, one long-lived tree of "
        "the full depth, and many short-lived trees of growing depth, each built, checked and "
        "dropped. On GC backends (mode=gc) trees are dropped for the collector; elsewhere "
        "(mode=manual) every node is freed explicitly. Stresses 16-byte allocation rate and "
        "collector throughput; one op is one node.",
    .params = bt_params,
    .nparams = P_N,
    .setup = bt_setup,
    .thread_main = bt_thread,
    .teardown = bt_teardown,
};
