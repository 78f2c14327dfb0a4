/* main.c - the abench CLI: dispatches subcommands and finds the runners beside itself.
 *
 * abench links no allocator under test: `run` spawns one bin/abench-runner-<backend> per cell,
 * `list` asks the runners what they are. Exit codes are hn.h's (0 ok, 1 failed, 2 compare
 * cannot judge, 64 usage or input error; `run` still answers 2 for its usage errors).
 * `abench --version` prints the project version and the git commit the binary was built from
 * (ab_version.h, generated at build time by version.cmake).
 */
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ab_version.h"
#include "hn.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    {"list", hn_cmd_list, "backends (version, capabilities) and workloads; -v for parameters"},
    {"run", hn_cmd_run, "run a matrix of cells (alloc x workload x threads x params x reps)"},
    {"compare", hn_cmd_compare, "compare two result sets with statistics (CI gate)"},
    {"report", hn_cmd_report, "charts and report.md/report.html for a run folder"},
    {"exec", hn_cmd_exec, "time a real program under each backend (LD_PRELOAD, hyperfine)"},
    {"goalloc", hn_cmd_goalloc, "goalloc tools: `abench goalloc sizeclasses`"},
};

const char *hn_bindir(void)
{
    static char dir[4096];
    if (!dir[0]) {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) {
            snprintf(dir, sizeof dir, ".");
        } else {
            exe[n] = '\0';
            snprintf(dir, sizeof dir, "%s", dirname(exe));
        }
    }
    return dir;
}

void hn_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "abench%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void hn_getopt_reset(void)
{
    optind = 1;
    opterr = 0;
}

int hn_getopt(const char *cmd, int argc, char **argv, const char *optstring,
              const struct option *longopts)
{
    int c = getopt_long(argc, argv, optstring, longopts, NULL);
    if (c != '?' && c != ':') return c;
    /* optind has moved past the offending word; a short option is named by optopt */
    const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    char shortopt[3] = {'-', (char)optopt, 0};
    const char *name = optopt && strncmp(word, "--", 2) != 0 ? shortopt : word;
    if (c == ':')
        hn_error(cmd, "'%s' needs a value (see abench %s --help)", name, cmd);
    else
        hn_error(cmd, "unknown option '%s' (see abench %s --help)", name, cmd);
    return '?';
}

static void version(void)
{
    printf("abench %s (commit %s)\n", AB_VERSION, AB_GIT_COMMIT);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: abench <command> [args]   (abench <command> --help for its flags)\n\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "  %-8s %s\n", "help", "this text (also --help); --version: version and commit");
    fprintf(f, "\nThe main command: abench run --suite default --report\n"
               "Exit codes: 0 ok (compare: no regression), 1 a failure (compare: a regression),\n"
               "2 compare cannot judge, 64 usage or input error (run: 2, for now).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HN_EXIT_EX_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--version") || !strcmp(c, "-V") || !strcmp(c, "version")) {
        version();
        return HN_EXIT_OK;
    }
    if (!strcmp(c, "help") || !strcmp(c, "--help") || !strcmp(c, "-h")) {
        usage(stdout);
        return HN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(c, cmds[i].name)) {
            hn_getopt_reset();
            return cmds[i].fn(argc - 1, argv + 1);
        }
    hn_error(NULL, "unknown command '%s' (try: abench help)", c);
    return HN_EXIT_EX_USAGE;
}
