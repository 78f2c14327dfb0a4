/* check_wrong.c - check_process_malloc() must fail when its claim is false.
 *
 * Built with -DAB_CT_ALLOC=ab_alloc_<name> into an executable whose process malloc is
 * deliberately NOT that backend's (see CMakeLists.txt: libc linked ahead of jemalloc /
 * mimalloc / tcmalloc, so glibc's malloc wins; or jemalloc linked into the sys and boehm
 * checks, so jemalloc's wins). The check must return -1 with a one-line reason.
 */
#include <stdio.h>
#include <string.h>

#include "ab_allocator.h"

int main(void)
{
    const ab_allocator *a = &AB_CT_ALLOC;
    char err[512] = "";
    if (a->init && a->init(err, sizeof err) != 0) {
        fprintf(stderr, "check_wrong[%s]: init failed: %s\n", a->name, err);
        return 1;
    }
    int rc = a->check_process_malloc(err, sizeof err);
    if (rc == 0) {
        fprintf(stderr,
                "check_wrong[%s]: check_process_malloc() accepted a process malloc that "
                "is not the backend's\n",
                a->name);
        return 1;
    }
    if (strlen(err) == 0 || strchr(err, '\n')) {
        fprintf(stderr, "check_wrong[%s]: the reason must be one non-empty line\n", a->name);
        return 1;
    }
    printf("check_wrong[%s]: refused as it must: %s\n", a->name, err);
    return 0;
}
