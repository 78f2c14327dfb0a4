/* goalloc.c - `abench goalloc <tool>`: goalloc's own tools, which live beside abench in bin/.
 * Today one: `sizeclasses` execs bin/goalloc-sizeclasses (the size-class table as CSV) and
 * passes its output through unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hn.h"

int hn_cmd_goalloc(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: abench goalloc sizeclasses [args]\n"
                "  sizeclasses  goalloc's size-class table as CSV "
                "(class,bytes_obj,bytes_span,pages,objects,tail_waste,max_waste)\n");
        return argc < 2 ? HN_EXIT_USAGE : HN_EXIT_OK;
    }
    if (strcmp(argv[1], "sizeclasses") != 0) {
        hn_error("goalloc", "unknown tool '%s' (known: sizeclasses)", argv[1]);
        return HN_EXIT_USAGE;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/goalloc-sizeclasses", hn_bindir());
    if (access(path, X_OK) != 0) {
        hn_error("goalloc", "%s is missing (build the goalloc-sizeclasses target)", path);
        return HN_EXIT_FAIL;
    }
    fflush(NULL);
    argv[1] = path;
    execv(path, argv + 1);
    hn_error("goalloc", "cannot execute %s: %s", path, strerror(errno));
    return HN_EXIT_FAIL;
}
