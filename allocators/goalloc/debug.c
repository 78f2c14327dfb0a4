/* debug.c - goalloc's diagnostics: failed assertions, fatal errors, warnings, trace lines.
 * See malloc.c for the overview.
 *
 * goalloc may BE the process malloc (preload.c), so nothing here allocates: messages are
 * formatted with vsnprintf into a stack buffer (integer and string formats only) and written
 * with one write(2) to stderr, which keeps each line whole when threads report at once.
 * Lines longer than the buffer are cut and still end in a newline. errno is preserved.
 * Every line starts with "goalloc: " except _ga_trace's, which mirror Go's trace formats.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ga_internal.h"

#define GA_LINE_MAX 512

/* Formats prefix + message + '\n' into buf and writes it to stderr in one call. */
__attribute__((format(printf, 2, 0))) static void emit_line(const char *prefix, const char *fmt,
                                                            va_list ap)
{
    int saved = errno;
    char buf[GA_LINE_MAX];
    int n = snprintf(buf, sizeof buf, "%s", prefix);
    if (n < 0) n = 0;
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    if (m > 0) n += m;
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1; /* cut: the newline takes the NUL's place */
    buf[n++] = '\n';
    for (const char *p = buf; n > 0;) {
        ssize_t w = write(STDERR_FILENO, p, (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        n -= (int)w;
    }
    errno = saved;
}

__attribute__((format(printf, 2, 3))) static void emit(const char *prefix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_line(prefix, fmt, ap);
    va_end(ap);
}

void _ga_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    emit("goalloc: ", "assertion failed: %s (%s:%d, %s)", expr, file, line, func);
    abort();
}

void _ga_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_line("goalloc: fatal: ", fmt, ap);
    va_end(ap);
    abort();
}

void _ga_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_line("goalloc: ", fmt, ap);
    va_end(ap);
}

void _ga_trace(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_line("", fmt, ap);
    va_end(ap);
}
