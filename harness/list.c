/* list.c - `abench list [-v] [--all] [WORKLOAD...]`: the backends this build has (asked from
 * each runner with --info: name, version, capabilities, or why it is unavailable), then the
 * workloads with their one-line summary; -v or naming workloads adds each one's description and
 * typed parameters with defaults. --all also shows test-only workloads and the null backend.
 */
#include <stdio.h>
#include <string.h>

#include "hn.h"
#include "hn_run.h"

/* One backend line: name, version, capabilities, or why it is unavailable. */
static void list_backend(const char *name, json_t *info, const char *why, int vw)
{
    char caps[128];
    if (!info) {
        printf("  %-10s unavailable (%s)\n", name, why);
        return;
    }
    const char *ver = json_string_value(json_object_get(info, "version"));
    const char *chk = json_string_value(json_object_get(info, "malloc_check"));
    printf("  %-10s %-*s  caps: %s", name, vw, ver ? ver : "?",
           hn_caps_text(json_object_get(info, "caps"), caps, sizeof caps));
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

/* Prints text wrapped at 90 columns, each line indented. */
static void wrapped(const char *text, int indent)
{
    int col = indent;
    printf("%*s", indent, "");
    while (*text) {
        size_t w = strcspn(text, " ");
        if (col > indent && col + (int)w > 90) {
            printf("\n%*s", indent, "");
            col = indent;
        }
        printf("%.*s", (int)w, text);
        col += (int)w;
        text += w;
        while (*text == ' ')
            text++;
        size_t next = strcspn(text, " ");
        if (*text && col + 1 + (int)next <= 90) {
            putchar(' ');
            col++;
        }
    }
    putchar('\n');
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
        if (mn && mx) printf(" [%.15g..%.15g]", json_number_value(mn), json_number_value(mx));
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
    int verbose = 0, all = 0, nnames = 0;
    const char *names[64];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            verbose = 1;
        } else if (!strcmp(argv[i], "--all")) {
            all = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: abench list [-v] [--all] [WORKLOAD...]\n");
            return HN_EXIT_OK;
        } else if (argv[i][0] == '-') {
            hn_error("list", "unknown flag '%s'", argv[i]);
            return HN_EXIT_USAGE;
        } else if (nnames < 64) {
            names[nnames++] = argv[i];
        }
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
            return HN_EXIT_USAGE;
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
