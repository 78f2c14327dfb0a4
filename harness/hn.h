/* hn.h - the abench CLI's cross-file declarations (the `hn_` names), grouped by the file that
 * defines them. The CLI links no allocator under test: it spawns one runner process per
 * cell (bin/abench-runner-<backend>) and reads what they write (results/README.md).
 */
#ifndef HN_H
#define HN_H

#include <stdio.h>

/* Exit codes shared by the subcommands (README.md, "Exit codes"). */
enum hn_exit {
    HN_EXIT_OK = 0,   /* done; for compare: no significant regression */
    HN_EXIT_FAIL = 1, /* a cell crashed/hung/failed; for compare: a significant regression */
    HN_EXIT_CANNOT_JUDGE = 2, /* compare: no regression found, but some cell cannot be judged;
                                 run --instructions: this machine cannot count (no valgrind) */
    HN_EXIT_EX_USAGE = 64,    /* EX_USAGE: bad flag, backend, workload, parameter or setting,
                                 unreadable or invalid input (every command) */
};

/* ---- main.c: getopt_long helpers for the subcommands ---- */
struct option;
/* Resets getopt for a fresh parse of a subcommand's argv (argv[0] is the subcommand). */
void hn_getopt_reset(void);
/* getopt_long() with opterr off, for an optstring that starts with ':' (or "+:"): on '?' or
 * ':' prints one line ("unknown option '--x'", "'--x' needs a value") and returns '?'. */
int hn_getopt(const char *cmd, int argc, char **argv, const char *optstring,
              const struct option *longopts);

/* ---- main.c: dispatch, paths ---- */
/* Folder holding the abench executable (runners and tools live beside it). */
const char *hn_bindir(void);
/* One-line error "abench <cmd>: <message>" on stderr. */
__attribute__((format(printf, 2, 3))) void hn_error(const char *cmd, const char *fmt, ...);

/* ---- Subcommands: int hn_cmd_X(int argc, char **argv), argv[0] is the subcommand name ---- */
int hn_cmd_list(int argc, char **argv);    /* list.c */
int hn_cmd_run(int argc, char **argv);     /* run.c */
int hn_cmd_compare(int argc, char **argv); /* compare.c */
int hn_cmd_report(int argc, char **argv);  /* report.c */
int hn_cmd_exec(int argc, char **argv);    /* exec.c */
int hn_cmd_goalloc(int argc, char **argv); /* goalloc.c: `abench goalloc sizeclasses` */

/* ---- goenv.c ---- */
/* 0 when GOGC and GOMEMLIMIT are unset or well-formed; otherwise prints one line naming the
 * variable and returns HN_EXIT_EX_USAGE. */
int hn_check_go_env(const char *cmd);

/* ---- report.c ---- */
/* Draws every chart and writes report.md / report.html for a run folder (used by
 * `abench run --report`). Returns an hn_exit code. */
int hn_report_run(const char *run_dir, const char *baseline);

#endif /* HN_H */
