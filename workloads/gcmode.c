/* gcmode.c - resolving a GC workload's mode and its root slots (see wl_gcmode.h). */
#include <stdio.h>

#include "wl_gcmode.h"

int wl_gcmode_resolve(wl_run *run, unsigned idx, char *err, size_t errlen)
{
    int has_gc = (run->a->caps & AB_CAP_GC) != 0;
    int mode = (int)run->p[idx].i;
    if (mode == WL_GCMODE_GC && !has_gc) {
        snprintf(err, errlen, "mode=gc needs a garbage-collecting backend");
        return WL_SETUP_NA;
    }
    if (mode == WL_GCMODE_AUTO) mode = has_gc ? WL_GCMODE_GC : WL_GCMODE_MANUAL;
    run->p[idx].i = mode;
    run->p[idx].s = mode == WL_GCMODE_GC ? "gc" : "manual";
    return 0;
}

void **wl_gcm_roots_new(wl_run *run, int gc, size_t n)
{
    void **roots = run->a->calloc(n, sizeof(void *));
    if (roots && gc && run->a->gc_add_roots(roots, roots + n) != 0) {
        run->a->free(roots);
        return NULL;
    }
    return roots;
}

void wl_gcm_roots_free(wl_run *run, int gc, void **roots, size_t n)
{
    if (!roots) return;
    if (gc) run->a->gc_remove_roots(roots, roots + n);
    run->a->free(roots);
}
