/* hn_run.h - cross-file declarations of the run side of the abench CLI (`hn_` names), grouped
 * by the file that defines them: child processes (spawn.c), runners and their catalogue
 * (runners.c), host facts (sysinfo.c) and result files (results_write.c). The results schema
 * these files write is results/README.md.
 */
#ifndef HN_RUN_H
#define HN_RUN_H

#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>

#include <jansson.h>

/* ---- spawn.c: child processes ---- */

typedef enum hn_proc_end {
    HN_PROC_EXITED = 0,      /* exit_code is valid */
    HN_PROC_SIGNALED = 1,    /* sig is valid */
    HN_PROC_TIMEOUT = 2,     /* killed by us at the timeout */
    HN_PROC_INTERRUPTED = 3, /* killed by us because *stop became non-zero */
    HN_PROC_SPAWN_FAILED = 4,
} hn_proc_end;

typedef struct hn_proc_result {
    hn_proc_end end;
    int exit_code, sig;
    struct rusage ru; /* from wait4 */
    double wall_s;
} hn_proc_result;

/* Runs argv[0] (a path) in its own process group with stdout and stderr sent to out_path
 * (NULL: /dev/null). After timeout_s (<= 0: none) the child gets SIGTERM, then SIGKILL after a
 * one-second grace; the same when *stop becomes non-zero. Returns 0, or -1 when it could not
 * start the child (r->end == HN_PROC_SPAWN_FAILED). */
int hn_spawn(char *const argv[], const char *out_path, double timeout_s,
             volatile sig_atomic_t *stop, hn_proc_result *r);
/* hn_spawn with env's "NAME=VALUE" settings (NULL-terminated; NULL: none) added to the
 * child's environment. */
int hn_spawn_env(char *const argv[], char *const env[], const char *out_path, double timeout_s,
                 volatile sig_atomic_t *stop, hn_proc_result *r);

/* Runs argv and collects its stdout (NUL-terminated, caller frees) and the last non-empty line
 * of its stderr (in errline). Returns the exit code, or -1 when the child could not be started
 * or died by a signal or timed out (errline says which). */
int hn_capture(char *const argv[], double timeout_s, char **out, char *errline, size_t errlen);
/* hn_capture with env's settings added to the child's environment (as hn_spawn_env). */
int hn_capture_env(char *const argv[], char *const env[], double timeout_s, char **out,
                   char *errline, size_t errlen);

/* ---- runners.c: the runner executables beside abench ---- */

/* The backends abench knows, NULL-terminated (test-only `null` excluded), variants included. */
extern const char *const hn_known_backends[];

/* A backend variant (runners.c): `name` runs backend `base`'s runner with var=value appended
 * to the environment's var. collected_only: the variant differs from its base only where the
 * backend collects; cells in which it does not are n/a, without running. */
typedef struct hn_backend_variant {
    const char *name, *base, *var, *value, *summary;
    int collected_only;
} hn_backend_variant;
/* The variant called name, or NULL when name is a backend of its own. */
const hn_backend_variant *hn_backend_variant_of(const char *name);
/* The value of the variant's variable as its children get it (the caller's own value, then
 * the variant's setting) into buf; NULL when name is not a variant. */
const char *hn_backend_setting(const char *name, char *buf, size_t len);
/* The environment additions of backend name's children ("VAR=VALUE", NULL-terminated), for
 * hn_spawn_env / hn_capture_env; NULL when it has none. */
char *const *hn_backend_env(const char *name);
/* bin/abench-runner-<name> (a variant's: its base backend's) into buf; 1 when it exists and
 * is executable. */
int hn_runner_path(const char *name, char *buf, size_t len);
/* `--info` of a backend's runner as a JSON object, or NULL with the reason in err. */
json_t *hn_runner_info(const char *name, char *err, size_t errlen);
/* -1 after a one-line error when backend `name`'s runner reports a malformed setting in the
 * environment that the allocator ignored (--info's config_error, e.g. GOALLOC_DEBUG=bogus);
 * 0 otherwise (also when the backend has no runner here). */
int hn_backend_config_check(const char *cmd, const char *name);
/* The workload catalogue (`--list-workloads`) from the first runner that exists among
 * prefer[] (may be NULL) and then the known backends. NULL with the reason in err. */
json_t *hn_workloads_load(const char *const *prefer, char *err, size_t errlen);
/* The catalogue entry of workload `name`, or NULL. */
json_t *hn_workload_find(json_t *catalogue, const char *name);
/* Joins a JSON array of strings (caps) with '+' into buf ("-" when empty). */
const char *hn_caps_text(json_t *caps, char *buf, size_t len);

