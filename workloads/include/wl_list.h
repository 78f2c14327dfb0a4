/* wl_list.h - the workload descriptors defined in workloads/ (one file each), for registry.c
 * and the tests. Test-only workloads of the harness (test-crash, test-hang) are declared in
 * wl_test_faults.h.
 */
#ifndef WL_LIST_H
#define WL_LIST_H

#include "wl_workload.h"

extern const wl_workload wl_churn;            /* churn.c */
extern const wl_workload wl_larson;           /* larson.c */
extern const wl_workload wl_prodcons;         /* prodcons.c */
extern const wl_workload wl_threadchurn;      /* threadchurn.c */
extern const wl_workload wl_fragment;         /* fragment.c */
extern const wl_workload wl_burst;            /* burst.c */
extern const wl_workload wl_large;            /* large.c */
extern const wl_workload wl_realloc_workload; /* realloc.c (wl_realloc is the wrapper) */
extern const wl_workload wl_tiny;             /* tiny.c */
extern const wl_workload wl_cachescratch;     /* cachescratch.c */
extern const wl_workload wl_replay;           /* replay.c */

/* Written by other engineers (GC families, request-scoped), registered here. */
extern const wl_workload wl_binarytrees; /* binarytrees.c */
extern const wl_workload wl_churn_gc;    /* churn_gc.c */
extern const wl_workload wl_burst_gc;    /* burst_gc.c */
extern const wl_workload wl_request;     /* request.c */
extern const wl_workload wl_memlimit_gc; /* memlimit_gc.c */

#endif /* WL_LIST_H */
