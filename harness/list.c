/* list.c - `abench list [-v] [--all] [WORKLOAD...]`: the backends this build has (asked from
 * each runner with --info: name, version, capabilities, or why it is unavailable), then the
 * workloads with their one-line summary; -v or naming workloads adds each one's description and
 * typed parameters with defaults. --all also shows test-only workloads and the null backend.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hn.h"
#include "hn_run.h"

/* One backend line: name, version, capabilities, or why it is unavailable. */
static void list_backend(const char *name, json_t *info, const char *why, int vw)
{
    char caps[128];
    if (!info) {
        printf("  %-11s unavailable (%s)\n", name, why);
        return;
    }
    const char *ver = json_string_value(json_object_get(info, "version"));
    const char *chk = json_string_value(json_object_get(info, "malloc_check"));
    printf("  %-11s %-*s  caps: %s", name, vw, ver ? ver : "?",
           hn_caps_text(json_object_get(info, "caps"), caps, sizeof caps));
    const hn_backend_variant *v = hn_backend_variant_of(name);
    if (v) printf("  (%s with %s=%s)", v->base, v->var, v->value);
    if (chk && strcmp(chk, "ok") != 0) printf("  REFUSES TO RUN: %s", chk);
    printf("\n");
}

static void list_backends(int all)
{
    enum { MAXB = 16 };
    const char *names[MAXB];
    json_t *infos[MAXB];
    char why[MAXB][512], path[4096];
    int n = 0, vw = 8;
    for (int i = 0; hn_known_backends[i] && n < MAXB - 1; i++)
        names[n++] = hn_known_backends[i];
    if (all) names[n++] = "null";
    for (int i = 0; i < n; i++) {
        infos[i] = NULL;
        if (!hn_runner_path(names[i], path, sizeof path))
            snprintf(why[i], sizeof why[i], "no runner bin/abench-runner-%s in this build",
                     names[i]);
        else
            infos[i] = hn_runner_info(names[i], why[i], sizeof why[i]);
        const char *v = json_string_value(json_object_get(infos[i], "version"));
        if (v && (int)strlen(v) > vw) vw = (int)strlen(v);
    }
    printf("Backends:\n");
    for (int i = 0; i < n; i++) {
        list_backend(names[i], infos[i], why[i], vw);
        json_decref(infos[i]);
    }
}

/* Prints text wrapped at 90 columns, each line indented: words are separated by one space,
 * or by a line break when the next word would pass column 90 (never by nothing). */
static void wrapped(const char *text, int indent)
{
    int col = indent;
    printf("%*s", indent, "");
    while (*text == ' ')
        text++;
    while (*text) {
        size_t w = strcspn(text, " ");
        if (col > indent) {
            if (col + 1 + (int)w > 90) {
                printf("\n%*s", indent, "");
                col = indent;
            } else {
                putchar(' ');
                col++;
            }
        }
        printf("%.*s", (int)w, text);
        col += (int)w;
        text += w;
        while (*text == ' ')
            text++;
    }
    putchar('\n');
}

/* A range bound: the exact integer, and for a size an exact binary multiple as "4 GiB". */
static void bound_text(char *buf, size_t len, double v, const char *type)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (v != floor(v) || fabs(v) >= 9.2e18) {
        snprintf(buf, len, "%.15g", v);
        return;
    }
    long long n = (long long)v;
    int k = -1;
    while (type && strcmp(type, "size") == 0 && n >= 1024 && n % 1024 == 0 && k < 5) {
        n /= 1024;
        k++;
    }
    if (k >= 0)
        snprintf(buf, len, "%lld %s", n, units[k]);
    else
        snprintf(buf, len, "%lld", (long long)v);
}

static void show_params(json_t *w)
{
    size_t i;
    json_t *p;
    json_t *params = json_object_get(w, "params");
    if (json_array_size(params) == 0) {
        printf("    (no parameters)\n");
        return;
    }
    json_array_foreach(params, i, p)
    {
        const char *type = json_string_value(json_object_get(p, "type"));
        printf("    %-12s %-6s default %-10s", json_string_value(json_object_get(p, "name")), type,
               json_string_value(json_object_get(p, "default")));
        json_t *mn = json_object_get(p, "min"), *mx = json_object_get(p, "max");
        if (mn && mx) {
            char lo[48], hi[48];
            bound_text(lo, sizeof lo, json_number_value(mn), type);
            bound_text(hi, sizeof hi, json_number_value(mx), type);
            printf(" [%s..%s]", lo, hi);
        }
        json_t *ch = json_object_get(p, "choices");
        if (ch) printf(" {%s}", json_string_value(ch));
        printf("  %s\n", json_string_value(json_object_get(p, "help")));
    }
}

static void show_workload(json_t *w, int verbose)
{
    char caps[128];
    const char *name = json_string_value(json_object_get(w, "name"));
    json_t *needs = json_object_get(w, "needs_caps");
    printf("  %-14s %s", name, json_string_value(json_object_get(w, "summary")));
    if (json_array_size(needs)) printf(" (needs %s)", hn_caps_text(needs, caps, sizeof caps));
    printf("\n");
    if (!verbose) return;
    wrapped(json_string_value(json_object_get(w, "description")), 4);
    show_params(w);
    printf("\n");
}

int hn_cmd_list(int argc, char **argv)
{
    int verbose = 0, all = 0, nnames = 0, c;
    const char *names[64];
    static const struct option opts[] = {{"verbose", no_argument, NULL, 'v'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    while ((c = hn_getopt("list", argc, argv, ":vah", opts)) != -1) {
        switch (c) {
        case 'v':
            verbose = 1;
            break;
        case 'a':
            all = 1;
            break;
        case 'h':
            printf("usage: abench list [-v|--verbose] [--all] [WORKLOAD...]\n"
                   "Backends (version, capabilities) and workloads; -v or naming workloads adds\n"
                   "descriptions and typed parameters; --all adds test-only workloads and the\n"
                   "null backend. Exit: 0, or 64 for a bad flag or an unknown workload.\n");
            return HN_EXIT_OK;
        default:
            return HN_EXIT_EX_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (nnames == 64) {
            hn_error("list", "too many workload names (at most 64)");
            return HN_EXIT_EX_USAGE;
        }
        names[nnames++] = argv[i];
    }
    char err[512];
    json_t *cat = hn_workloads_load(NULL, err, sizeof err);
    if (!cat) {
        hn_error("list", "%s", err);
        return HN_EXIT_FAIL;
    }
    for (int i = 0; i < nnames; i++)
        if (!hn_workload_find(cat, names[i])) {
            hn_error("list", "unknown workload '%s'", names[i]);
            json_decref(cat);
            return HN_EXIT_EX_USAGE;
        }
    if (nnames == 0) {
        list_backends(all);
        printf("\nWorkloads:\n");
    }
    size_t i;
    json_t *w;
    json_array_foreach(cat, i, w)
    {
        const char *name = json_string_value(json_object_get(w, "name"));
        int wanted = nnames == 0;
        for (int k = 0; k < nnames; k++)
            wanted |= !strcmp(names[k], name);
        if (!wanted) continue;
        if (nnames == 0 && !all && json_is_true(json_object_get(w, "test_only"))) continue;
        show_workload(w, verbose || nnames > 0);
    }
    json_decref(cat);
    return HN_EXIT_OK;
}
