/* hn_runner.h - the contract between the abench CLI and the runner executables
 * (bin/abench-runner-<backend>): exit codes and command-line flags. Constants only, so the CLI
 * (which links no allocator) and the runners share them.
 *
 * Runner command lines:
 *   --info                 JSON {name, version, caps, abi, malloc_check} on stdout
 *   --calibrate            JSON timer calibration on stdout
 *   --list-workloads       JSON array of workload descriptors (test-only ones included)
 *   --workload W [--threads N] [--param k=v]... [--seed S] [--out CELLDIR] [--check]
 *       [--sample-mean OPS] [--sampler-ms MS] [--settle-ms MS]
 *                          one cell; --check validates and prints the resolved parameters
 *                          without running; without --out, result.json goes to stdout only
 */
#ifndef HN_RUNNER_H
#define HN_RUNNER_H

enum hn_runner_exit {
    HN_RUNNER_OK = 0,
    HN_RUNNER_ERROR = 1,   /* a runtime failure: init, setup or output failed */
    HN_RUNNER_USAGE = 2,   /* bad flag, unknown workload, bad parameter value */
    HN_RUNNER_REFUSED = 3, /* check_process_malloc() failed: the process malloc is not ours */
    HN_RUNNER_NA = 4,      /* the backend lacks a capability the workload needs ("n/a") */
};

#define HN_RUNNER_PREFIX "abench-runner-"

#endif /* HN_RUNNER_H */
