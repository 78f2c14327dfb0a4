/* matrix.c - the run matrix of `abench run`: comma lists, the default suite, variants (a
 * workload with one combination of --param values, or one suite line), their validation by a
 * runner (`--check`), and the cell order.
 *
 * Invariants: cells are planned reps outermost and allocators innermost, so cells of different
 * allocators interleave (A B C A B C); a variant's `params` holds every parameter as the runner
 * resolved it (defaults included) before any cell runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hn.h"
#include "hn_run.h"
#include "runner/hn_runner.h"

/* ---- The default suite: one line per workload family (short cells, 2 cores) ----
 * A workload missing from this build is skipped with a note; a new family is one line. The GC
 * lines (churn-gc, burst-gc, memlimit-gc, request variant=gc, binarytrees) also run goalloc-stw,
 * in the default --alloc list: a collected-only variant, n/a without running on the others. */
typedef struct suite_line {
    const char *workload;
    const char *params; /* space-separated name=value */
    const char *threads;
} suite_line;

static const suite_line default_suite[] = {
    {"churn", "ops=2000000", "1,2"},
    {"churn", "dist=golike ops=1000000", "1"},
    {"larson", "steps=100000 rounds=4", "2"},
    {"prodcons", "batches=200", "2"},
    {"threadchurn", "rounds=50", "2"},
    {"fragment", "count=100000", "1"},
    {"fragment", "pattern=robson budget=4M rounds=1", "1"},
    {"burst", "live=4M steady_ops=100000 spike_ops=100000 cycles=1 hold_ms=1200", "1"},
    {"large", "steps=20", "1"},
    {"realloc", "steps=30000 max=256K", "1"},
    {"tiny", "ops=2000000", "1"},
    {"cachescratch", "iterations=20000", "2"},
    {"request", "requests=5000", "1"},
    {"request", "variant=arena requests=5000", "1"},
    {"request", "variant=gc requests=5000", "1"},
    {"binarytrees", "depth=14", "1"},
    {"churn-gc", "ops=500000", "1"},
    {"burst-gc", "steady=4MiB phase_ops=100000", "1"},
    {"memlimit-gc", "live=16MiB memlimit=25MiB ops=1000000", "1"},
    {NULL, NULL, NULL},
};

/* The quick suite: a smoke of the main families in well under a minute on every backend
 * (perf gates, first looks). */
static const suite_line quick_suite[] = {
    {"churn", "ops=300000", "1"},
    {"larson", "steps=20000 rounds=2", "2"},
    {"burst", "live=1M steady_ops=20000 spike_ops=20000 cycles=1 hold_ms=100", "1"},
    {"request", "requests=1000", "1"},
    {"churn-gc", "ops=100000", "1"},
    {NULL, NULL, NULL},
};

static const suite_line *suite_lines(const hn_run_opts *o)
{
    return o->suite && strcmp(o->suite, "quick") == 0 ? quick_suite : default_suite;
}

/* ---- Lists and numbers ---- */

/* Splits a comma list in place into out[]; returns the count or -1 (too many / empty item). */
int hn_split_list(char *s, char **out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max) return -1;
        out[n++] = tok;
    }
    return n;
}

int hn_parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                  unsigned long long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int hn_parse_threads(char *s, unsigned *out, int *n)
{
    char *items[HN_MAX_LIST];
    int k = hn_split_list(s, items, HN_MAX_LIST);
    if (k <= 0) return -1;
    for (int i = 0; i < k; i++) {
        unsigned long long v;
        if (hn_parse_uint(items[i], 1, 1024, &v)) return -1;
        out[i] = (unsigned)v;
    }
    *n = k;
    return 0;
}

static int workload_has_param(json_t *w, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(w, "params"), i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "name")), name)) return 1;
    }
    return 0;
}

static char *kv_dup(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s=%s", name, value);
    return s;
}

