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

const char *const hn_known_backends[] = {"sys",      "jemalloc", "mimalloc",    "tcmalloc",
                                         "boehm",    "goalloc",  "goalloc-stw", "go-runtime",
                                         "overhead", NULL};

/* ---- Backend variants: one backend's runner under a setting of its own ----
 * A variant is a backend name of its own for another backend's runner, unchanged, started
 * with one more setting in its environment. The setting is appended to what the caller's
 * environment already holds for that variable (GOALLOC_DEBUG keys: the last one wins), so the
 * variant means the same whatever else is set. Every child the CLI starts for the variant
 * (--info, --check, --calibrate, the cells) gets it. */
static const hn_backend_variant variants[] = {
    {"goalloc-stw", "goalloc", "GOALLOC_DEBUG", "gcstoptheworld=1",
     "goalloc with its stop-the-world mark (GOALLOC_DEBUG=gcstoptheworld=1)", 1},
};
enum { NVARIANTS = sizeof variants / sizeof variants[0] };

const hn_backend_variant *hn_backend_variant_of(const char *name)
{
    for (size_t i = 0; name && i < NVARIANTS; i++)
        if (!strcmp(variants[i].name, name)) return &variants[i];
    return NULL;
}

const char *hn_backend_setting(const char *name, char *buf, size_t len)
{
    const hn_backend_variant *v = hn_backend_variant_of(name);
    if (!v) return NULL;
    const char *old = getenv(v->var);
    snprintf(buf, len, "%s%s%s", old && *old ? old : "", old && *old ? "," : "", v->value);
    return buf;
}

char *const *hn_backend_env(const char *name)
{
    /* one "NAME=VALUE" per variant, built on first use (the environment does not change) */
    static char text[NVARIANTS][1024];
    static char *env[NVARIANTS][2];
    const hn_backend_variant *v = hn_backend_variant_of(name);
    if (!v) return NULL;
    size_t i = (size_t)(v - variants);
    if (!env[i][0]) {
        char val[900];
        hn_backend_setting(name, val, sizeof val);
        snprintf(text[i], sizeof text[i], "%s=%s", v->var, val);
        env[i][0] = text[i];
    }
    return env[i];
}

int hn_runner_path(const char *name, char *buf, size_t len)
{
    const hn_backend_variant *v = hn_backend_variant_of(name);
    snprintf(buf, len, "%s/%s%s", hn_bindir(), HN_RUNNER_PREFIX, v ? v->base : name);
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
    int rc = hn_capture_env(argv, hn_backend_env(name), 60, &out, line, sizeof line);
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
    json_t *info = ask(name, "--info", err, errlen);
    const hn_backend_variant *v = hn_backend_variant_of(name);
    if (info && v) { /* the runner names its base backend: say what this name adds */
        char val[900];
        json_t *env = json_object();
        json_object_set_new(env, v->var, json_string(hn_backend_setting(name, val, sizeof val)));
        json_object_set_new(info, "name", json_string(name));
        json_object_set_new(info, "variant_of", json_string(v->base));
        json_object_set_new(info, "env", env);
        json_object_set_new(info, "summary", json_string(v->summary));
    }
    return info;
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
