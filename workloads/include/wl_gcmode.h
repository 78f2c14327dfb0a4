/* wl_gcmode.h - one code path for GC workloads in collected and in manual mode.
 *
 * A GC workload runs collected on backends with AB_CAP_GC (allocation through gc_alloc,
 * pointer stores through gc_store_ptr, reachability from registered roots) and manually on
 * every other backend (malloc, plain stores, explicit free where the collected version drops
 * the last reference). Its `mode` parameter is auto|gc|manual; auto resolves by capability
 * and the row records the mode that ran.
 */
#ifndef WL_GCMODE_H
#define WL_GCMODE_H

#include "wl_workload.h"

#define WL_GCMODE_PARAM                                                                            \
    {                                                                                              \
        "mode", WL_P_ENUM, "auto", "gc: collected; manual: malloc/free; auto: gc where supported", \
            "auto|gc|manual", 0, -1                                                                \
    }

enum { WL_GCMODE_AUTO, WL_GCMODE_GC, WL_GCMODE_MANUAL };

/* Resolves run->p[idx] (auto -> gc or manual, rewriting its text); returns 0, or
 * WL_SETUP_NA when mode=gc is asked of a backend without AB_CAP_GC. */
int wl_gcmode_resolve(wl_run *run, unsigned idx, char *err, size_t errlen);

/* Zeroed object; scan = it may hold pointers. */
static inline void *wl_gcm_alloc(wl_thread *t, int gc, size_t size, int scan)
{
    if (gc) return wl_gc_alloc(t, size, scan ? AB_GC_SCAN : AB_GC_NOSCAN);
    return wl_calloc(t, 1, size);
}

static inline void wl_gcm_store(wl_thread *t, int gc, void **slot, void *v)
{
    if (gc)
        t->a->gc_store_ptr(slot, v);
    else
        *slot = v;
}

/* The program lets go of p (size bytes): free it, or leave it to the collector. */
static inline void wl_gcm_drop(wl_thread *t, int gc, void *p, size_t size)
{
    if (!p) return;
    if (gc)
        wl_gc_drop(t, size);
    else
        wl_free(t, p, size);
}

/* Root slots for GC mode: `n` zeroed pointer slots, registered as roots when gc is set. */
void **wl_gcm_roots_new(wl_run *run, int gc, size_t n);
void wl_gcm_roots_free(wl_run *run, int gc, void **roots, size_t n);

#endif /* WL_GCMODE_H */
