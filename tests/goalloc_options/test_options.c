/* test_options.c - goalloc's knobs: GOGC / GOMEMLIMIT / GOALLOC_DEBUG parsing (Go's syntax),
 * the setters, and what a process started with a given environment sees and prints
 * (a malformed value warns exactly once and keeps the default; GOALLOC_VERBOSE lists all).
 *
 * Also debug.c's diagnostics (one line on stderr, abort where due, errno kept).
 *
 * The environment cases re-run this executable as a child (`--child MODE`) with the variables
 * set, capture its stdout (the values in force) and stderr (the warnings).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ga_internal.h"

typedef struct parse_case {
    const char *in;
    int rc;
    int64_t want;
} parse_case;

static void gogc_parsing(void **state)
{
    (void)state;
    static const parse_case cases[] = {
        {"100", 0, 100},
        {"0", 0, 0},
        {"50", 0, 50},
        {"off", 0, -1},
        {"-1", 0, -1}, /* Go: any negative percent turns the GC off */
        {"-250", 0, -1},
        {"2147483647", 0, INT32_MAX},
        {"2147483648", -1, 0}, /* overflow of Go's int32 */
        {"99999999999999999999999", -1, 0},
        {"", -1, 0},
        {" 100", -1, 0},
        {"100 ", -1, 0},
        {"+100", -1, 0},
        {"1e2", -1, 0},
        {"OFF", -1, 0},
        {"off ", -1, 0},
        {"10%", -1, 0},
        {"-", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        int rc = _ga_parse_gogc(cases[i].in, &v);
        if (rc != cases[i].rc)
            fail_msg("GOGC=\"%s\": rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0 && v != cases[i].want)
            fail_msg("GOGC=\"%s\": %lld, want %lld", cases[i].in, (long long)v,
                     (long long)cases[i].want);
        if (rc != 0 && v != 12345) fail_msg("GOGC=\"%s\": output written on error", cases[i].in);
    }
    assert_int_equal(_ga_parse_gogc(NULL, &(int64_t){0}), -1);
}

