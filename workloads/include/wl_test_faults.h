/* wl_test_faults.h - test-only workloads that misbehave on purpose (workloads/test_faults.c):
 * they let the harness tests check that a crashing or hanging cell is recorded and the rest
 * of a run matrix carries on. Flagged WL_F_TEST_ONLY: never in the default suite or listings.
 */
#ifndef WL_TEST_FAULTS_H
#define WL_TEST_FAULTS_H

#include "wl_workload.h"

extern const wl_workload wl_test_crash, wl_test_hang;

#endif /* WL_TEST_FAULTS_H */
