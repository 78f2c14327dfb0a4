/* params.c - typed workload parameters: defaults, "name=value" overrides, validation.
 *
 * See wl_params.h for the syntax. Invariant after a successful wl_params_parse(): every
 * run->p[i] (i < w->nparams) holds a value that parsed under params[i]'s type and lies within
 * its bounds; ENUM values hold the index of their choice.
 */
#include "wl_params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Sizes ---- */

int wl_parse_size(const char *text, int64_t *out, char *err, size_t errlen)
{
    static const struct {
        const char *suffix;
        int shift;
    } units[] = {{"", 0}, {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}};
    const char *p = text;
    if (*p < '0' || *p > '9') {
        snprintf(err, errlen, "'%s' is not a byte count (digits with optional K/KiB/M/MiB/G/GiB)",
                 text);
        return -1;
    }
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) goto overflow;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) != 0) continue;
        if (v > ((uint64_t)INT64_MAX >> units[i].shift)) goto overflow;
        *out = (int64_t)(v << units[i].shift);
        return 0;
    }
    snprintf(err, errlen, "'%s' has a bad size suffix '%s' (use K, KiB, M, MiB, G or GiB)", text,
             p);
    return -1;
overflow:
    snprintf(err, errlen, "'%s' is too large", text);
    return -1;
}

/* ---- One value ---- */

static int parse_int(const char *text, int64_t *out)
{
    const char *p = text;
    if (*p == '-') p++;
    if (*p < '0' || *p > '9') return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return -1;
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE) return -1;
    *out = v;
    return 0;
}

static int parse_enum(const char *choices, const char *text, int64_t *out)
{
    size_t len = strlen(text);
    int64_t idx = 0;
    for (const char *c = choices; c && *c; idx++) {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (n == len && memcmp(c, text, n) == 0) {
            *out = idx;
            return 0;
        }
        c = bar ? bar + 1 : NULL;
    }
    return -1;
}

static int check_bounds(const wl_param_def *def, const char *text, double v, char *err,
                        size_t errlen)
{
    if (def->min > def->max) return 0;
    if (v < def->min) {
        snprintf(err, errlen, "parameter '%s': value '%s' is below the minimum %.15g", def->name,
                 text, def->min);
        return -1;
    }
    if (v > def->max) {
        snprintf(err, errlen, "parameter '%s': value '%s' is above the maximum %.15g", def->name,
                 text, def->max);
        return -1;
    }
    return 0;
}

int wl_param_value_parse(const wl_param_def *def, const char *text, wl_param_value *out, char *err,
                         size_t errlen)
{
    char why[160];
    wl_param_value v = {.s = text};
    switch (def->type) {
    case WL_P_INT:
        if (parse_int(text, &v.i) != 0) {
            snprintf(err, errlen, "parameter '%s': '%s' is not an integer", def->name, text);
            return -1;
        }
        v.d = (double)v.i;
        break;
    case WL_P_SIZE:
        if (wl_parse_size(text, &v.i, why, sizeof why) != 0) {
            snprintf(err, errlen, "parameter '%s': %s", def->name, why);
            return -1;
        }
        v.d = (double)v.i;
        break;
    case WL_P_DOUBLE: {
        char *end;
        errno = 0;
        v.d = strtod(text, &end);
        if (end == text || *end || errno == ERANGE || !isfinite(v.d)) {
            snprintf(err, errlen, "parameter '%s': '%s' is not a finite number", def->name, text);
            return -1;
        }
        break;
    }
    case WL_P_ENUM:
        if (parse_enum(def->choices, text, &v.i) != 0) {
            snprintf(err, errlen, "parameter '%s': '%s' is not one of %s", def->name, text,
                     def->choices ? def->choices : "(no choices)");
            return -1;
        }
        v.d = (double)v.i;
        return (*out = v), 0;
    case WL_P_STR:
        return (*out = v), 0;
    default:
        snprintf(err, errlen, "parameter '%s': unknown type %d", def->name, (int)def->type);
        return -1;
    }
    if (check_bounds(def, text, v.d, err, errlen) != 0) return -1;
    *out = v;
    return 0;
}

/* ---- A whole parameter set ---- */

int wl_param_index(const wl_workload *w, const char *name)
{
    for (unsigned i = 0; i < w->nparams; i++)
        if (strcmp(w->params[i].name, name) == 0) return (int)i;
    return -1;
}

static int param_index_n(const wl_workload *w, const char *name, size_t len)
{
    for (unsigned i = 0; i < w->nparams; i++)
        if (strlen(w->params[i].name) == len && memcmp(w->params[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static void known_names(const wl_workload *w, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < w->nparams && off < len; i++) {
        int k = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", w->params[i].name);
        if (k < 0) break;
        off += (size_t)k;
    }
    if (w->nparams == 0) snprintf(buf, len, "none");
}

int wl_params_parse(wl_run *run, const char *const *kv, int n, char *err, size_t errlen)
{
    const wl_workload *w = run->w;
    int given[WL_MAX_PARAMS] = {0};
    if (w->nparams > WL_MAX_PARAMS) {
        snprintf(err, errlen, "workload '%s' declares %u parameters (at most %d)", w->name,
                 w->nparams, WL_MAX_PARAMS);
        return -1;
    }
    for (unsigned i = 0; i < w->nparams; i++) {
        const wl_param_def *def = &w->params[i];
        if (wl_param_value_parse(def, def->def ? def->def : "", &run->p[i], err, errlen) != 0)
            return -1;
    }
    for (int k = 0; k < n; k++) {
        const char *eq = strchr(kv[k], '=');
        if (!eq) {
            snprintf(err, errlen, "parameter '%s': expected name=value", kv[k]);
            return -1;
        }
        int i = param_index_n(w, kv[k], (size_t)(eq - kv[k]));
        if (i < 0) {
            char names[400];
            known_names(w, names, sizeof names);
            snprintf(err, errlen, "unknown parameter '%.*s' for workload '%s' (known: %s)",
                     (int)(eq - kv[k]), kv[k], w->name, names);
            return -1;
        }
        if (given[i]++) {
            snprintf(err, errlen, "parameter '%s': given more than once", w->params[i].name);
            return -1;
        }
        if (wl_param_value_parse(&w->params[i], eq + 1, &run->p[i], err, errlen) != 0) return -1;
    }
    return 0;
}