/* Sets name=value in v (replacing an earlier value of the same name). */
static void kv_set(hn_variant *v, const char *name, const char *value)
{
    size_t ln = strlen(name);
    for (int i = 0; i < v->nkv; i++)
        if (!strncmp(v->kv[i], name, ln) && v->kv[i][ln] == '=') {
            free(v->kv[i]);
            v->kv[i] = kv_dup(name, value);
            return;
        }
    if (v->nkv < HN_MAX_KV) v->kv[v->nkv++] = kv_dup(name, value);
}

/* Appends to vs[] every combination of the --param values that apply to workload w, on top of
 * the base "k=v" list. Returns the new count, or -1 when there are too many variants. */
static int expand(const hn_run_opts *o, json_t *w, const char *base, const unsigned *threads,
                  int nthreads, hn_variant *vs, int nv, int maxv)
{
    int idx[HN_MAX_KV] = {0}, app[HN_MAX_KV], napp = 0;
    for (int i = 0; i < o->nparams; i++)
        if (workload_has_param(w, o->params[i].name)) app[napp++] = i;
    for (;;) {
        if (nv == maxv) return -1;
        hn_variant *v = &vs[nv++];
        memset(v, 0, sizeof *v);
        v->workload = json_string_value(json_object_get(w, "name"));
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", base ? base : "");
        for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
            char *eq = strchr(tok, '=');
            if (!eq) continue;
            *eq = '\0';
            kv_set(v, tok, eq + 1);
        }
        for (int k = 0; k < napp; k++)
            kv_set(v, o->params[app[k]].name, o->params[app[k]].values[idx[k]]);
        memcpy(v->threads, threads, sizeof(unsigned) * (size_t)nthreads);
        v->nthreads = nthreads;
        int k = 0; /* odometer over the applicable parameters */
        for (; k < napp; k++) {
            if (++idx[k] < o->params[app[k]].nvalues) break;
            idx[k] = 0;
        }
        if (k == napp) return nv;
    }
}

int hn_variants_build(hn_run_opts *o, json_t *cat, hn_variant *vs, int maxv)
{
    int nv = 0;
    static const unsigned one[] = {1};
    for (int i = 0; i < o->nparams; i++) {
        int used = 0;
        if (o->suite) {
            const suite_line *suite = suite_lines(o);
            for (int k = 0; suite[k].workload; k++) {
                json_t *w = hn_workload_find(cat, suite[k].workload);
                used |= w && workload_has_param(w, o->params[i].name);
            }
        } else {
            for (int k = 0; k < o->nworkloads; k++) {
                json_t *w = hn_workload_find(cat, o->workloads[k]);
                used |= w && workload_has_param(w, o->params[i].name);
            }
        }
        if (!used) {
            hn_error("run",
                     "unknown parameter '%s' (no selected workload has it; see abench "
                     "list -v)",
                     o->params[i].name);
            return -1;
        }
    }
    if (o->suite) {
        const suite_line *suite = suite_lines(o);
        for (int k = 0; suite[k].workload; k++) {
            json_t *w = hn_workload_find(cat, suite[k].workload);
            if (!w) {
                fprintf(stderr, "abench run: suite: workload '%s' is not in this build, skipped\n",
                        suite[k].workload);
                continue;
            }
            unsigned th[HN_MAX_LIST];
            int nth = o->nthreads;
            memcpy(th, o->threads, sizeof th);
            if (!nth) {
                char buf[128];
                snprintf(buf, sizeof buf, "%s", suite[k].threads);
                if (hn_parse_threads(buf, th, &nth)) return -1;
            }
            nv = expand(o, w, suite[k].params, th, nth, vs, nv, maxv);
            if (nv < 0) return hn_error("run", "too many variants (at most %d)", maxv), -1;
        }
        return nv;
    }
    for (int k = 0; k < o->nworkloads; k++) {
        json_t *w = hn_workload_find(cat, o->workloads[k]);
        if (!w) {
            hn_error("run", "unknown workload '%s' (see abench list)", o->workloads[k]);
            return -1;
        }
        nv = expand(o, w, NULL, o->nthreads ? o->threads : one, o->nthreads ? o->nthreads : 1, vs,
                    nv, maxv);
        if (nv < 0) return hn_error("run", "too many variants (at most %d)", maxv), -1;
    }
    return nv;
}

