/* goenv.c - the CLI's check of Go's knobs in the environment (GOGC, GOMEMLIMIT).
 *
 * goalloc and the Go runtime read GOGC and GOMEMLIMIT in every runner. goalloc warns once and
 * keeps its default on a malformed value (a library must not die of its environment), but a
 * benchmark run under a setting it did not get would be mislabelled, so the CLI refuses to
 * start: one line naming the variable and the value, exit 2. The parsers are goalloc's own
 * (allocators/goalloc/knobs.c), so the CLI and the allocator agree on the syntax.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ga_internal.h"
#include "hn.h"

int hn_check_go_env(const char *cmd)
{
    static const struct {
        const char *name;
        int (*parse)(const char *, int64_t *);
        const char *syntax;
    } knobs[] = {
        {"GOGC", _ga_parse_gogc, "'off' or a whole percent"},
        {"GOMEMLIMIT", _ga_parse_memlimit, "'off' or bytes with an optional B/KiB/MiB/GiB/TiB"},
    };
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
        const char *v = getenv(knobs[i].name);
        int64_t out;
        if (v && knobs[i].parse(v, &out) != 0) {
            hn_error(cmd, "%s='%s' is malformed: expected %s", knobs[i].name, v, knobs[i].syntax);
            return HN_EXIT_EX_USAGE;
        }
    }
    return HN_EXIT_OK;
}
