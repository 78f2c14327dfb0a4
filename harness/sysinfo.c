/* sysinfo.c - the facts meta.json records about the machine, the build and the environment.
 *
 * Build facts come from definitions CMake sets on the abench target (harness/extra.cmake):
 * AB_TOOL_VERSION, AB_COMPILER, AB_BUILD_TYPE, AB_BUILD_FLAGS, AB_SOURCE_DIR (for git). A fact
 * that cannot be read is left out of meta.json rather than guessed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "hn_run.h"

#ifndef AB_TOOL_VERSION
#define AB_TOOL_VERSION "unknown"
#endif
#ifndef AB_COMPILER
#define AB_COMPILER __VERSION__
#endif
#ifndef AB_BUILD_TYPE
#define AB_BUILD_TYPE "unknown"
#endif
#ifndef AB_BUILD_FLAGS
#define AB_BUILD_FLAGS ""
#endif

extern char **environ;

const char *hn_hostname(void)
{
    static char host[256];
    if (!host[0]) {
        if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "host");
        char *dot = strchr(host, '.');
        if (dot) *dot = '\0';
    }
    return host;
}

const char *hn_iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* First line of a file, trailing newline removed; NULL when unreadable. */
static char *read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *r = fgets(buf, (int)len, f);
    fclose(f);
    if (r) buf[strcspn(buf, "\n")] = '\0';
    return r;
}

static void cpu_model(json_t *meta)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *v = strchr(line, ':');
        if (!v) continue;
        v += 1 + (v[1] == ' ');
        v[strcspn(v, "\n")] = '\0';
        json_object_set_new(meta, "cpu_model", json_string(v));
        break;
    }
    fclose(f);
}

/* The variables that change allocator behaviour (results/README.md, meta.json `env`). */
static int env_relevant(const char *kv)
{
    static const char *const exact[] = {
        "GOGC=", "GOMEMLIMIT=", "GODEBUG=", "MALLOC_CONF=", "JE_MALLOC_CONF=", "LD_PRELOAD=", NULL};
    static const char *const prefix[] = {"GOALLOC_", "MALLOC_", "MIMALLOC_", "TCMALLOC_",
                                         "GC_",      "ABENCH_", NULL};
    for (int i = 0; exact[i]; i++)
        if (strncmp(kv, exact[i], strlen(exact[i])) == 0) return 1;
    for (int i = 0; prefix[i]; i++)
        if (strncmp(kv, prefix[i], strlen(prefix[i])) == 0) return 1;
    return 0;
}

static void env_fill(json_t *meta)
{
    json_t *env = json_object();
    for (char **e = environ; *e; e++) {
        if (!env_relevant(*e)) continue;
        const char *eq = strchr(*e, '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - *e), *e);
        json_object_set_new(env, key, json_string(eq + 1));
    }
    json_object_set_new(meta, "env", env);
}

static void git_fill(json_t *meta)
{
#ifdef AB_SOURCE_DIR
    char *out = NULL, line[256];
    char *rev[] = {"/usr/bin/git", "-C", AB_SOURCE_DIR, "rev-parse", "HEAD", NULL};
    if (access(rev[0], X_OK) != 0) return;
    if (hn_capture(rev, 10, &out, line, sizeof line) == 0) {
        out[strcspn(out, "\n")] = '\0';
        if (out[0]) json_object_set_new(meta, "git_commit", json_string(out));
    }
    free(out);
    out = NULL;
    char *st[] = {"/usr/bin/git", "-C", AB_SOURCE_DIR, "status", "--porcelain", "-uno", NULL};
    if (hn_capture(st, 10, &out, line, sizeof line) == 0)
        json_object_set_new(meta, "git_dirty", json_boolean(out[0] != '\0'));
    free(out);
#else
    (void)meta;
#endif
}

void hn_sysinfo_fill(json_t *meta)
{
    char buf[512];
    struct utsname u;
    json_object_set_new(meta, "tool", json_string("abench"));
    json_object_set_new(meta, "tool_version", json_string(AB_TOOL_VERSION));
    json_object_set_new(meta, "host", json_string(hn_hostname()));
    cpu_model(meta);
    json_object_set_new(meta, "ncpu", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        json_object_set_new(meta, "kernel", json_string(buf));
    }
    if (read_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf))
        json_object_set_new(meta, "thp", json_string(buf));
    env_fill(meta);
    git_fill(meta);
    json_object_set_new(meta, "compiler", json_string(AB_COMPILER));
    json_object_set_new(meta, "build_type", json_string(AB_BUILD_TYPE));
    json_object_set_new(meta, "build_flags", json_string(AB_BUILD_FLAGS));
}