/* Asks alloc's runner to validate a variant (`--check`): its resolved parameters, or NULL with
 * the runner's message in err. */
static json_t *variant_resolve(const char *alloc, const hn_variant *v, char *err, size_t errlen)
{
    char path[4096], th[16];
    char *argv[8 + 2 * HN_MAX_KV];
    int n = 0;
    hn_runner_path(alloc, path, sizeof path);
    snprintf(th, sizeof th, "%u", v->threads[0]);
    argv[n++] = path;
    argv[n++] = "--check";
    argv[n++] = "--workload";
    argv[n++] = (char *)v->workload;
    argv[n++] = "--threads";
    argv[n++] = th;
    for (int i = 0; i < v->nkv; i++) {
        argv[n++] = "--param";
        argv[n++] = v->kv[i];
    }
    argv[n] = NULL;
    char *out = NULL;
    json_t *params = NULL;
    int rc = hn_capture_env(argv, hn_backend_env(alloc), 120, &out, err, errlen);
    if (rc == 0) {
        json_t *j = json_loads(out, 0, NULL);
        params = json_incref(json_object_get(j, "params"));
        json_decref(j);
    }
    free(out);
    return params;
}

/* Stores the resolved parameters (variant_resolve); -1 after a one-line error. */
int hn_variant_check(const char *alloc, hn_variant *v)
{
    char err[512];
    v->params = variant_resolve(alloc, v, err, sizeof err);
    if (v->params) return 0;
    /* The runner's message names the parameter; drop its program prefix. */
    const char *msg = err;
    if (!strncmp(msg, HN_RUNNER_PREFIX, strlen(HN_RUNNER_PREFIX)) && strstr(msg, ": "))
        msg = strstr(msg, ": ") + 2;
    hn_error("run", "workload '%s': %s", v->workload, msg[0] ? msg : "parameter check failed");
    return -1;
}

/* A cell collects when its resolved parameters say so: mode=gc (the GC workloads) or
 * variant=gc (request); the report's rule for GC cells is the same (hn_rep_is_gc_cell). */
static int params_collected(json_t *params)
{
    const char *m = json_string_value(json_object_get(params, "mode"));
    const char *r = json_string_value(json_object_get(params, "variant"));
    return (m && !strcmp(m, "gc")) || (r && !strcmp(r, "gc"));
}

void hn_variant_mark_uncollected(const hn_run_opts *o, hn_variant *v)
{
    for (int a = 0; a < o->nallocs; a++) {
        const hn_backend_variant *bv = hn_backend_variant_of(o->allocs[a]);
        char err[512];
        v->uncollected[a] = 0;
        if (!bv || !bv->collected_only) continue;
        /* a variant this backend refuses runs anyway: its cells record the reason */
        json_t *p = variant_resolve(o->allocs[a], v, err, sizeof err);
        v->uncollected[a] = p && !params_collected(p);
        json_decref(p);
    }
}

/* ---- Cell order ---- */

unsigned hn_matrix_plan(const hn_run_opts *o, const hn_variant *vs, int nv, hn_cell *cells,
                        unsigned max)
{
    unsigned n = 0;
    for (unsigned r = 0; r < o->warmup + o->reps; r++) {
        int warm = r < o->warmup;
        unsigned rep = warm ? r : r - o->warmup;
        for (int vi = 0; vi < nv; vi++)
            for (int ti = 0; ti < vs[vi].nthreads; ti++)
                for (int ai = 0; ai < o->nallocs; ai++) {
                    if (n == max) return n;
                    cells[n] = (hn_cell){.idx = n,
                                         .rep = rep,
                                         .threads = vs[vi].threads[ti],
                                         .warmup = warm,
                                         .alloc = ai,
                                         .variant = vi};
                    n++;
                }
    }
    return n;
}
