/* wl_driver.h - a tiny in-test workload driver (the real runner is harness/runner/): parses
 * parameters, runs setup, starts nthreads threads (thread_init, thread_main, thread_exit),
 * joins them, runs teardown and sums what the threads report.
 */
#ifndef WL_DRIVER_H
#define WL_DRIVER_H

#include <stdint.h>

#include "wl_workload.h"

typedef struct wl_drive_result {
    int rc; /* 0, or -1 when parameters or setup were rejected (err says why) */
    char err[512];
    uint64_t ops;     /* sum over threads */
    int64_t live_end; /* sum of live bytes after teardown */
    uint64_t hash;    /* combined op_hash of the threads, in slot order */
} wl_drive_result;

/* The backend the tests run against (ab_alloc_sys, or the glibc test double). */
const ab_allocator *wl_test_backend(void);

int wl_drive(const wl_workload *w, unsigned nthreads, uint64_t seed, const char *const *kv, int n,
             wl_drive_result *res);
/* The same on a given backend. */
int wl_drive_on(const ab_allocator *a, const wl_workload *w, unsigned nthreads, uint64_t seed,
                const char *const *kv, int n, wl_drive_result *res);

/* Events recorded by the measurement test double (NULL-terminated names, in order), or NULL
 * when the tests link the real ab_measure. Cleared by wl_drive(). */
const char *const *wl_test_events(void);
/* 1 and *out = the sum of what the workload reported with wl_metric(name) (measurement test
 * double), 0 when it reported nothing under that name or the tests link the real ab_measure.
 * Cleared by wl_drive(). */
int wl_test_metric(const char *name, double *out);

#endif /* WL_DRIVER_H */
