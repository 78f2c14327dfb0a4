/* runners.c - the runner executables beside abench (bin/abench-runner-<backend>): where they
 * are, what each says about itself (--info), and the workload catalogue (--list-workloads).
 *
 * The CLI links no allocator and no workload code: everything it knows about backends and
 * workloads comes from asking a runner, so `abench` can never disagree with what runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hn.h"
#include "hn_run.h"
#include "runner/hn_runner.h"

const char *const hn_known_backends[] = {"sys",     "jemalloc",   "mimalloc", "tcmalloc", "boehm",
                                         "goalloc", "go-runtime", "overhead", NULL};

int hn_runner_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s%s", hn_bindir(), HN_RUNNER_PREFIX, name);
    return access(buf, X_OK) == 0;
}

/* Runs one runner with the given flags and parses its stdout as JSON. */
static json_t *ask(const char *name, const char *flag, char *err, size_t errlen)
{
    char path[4096], line[512];
    if (!hn_runner_path(name, path, sizeof path)) {
        snprintf(err, errlen, "no runner %s%s in %s", HN_RUNNER_PREFIX, name, hn_bindir());
        return NULL;
    }
    char *argv[] = {path, (char *)flag, NULL}, *out = NULL;
    int rc = hn_capture(argv, 60, &out, line, sizeof line);
    json_t *j = NULL;
    if (rc != 0) {
        snprintf(err, errlen, "%s", line[0] ? line : "runner failed");
    } else {
        json_error_t je;
        j = json_loads(out, 0, &je);
        if (!j) snprintf(err, errlen, "%s %s: bad JSON: %s", path, flag, je.text);
    }
    free(out);
    return j;
}

json_t *hn_runner_info(const char *name, char *err, size_t errlen)
{
    return ask(name, "--info", err, errlen);
}

json_t *hn_workloads_load(const char *const *prefer, char *err, size_t errlen)
{
    char path[4096];
    for (int pass = 0; pass < 2; pass++) {
        const char *const *names = pass == 0 ? prefer : hn_known_backends;
        for (int i = 0; names && names[i]; i++)
            if (hn_runner_path(names[i], path, sizeof path))
                return ask(names[i], "--list-workloads", err, errlen);
    }
    if (hn_runner_path("null", path, sizeof path))
        return ask("null", "--list-workloads", err, errlen);
    snprintf(err, errlen, "no runner found in %s (build the abench-runner-* targets)", hn_bindir());
    return NULL;
}

json_t *hn_workload_find(json_t *catalogue, const char *name)
{
    size_t i;
    json_t *w;
    json_array_foreach(catalogue, i, w)
    {
        const char *n = json_string_value(json_object_get(w, "name"));
        if (n && strcmp(n, name) == 0) return w;
    }
    return NULL;
}

const char *hn_caps_text(json_t *caps, char *buf, size_t len)
{
    size_t i, used = 0;
    json_t *c;
    buf[0] = '\0';
    json_array_foreach(caps, i, c)
    {
        int n = snprintf(buf + used, len - used, "%s%s", used ? "+" : "", json_string_value(c));
        if (n < 0 || (size_t)n >= len - used) break;
        used += (size_t)n;
    }
    if (!used) snprintf(buf, len, "-");
    return buf;
}

int hn_backend_config_check(const char *cmd, const char *name)
{
    char path[4096], err[512];
    if (!hn_runner_path(name, path, sizeof path)) return 0; /* no runner: nothing to ask */
    json_t *info = hn_runner_info(name, err, sizeof err);
    if (!info) return 0; /* the caller's own checks report an unusable backend */
    const char *cfg = json_string_value(json_object_get(info, "config_error"));
    int rc = 0;
    if (cfg) {
        hn_error(cmd, "backend '%s' would ignore its environment: %s", name, cfg);
        rc = -1;
    }
    json_decref(info);
    return rc;
}
