/* sizeclasses_csv.c - `goalloc-sizeclasses`: prints goalloc's compiled size-class table as CSV.
 * See malloc.c for the overview and sizeclass.c for the table's invariants.
 *
 * Columns: class,bytes_obj,bytes_span,pages,objects,tail_waste,max_waste (max_waste in
 * percent with two decimals, as in GO_ALLOCATOR_SPEC.md 1.2). One row per class 1..67.
 * `abench goalloc sizeclasses` execs this program from the same bin directory.
 */
#include <stdio.h>
#include <string.h>

#include "ga_internal.h"

int main(int argc, char **argv)
{
    if (argc > 1) {
        int help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr, "%s%s\n",
                help ? "" : "goalloc-sizeclasses: takes no arguments; ",
                "usage: goalloc-sizeclasses  (prints the size-class table as CSV)");
        return help ? 0 : 2;
    }
    printf("class,bytes_obj,bytes_span,pages,objects,tail_waste,max_waste\n");
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++)
        printf("%u,%u,%zu,%u,%u,%zu,%.2f\n", c, (unsigned)_ga_class_to_size[c],
               _ga_class_span_bytes(c), (unsigned)_ga_class_to_npages[c],
               (unsigned)_ga_class_to_nobjs[c], _ga_class_tail_waste(c),
               100.0 * _ga_class_max_waste(c));
    return fflush(stdout) == 0 ? 0 : 1;
}
