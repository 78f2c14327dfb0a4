/* goalloc.c - `abench goalloc <tool>`: goalloc's own tools, which live beside abench in bin/.
 * Today one: `sizeclasses` execs bin/goalloc-sizeclasses (the size-class table as CSV) and
 * passes its output through unchanged.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hn.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: abench goalloc sizeclasses [args]\n"
               "  sizeclasses  goalloc's size-class table as CSV "
               "(class,bytes_obj,bytes_span,pages,objects,tail_waste,max_waste)\n");
}

int hn_cmd_goalloc(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    /* "+": options end at the tool's name; what follows is the tool's own */
    while ((c = hn_getopt("goalloc", argc, argv, "+:h", opts)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return HN_EXIT_OK;
        }
        return HN_EXIT_EX_USAGE;
    }
    if (optind >= argc) {
        usage(stderr);
        return HN_EXIT_EX_USAGE;
    }
    if (strcmp(argv[optind], "sizeclasses") != 0) {
        hn_error("goalloc", "unknown tool '%s' (known: sizeclasses)", argv[optind]);
        return HN_EXIT_EX_USAGE;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/goalloc-sizeclasses", hn_bindir());
    if (access(path, X_OK) != 0) {
        hn_error("goalloc", "%s is missing (build the goalloc-sizeclasses target)", path);
        return HN_EXIT_FAIL;
    }
    fflush(NULL);
    argv[optind] = path;
    execv(path, argv + optind);
    hn_error("goalloc", "cannot execute %s: %s", path, strerror(errno));
    return HN_EXIT_FAIL;
}