static void memlimit_parsing(void **state)
{
    (void)state;
    static const parse_case cases[] = {
        {"off", 0, INT64_MAX},
        {"0", 0, 0},
        {"1", 0, 1},
        {"4096", 0, 4096},
        {"0B", 0, 0},
        {"123B", 0, 123},
        {"1KiB", 0, 1024},
        {"64MiB", 0, 64 << 20},
        {"3GiB", 0, 3LL << 30},
        {"2TiB", 0, 2LL << 40},
        {"9223372036854775807", 0, INT64_MAX},
        {"9223372036854775807B", 0, INT64_MAX},
        {"8388607TiB", 0, 8388607LL << 40},
        {"9223372036854775808", -1, 0}, /* overflow */
        {"8388608TiB", -1, 0},          /* overflow through the unit */
        {"9007199254740992KiB", -1, 0},
        {"", -1, 0},
        {"B", -1, 0},
        {"MiB", -1, 0},
        {"-1", -1, 0},
        {"-1MiB", -1, 0},
        {"+1MiB", -1, 0},
        {" 1MiB", -1, 0},
        {"1MiB ", -1, 0},
        {"1 MiB", -1, 0},
        {"1MB", -1, 0}, /* decimal units are not Go's syntax */
        {"1KB", -1, 0},
        {"1k", -1, 0},
        {"1mib", -1, 0},
        {"1PiB", -1, 0},
        {"1iB", -1, 0},
        {"1.5GiB", -1, 0},
        {"0x10", -1, 0},
        {"Off", -1, 0},
        {"12x", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        int rc = _ga_parse_memlimit(cases[i].in, &v);
        if (rc != cases[i].rc)
            fail_msg("GOMEMLIMIT=\"%s\": rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0 && v != cases[i].want)
            fail_msg("GOMEMLIMIT=\"%s\": %lld, want %lld", cases[i].in, (long long)v,
                     (long long)cases[i].want);
        if (rc != 0 && v != 12345)
            fail_msg("GOMEMLIMIT=\"%s\": output written on error", cases[i].in);
    }
}

static ga_options defaults(void)
{
    return (ga_options){.gogc = 100, .memory_limit = INT64_MAX, .madvdontneed = 1};
}

static void debug_list_parsing(void **state)
{
    (void)state;
    ga_options o = defaults();
    assert_int_equal(_ga_parse_debug("gctrace=1,scavtrace=1,madvdontneed=0", &o), 0);
    assert_int_equal(o.gctrace, 1);
    assert_int_equal(o.scavtrace, 1);
    assert_int_equal(o.madvdontneed, 0);
    assert_int_equal(o.gogc, 100); /* untouched */

    o = defaults();
    assert_int_equal(_ga_parse_debug("gctrace=2", &o), 0);
    assert_int_equal(o.gctrace, 2);
    assert_int_equal(o.madvdontneed, 1);

    /* Empty items and a trailing comma are harmless; a later key wins. */
    o = defaults();
    assert_int_equal(_ga_parse_debug(",scavtrace=1,,scavtrace=0,", &o), 0);
    assert_int_equal(o.scavtrace, 0);
    o = defaults();
    assert_int_equal(_ga_parse_debug("", &o), 0);

    /* Malformed items: reported, the valid ones still apply, the bad one keeps its value. */
    static const char *const bad[] = {
        "gctrace=3",
        "madvdontneed=2",
        "scavtrace=",
        "gctrace",
        "=1",
        "gctrace=-1",
        "gctrace= 1",
        " gctrace=1",
        "GCTRACE=1",
        "nosuchkey=1",
        "gctrace=1x",
        "madvdontneed=0=1",
        "gctrace=99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char list[128];
        snprintf(list, sizeof list, "scavtrace=1,%s", bad[i]);
        o = defaults();
        const char *where = NULL;
        size_t len = 0;
        if (_ga_parse_debug_item(list, &o, &where, &len) != -1)
            fail_msg("GOALLOC_DEBUG=\"%s\" accepted", list);
        assert_int_equal(o.scavtrace, 1);
        assert_int_equal(o.gctrace, 0);
        assert_int_equal(o.madvdontneed, 1);
        assert_non_null(where);
        if (len != strlen(bad[i]) || memcmp(where, bad[i], len) != 0)
            fail_msg("GOALLOC_DEBUG=\"%s\": reported \"%.*s\"", list, (int)len, where);
    }
    assert_int_equal(_ga_parse_debug(NULL, &o), -1);
}

static void setters(void **state)
{
    (void)state;
    _ga_options_init();
    assert_int_equal(ga_set_memory_limit(-1), INT64_MAX); /* query only */
    assert_int_equal(ga_set_memory_limit(64 << 20), INT64_MAX);
    assert_int_equal(_ga_options_memory_limit(), 64 << 20);
    assert_int_equal(ga_set_memory_limit(-5), 64 << 20);
    assert_int_equal(ga_set_memory_limit(0), 64 << 20);
    assert_int_equal(ga_set_memory_limit(INT64_MAX), 0);
    assert_int_equal(_ga_options_memory_limit(), INT64_MAX);

    assert_int_equal(ga_set_gc_percent(50), 100);
    assert_int_equal(_ga_options_gogc(), 50);
    assert_int_equal(ga_set_gc_percent(-7), 50);
    assert_int_equal(_ga_options_gogc(), -1);
    assert_int_equal(ga_set_gc_percent(100), -1);
}

/* ---- Child processes ---- */

typedef struct child_out {
    char out[8192], err[8192];
    int status;
} child_out;

static void read_all(int fd, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
}

/* Runs this executable with --child and exactly the given environment. */
/* Runs this executable as `--child MODE` with exactly the given environment; returns after it
 * ended, its wait status in c->status. */
static void spawn_child(const char *mode, char *const env[], child_out *c)
{
    int out[2], err[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        char *argv[] = {"test_goalloc_options", "--child", (char *)mode, NULL};
        execve("/proc/self/exe", argv, env);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    /* The child writes little (well under a pipe buffer), so reading one after the other is
     * safe. */
    read_all(out[0], c->out, sizeof c->out);
    read_all(err[0], c->err, sizeof c->err);
    close(out[0]);
    close(err[0]);
    assert_int_equal(waitpid(pid, &c->status, 0), pid);
}

/* The options child (mode "options"), which must exit 0. */
static void run_child(char *const env[], child_out *c)
{
    spawn_child("options", env, c);
    assert_true(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void *init_thread(void *arg)
{
    (void)arg;
    _ga_options_init();
    return NULL;
}

/* Diagnostics children (debug.c): each ends the way its mode says. */
static int diag_child(const char *mode)
{
    if (strcmp(mode, "fatal") == 0) _ga_fatal("span %p of class %d is broken", (void *)0x1000, 7);
    if (strcmp(mode, "assert") == 0) _ga_assert_fail("nalloc <= nelems", "mspan.c", 42, "refill");
    if (strcmp(mode, "warn") == 0) {
        char big[2000];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        errno = EDOM;
        _ga_warn("first %d", 1);
        _ga_warn("long %s", big);
        _ga_trace("gc %d @%d.%03ds %d%%", 3, 1, 250, 2);
        printf("errno=%d\n", errno);
        return 0;
    }
    return 100;
}

/* The options child: several threads race to initialise, then it prints what is in force. */
static int child_main(const char *mode)
{
    if (strcmp(mode, "options") != 0) return diag_child(mode);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, init_thread, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    _ga_options_init();
    printf("gogc=%lld memory_limit=%lld gctrace=%d scavtrace=%d madvdontneed=%d verbose=%d "
           "zero_after_release=%d\n",
           (long long)_ga_options_gogc(), (long long)_ga_options_memory_limit(), _ga_opt.gctrace,
           _ga_opt.scavtrace, _ga_opt.madvdontneed, _ga_opt.verbose,
           (int)_ga_os_released_pages_are_zero());
    return 0;
}

static void env_defaults(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {NULL};
    run_child(env, &c);
    assert_string_equal(c.out, "gogc=100 memory_limit=9223372036854775807 gctrace=0 scavtrace=0 "
                               "madvdontneed=1 verbose=0 zero_after_release=1\n");
    assert_string_equal(c.err, "");
}

static void env_good_values(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {"GOGC=off", "GOMEMLIMIT=64MiB",
                   "GOALLOC_DEBUG=gctrace=1,scavtrace=1,madvdontneed=0", NULL};
    run_child(env, &c);
    assert_string_equal(c.out, "gogc=-1 memory_limit=67108864 gctrace=1 scavtrace=1 "
                               "madvdontneed=0 verbose=0 zero_after_release=0\n");
    assert_string_equal(c.err, "");
}

static void env_bad_memlimit_warns_once(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {"GOMEMLIMIT=12x", "GOGC=50", NULL};
    run_child(env, &c);
    assert_string_equal(c.out, "gogc=50 memory_limit=9223372036854775807 gctrace=0 scavtrace=0 "
                               "madvdontneed=1 verbose=0 zero_after_release=1\n");
    if (count(c.err, "\n") != 1 || count(c.err, "GOMEMLIMIT=\"12x\"") != 1 ||
        strncmp(c.err, "goalloc: ", 9) != 0)
        fail_msg("want one warning naming GOMEMLIMIT=\"12x\", got: %s", c.err);
}

static void env_bad_values_each_warn_once(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {"GOGC=fast", "GOMEMLIMIT=-1", "GOALLOC_DEBUG=gctrace=1,bogus=1",
                   "GOALLOC_VERBOSE=yes", NULL};
    run_child(env, &c);
    /* gctrace=1 still applies: only the malformed item is dropped. */
    assert_string_equal(c.out, "gogc=100 memory_limit=9223372036854775807 gctrace=1 scavtrace=0 "
                               "madvdontneed=1 verbose=0 zero_after_release=1\n");
    if (count(c.err, "\n") != 4 || count(c.err, "GOGC=\"fast\"") != 1 ||
        count(c.err, "GOMEMLIMIT=\"-1\"") != 1 || count(c.err, "\"bogus=1\"") != 1 ||
        count(c.err, "GOALLOC_VERBOSE=\"yes\"") != 1)
        fail_msg("want one warning per bad variable, got: %s", c.err);
}

static void env_verbose_lists_everything(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {"GOALLOC_VERBOSE=1", "GOMEMLIMIT=1GiB", "GOALLOC_ARENA_RETAIN=16MiB", NULL};
    run_child(env, &c);
    char level[32];
    snprintf(level, sizeof level, "debug level %d", GOALLOC_DEBUG);
    static const char *const want[] = {
        "GOGC=100 (default)",
        "GOMEMLIMIT=1073741824 (environment)",
        "GOALLOC_DEBUG gctrace=0 (default)",
        "GOALLOC_DEBUG gcstoptheworld=0 (default)",
        "GOALLOC_DEBUG scavtrace=0 (default)",
        "GOALLOC_DEBUG madvdontneed=1 (default)",
        "GOALLOC_VERBOSE=1 (environment)",
        "GOALLOC_ARENA_RETAIN=16777216 (environment)",
        "test hooks",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (count(c.err, want[i]) != 1) fail_msg("verbose output lacks \"%s\": %s", want[i], c.err);
    if (count(c.err, level) != 1) fail_msg("verbose output lacks \"%s\": %s", level, c.err);
    assert_int_equal(count(c.err, "\n"), 9);
}

/* ---- debug.c: one line on stderr, then abort where it says so ---- */

static void diag_fatal_aborts_with_one_line(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {NULL};
    spawn_child("fatal", env, &c);
    assert_true(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGABRT);
    assert_string_equal(c.err, "goalloc: fatal: span 0x1000 of class 7 is broken\n");
}

static void diag_assert_names_expression_and_place(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {NULL};
    spawn_child("assert", env, &c);
    assert_true(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGABRT);
    assert_string_equal(c.err,
                        "goalloc: assertion failed: nalloc <= nelems (mspan.c:42, refill)\n");
}

static void diag_warn_lines_and_errno(void **state)
{
    (void)state;
    child_out c;
    char *env[] = {NULL};
    spawn_child("warn", env, &c);
    assert_true(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0);
    assert_string_equal(c.out, "errno=33\n"); /* EDOM kept through the writes */
    /* Three lines: the long one cut to the 512-byte buffer but still ending in a newline. */
    assert_int_equal(count(c.err, "\n"), 3);
    assert_true(strncmp(c.err, "goalloc: first 1\ngoalloc: long xxx", 34) == 0);
    const char *third = strrchr(c.err, '\n');
    while (third > c.err && third[-1] != '\n')
        third--;
    assert_string_equal(third, "gc 3 @1.250s 2%\n");
    size_t second_len = (size_t)(third - c.err) - strlen("goalloc: first 1\n");
    assert_int_equal(second_len, 512);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gogc_parsing),
        cmocka_unit_test(memlimit_parsing),
        cmocka_unit_test(debug_list_parsing),
        cmocka_unit_test(setters),
        cmocka_unit_test(env_defaults),
        cmocka_unit_test(env_good_values),
        cmocka_unit_test(env_bad_memlimit_warns_once),
        cmocka_unit_test(env_bad_values_each_warn_once),
        cmocka_unit_test(env_verbose_lists_everything),
        cmocka_unit_test(diag_fatal_aborts_with_one_line),
        cmocka_unit_test(diag_assert_names_expression_and_place),
        cmocka_unit_test(diag_warn_lines_and_errno),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