/* ---- sysinfo.c: what meta.json says about the machine and build ---- */

/* Adds host, cpu_model, ncpu, kernel, thp, env, git_commit, git_dirty, compiler, build_type,
 * build_flags, tool and tool_version to meta. */
void hn_sysinfo_fill(json_t *meta);
/* Short host name (for the default run folder name). */
const char *hn_hostname(void);
/* ISO 8601 UTC time of now into buf. */
const char *hn_iso_now(char *buf, size_t len);

/* ---- results_write.c: the files of results/README.md ---- */

/* Writes path atomically (temporary file in the same folder, then rename). 0 or -1. */
int hn_write_atomic(const char *path, const char *data, size_t len);
/* meta.json, pretty-printed. */
int hn_write_meta(const char *run_dir, json_t *meta);
/* runs.jsonl and runs.csv from the rows (a JSON array of cell objects), both rewritten whole.
 * 0 or -1. */
int hn_write_runs(const char *run_dir, json_t *rows);
/* mkdir -p. 0 or -1 (errno set). */
int hn_mkdir_p(const char *dir);

/* ---- run.c, matrix.c, summary.c: the run matrix ---- */

#define HN_MAX_LIST 64
#define HN_MAX_KV 24
#define HN_MAX_CELLS 100000 /* cells in one run */

/* One workload with one set of given parameters and its thread counts. Invariant once checked:
 * params holds every parameter of the workload, resolved by a runner. */
typedef struct hn_variant {
    const char *workload;
    char *kv[HN_MAX_KV]; /* "name=value" given for this variant */
    int nkv;
    unsigned threads[HN_MAX_LIST];
    int nthreads;
    json_t *params; /* resolved by the runner's --check: every parameter, name -> text */
    /* per --alloc index: 1 when that backend is a collected-only variant
     * (hn_backend_variant) and does not collect in this variant: its cells are n/a */
    unsigned char uncollected[HN_MAX_LIST];
} hn_variant;

/* `abench run`'s flags, as parsed (list items point into argv). */
typedef struct hn_run_opts {
    char *allocs[HN_MAX_LIST];
    int nallocs;
    char *workloads[HN_MAX_LIST];
    int nworkloads;
    unsigned threads[HN_MAX_LIST];
    int nthreads;
    struct {
        char name[64];
        char *values[HN_MAX_LIST];
        int nvalues;
    } params[HN_MAX_KV];
    int nparams;
    unsigned reps, warmup; /* measured repetitions; unrecorded ones run before them */
    unsigned long long seed;
    double timeout;
    const char *out, *label, *suite, *baseline;
    int report, dry_run;
    int instructions; /* run cells under callgrind, record instr_per_op */
    const char *sample_mean, *sampler_ms, *settle_ms; /* passed through to runners */
    const char *valgrind; /* path of valgrind when instructions is set */
} hn_run_opts;

/* One cell: indices into hn_run_opts.allocs and the variants; idx is its run-order number. */
typedef struct hn_cell {
    unsigned idx, rep, threads;
    int warmup; /* an unrecorded warm-up repetition (rep counts the warm-ups apart) */
    int alloc, variant;
} hn_cell;

/* matrix.c */
/* Splits a comma list in place into out[]; returns the count, or -1 (too many items). */
int hn_split_list(char *s, char **out, int max);
int hn_parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                  unsigned long long *out);
/* "1,2,4" -> out[]; each 1..1024. 0 or -1. */
int hn_parse_threads(char *s, unsigned *out, int *n);
/* The variants of --workload x --param (or of --suite); -1 after a one-line error. */
int hn_variants_build(hn_run_opts *o, json_t *catalogue, hn_variant *vs, int maxv);
/* Validates v with `<runner of alloc> --check` and fills v->params; -1 after a one-line error. */
int hn_variant_check(const char *alloc, hn_variant *v);
/* Fills v->uncollected, asking each collected-only backend variant of --alloc how it resolves
 * v (`--check`; a variant it refuses is left to run and record why). */
void hn_variant_mark_uncollected(const hn_run_opts *o, hn_variant *v);
/* Cells in run order (warm-up repetitions first, then the measured ones; reps outermost,
 * allocators innermost); returns how many. */
unsigned hn_matrix_plan(const hn_run_opts *o, const hn_variant *vs, int nv, hn_cell *cells,
                        unsigned max);

/* summary.c */
void hn_run_summary(const hn_run_opts *o, const hn_variant *vs, int nv, const hn_cell *cells,
                    json_t *const *rows, unsigned ncells);

#endif /* HN_RUN_H */
