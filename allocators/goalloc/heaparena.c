/* heaparena.c - 64 MiB heap arenas and the address -> arena -> span map (spec 5.1, 5.5).
 * See malloc.c for the overview.
 *
 * The arena index has one pointer per 64 MiB of the 48-bit address space (2^22 entries,
 * 32 MiB of address space committed up front and paged in by the kernel on first touch, not
 * counted in any statistic, as in Go). An index entry is published once, with release order,
 * after its ga_heaparena is complete, and never cleared. A heaparena's spans[] entry for a
 * page points at the in-use span holding it and is NULL on free pages. zeroedbase only grows.
 * The class map (ga_internal.h: a byte per page, the small span's cache index) follows the
 * index in the same mapping and is written with the span map.
 * Arenas are reserved PROT_NONE near Go's hints (0xc000000000, then + k TiB); mheap.c commits
 * them as the heap grows. Callers of _ga_heaparena_reserve hold the heap lock.
 */
#include "ga_internal.h"

#define GA_HINT_BASE ((uintptr_t)0x00c0 << 32)
#define GA_HINT_STEP ((uintptr_t)1 << 40)
#define GA_HINTS 64 /* the lower half of Go's hint list; the upper half is for user arenas */

ga_heaparena **_ga_arenas;
uint8_t *_ga_classmap __attribute__((visibility("hidden")));
static ga_heaparena *all_arenas;
static size_t n_arenas;
static uintptr_t next_hint = GA_HINT_BASE;
static unsigned hints_tried;

/* The arena index and the class map share one mapping: the index, then the map. */
static bool index_init(void)
{
    size_t ibytes = GA_ARENA_INDEX_SIZE * sizeof(ga_heaparena *),
           bytes = ibytes + GA_CLASSMAP_PAGES;
    void *p = _ga_os_reserve(bytes, GA_OS_PAGE_SIZE, NULL);
    if (!p) return false;
    if (_ga_os_commit(p, bytes) != 0) {
        _ga_os_release(p, bytes);
        return false;
    }
    __atomic_store_n(&_ga_classmap, (uint8_t *)p + ibytes, __ATOMIC_RELEASE);
    __atomic_store_n(&_ga_arenas, (ga_heaparena **)p, __ATOMIC_RELEASE);
    return true;
}

bool _ga_heaparena_init(void)
{
    return _ga_arenas || index_init();
}

/* Address space for `size` bytes: at the hint when the kernel grants it (the hint is the end
 * of the previous reservation, so the heap stays contiguous), else the next hint, else
 * anywhere suitably aligned. */
static uintptr_t reserve_space(size_t size)
{
    while (hints_tried < GA_HINTS) {
        void *p = _ga_os_reserve(size, GA_ARENA_SIZE, (void *)next_hint);
        if (p && (uintptr_t)p + size <= ((uintptr_t)1 << (GA_ADDR_BITS - 1))) {
            if ((uintptr_t)p == next_hint) return (uintptr_t)p;
            _ga_os_release(p, size); /* granted elsewhere: try the next hint */
        }
        hints_tried++;
        next_hint = GA_HINT_BASE + hints_tried * GA_HINT_STEP;
    }
    void *p = _ga_os_reserve(size, GA_ARENA_SIZE, NULL);
    if (!p || (uintptr_t)p + size > ((uintptr_t)1 << GA_ADDR_BITS)) {
        if (p) _ga_os_release(p, size);
        return 0;
    }
    return (uintptr_t)p;
}

uintptr_t _ga_heaparena_reserve(size_t size)
{
    ga_assert_internal(size % GA_ARENA_SIZE == 0 && size > 0);
    if (!_ga_arenas && !index_init()) return 0;
    uintptr_t base = reserve_space(size);
    if (!base) return 0;
    size_t n = size / GA_ARENA_SIZE;
    ga_heaparena *made[n];
    for (size_t i = 0; i < n; i++) {
        made[i] = _ga_os_alloc_meta(sizeof(ga_heaparena));
        if (!made[i]) {
            for (size_t j = 0; j < i; j++)
                _ga_os_free_meta(made[j], sizeof(ga_heaparena));
            _ga_os_release((void *)base, size);
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        ga_heaparena *ha = made[i];
        ha->base = base + i * GA_ARENA_SIZE;
        ha->next = all_arenas;
        all_arenas = ha;
        n_arenas++;
        __atomic_store_n(&_ga_arenas[ha->base >> GA_ARENA_SHIFT], ha, __ATOMIC_RELEASE);
    }
    if (hints_tried < GA_HINTS) next_hint = base + size;
    return base;
}

size_t _ga_heaparena_count(void)
{
    return n_arenas;
}

ga_heaparena *_ga_heaparena_all(void)
{
    return all_arenas;
}

/* ---- The span map ---- */

void _ga_heaparena_set_span(ga_span *s, bool clear)
{
    ga_span *v = clear ? NULL : s;
    uint8_t ci = !clear && s->ci >= 2 && s->ci < GA_TINY_CENTRAL ? s->ci : 0;
    for (uintptr_t p = s->base, end = s->base + s->npages * GA_PAGE_SIZE; p < end;
         p += GA_PAGE_SIZE) {
        ga_heaparena *ha = _ga_arenas[p >> GA_ARENA_SHIFT];
        ga_assert_internal(ha != NULL);
        __atomic_store_n(&ha->spans[(p >> GA_PAGE_SHIFT) & (GA_PAGES_PER_ARENA - 1)], v,
                         __ATOMIC_RELEASE);
        uintptr_t page = (p >> GA_PAGE_SHIFT) - GA_CLASSMAP_FIRST;
        if (page < GA_CLASSMAP_PAGES) __atomic_store_n(&_ga_classmap[page], ci, __ATOMIC_RELEASE);
    }
}

/* ---- Fresh memory (spec 5.5) ---- */

bool _ga_heaparena_needzero(uintptr_t base, size_t size)
{
    bool need = false;
    while (size > 0) {
        ga_heaparena *ha = _ga_arenas[base >> GA_ARENA_SHIFT];
        uintptr_t off = base & (GA_ARENA_SIZE - 1);
        size_t n = GA_ARENA_SIZE - off < size ? GA_ARENA_SIZE - off : size;
        uintptr_t zb = atomic_load_explicit(&ha->zeroedbase, memory_order_relaxed);
        for (;;) {
            if (off < zb) need = true;
            if (off + n <= zb) break;
            if (atomic_compare_exchange_weak_explicit(&ha->zeroedbase, &zb, off + n,
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        }
        base += n;
        size -= n;
    }
    return need;
}
