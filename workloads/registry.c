/* registry.c - every workload descriptor, in listing order, and the operation-kind names.
 *
 * Invariant: names are unique; test-only workloads (WL_F_TEST_ONLY) come after all others.
 * A new workload is one line in `all` below (and its extern in wl_list.h or its own header).
 */
#include <string.h>

#include "wl_list.h"
#include "wl_workload.h"
#if __has_include("wl_test_faults.h")
#include "wl_test_faults.h" /* harness: test-crash, test-hang */
#define WL_HAVE_TEST_FAULTS 1
#endif

const char *const wl_op_names[WL_OP_COUNT] = {
#define WL_X(id, str) [WL_OP_##id] = str,
    WL_OPS(WL_X)
#undef WL_X
};

/* One workload per line, in listing order. */
/* clang-format off */
static const wl_workload *const all[] = {
    &wl_churn,
    &wl_larson,
    &wl_prodcons,
    &wl_threadchurn,
    &wl_fragment,
    &wl_burst,
    &wl_large,
    &wl_realloc_workload,
    &wl_tiny,
    &wl_cachescratch,
    &wl_replay,
    &wl_binarytrees,
    &wl_churn_gc,
    &wl_burst_gc,
    &wl_request,
    &wl_memlimit_gc,
    /* ---- further workloads: one line each here, before the test-only ones, with the
     * extern in wl_list.h or in their own header ---- */
    /* ---- test-only workloads (WL_F_TEST_ONLY) last ---- */
#ifdef WL_HAVE_TEST_FAULTS
    &wl_test_crash,
    &wl_test_hang,
#endif
    NULL,
};
/* clang-format on */

const wl_workload *const *wl_all(void)
{
    return all;
}

const wl_workload *wl_find(const char *name)
{
    for (const wl_workload *const *w = all; *w; w++)
        if (strcmp((*w)->name, name) == 0) return *w;
    return NULL;
}
