/* pagealloc.c - the radix-tree page allocator (spec 6). See malloc.c for the overview.
 *
 * Owns ga_pagealloc (ga_pagealloc.h): per-chunk alloc and scavenged bitmaps in a two-level
 * chunk map, and a 5-level radix tree of packed (start, max, end) summaries over the 48-bit
 * address space. Allocation is address-ordered first fit starting at search_addr.
 * Invariants (checked by _ga_pagealloc_is_valid at debug level 3 and by the tests):
 *   - every summary equals the one re-derived from the bitmaps (leaves) or from its 8 children;
 *   - no in-use page has its scavenged bit set; a chunk's in_use equals its popcount;
 *   - every grown page below search_addr is allocated, and search_addr lies in a grown range
 *     or equals GA_PA_END_ADDR ("heap full").
 *
 * Address offset. Go indexes its tables by (addr - arenaBaseOffset) with the offset
 * 0xffff800000000000 on amd64 so that the whole sign-extended 48-bit space (both halves) maps
 * onto [0, 2^48). goalloc only ever manages user-space addresses, which on Linux x86-64 are
 * below 2^47, so the offset is 0 and an address indexes the tables directly.
 */
#include <string.h>

#include "ga_pagealloc.h"

#define FREE_CHUNK_SUM ((ga_psum)GA_CHUNK_PAGES * (1 | 1ull << 21 | 1ull << 42))

/* ---- Bitmaps of one chunk ---- */

static inline uint64_t low_mask(size_t n) /* the n low bits, 0 <= n <= 64 */
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* Applies op to the bits [lo, lo + n) of an 8-word bitmap; returns how many were set before. */
enum bits_op { BITS_COUNT, BITS_SET, BITS_CLEAR };
static size_t bits_range(uint64_t *b, size_t lo, size_t n, enum bits_op op)
{
    size_t hi = lo + n, count = 0;
    for (size_t w = lo / 64; w * 64 < hi; w++) {
        size_t wl = lo > w * 64 ? lo - w * 64 : 0, wh = hi - w * 64 < 64 ? hi - w * 64 : 64;
        uint64_t m = low_mask(wh - wl) << wl;
        count += (size_t)__builtin_popcountll(b[w] & m);
        if (op == BITS_SET) b[w] |= m;
        if (op == BITS_CLEAR) b[w] &= ~m;
    }
    return count;
}

/* Longest run of zero bits of x lying strictly between its lowest and highest set bit, if it
 * is longer than `max`; else max. x must be non-zero. Shrinks runs with shifted ANDs. */
static size_t interior_run(uint64_t x, size_t max)
{
    unsigned tz = (unsigned)__builtin_ctzll(x), lz = (unsigned)__builtin_clzll(x);
    uint64_t z = (~x >> tz) & low_mask(64 - tz - lz);
    unsigned k = (unsigned)max + 1;
    uint64_t c = _ga_bits_runs_of(z, k);
    while (c) {
        max = k++;
        c &= c >> 1;
    }
    return max;
}

uint64_t _ga_palloc_summarize(const uint64_t b[GA_PA_CHUNK_WORDS])
{
    size_t start = 0, end = 0, max, run = 0;
    int i;
    for (i = 0; i < GA_PA_CHUNK_WORDS && b[i] == 0; i++)
        start += 64;
    if (i == GA_PA_CHUNK_WORDS) return FREE_CHUNK_SUM;
    start += (size_t)__builtin_ctzll(b[i]);
    for (i = GA_PA_CHUNK_WORDS - 1; b[i] == 0; i--)
        end += 64;
    end += (size_t)__builtin_clzll(b[i]);

    /* Runs that touch word boundaries: trailing zeros continue the previous run. */
    max = start > end ? start : end;
    for (i = 0; i < GA_PA_CHUNK_WORDS; i++) {
        if (b[i] == 0) {
            run += 64;
            continue;
        }
        run += (size_t)__builtin_ctzll(b[i]);
        if (run > max) max = run;
        run = (size_t)__builtin_clzll(b[i]);
    }
    /* A run inside one word is at most 62 pages: only look when that could beat max. */
    for (i = 0; i < GA_PA_CHUNK_WORDS && max < 62; i++)
        if (b[i] != 0 && b[i] != ~0ull) max = interior_run(b[i], max);
    return _ga_psum_pack(start, max, end);
}

/* b[w] with the pages below `from` treated as allocated. */
static inline uint64_t word_from(const uint64_t *b, size_t w, size_t from)
{
    return w == from / 64 ? b[w] | low_mask(from % 64) : b[w];
}

static size_t find1(const uint64_t *b, size_t from)
{
    for (size_t w = from / 64; w < GA_PA_CHUNK_WORDS; w++) {
        uint64_t x = word_from(b, w, from);
        if (x != ~0ull) return w * 64 + (size_t)__builtin_ctzll(~x);
    }
    return GA_PA_NOT_FOUND;
}

/* 2 <= n <= 64: a run crosses at most one word boundary. */
static size_t find_small(const uint64_t *b, size_t n, size_t from)
{
    size_t prev = 0; /* free pages at the top of the previous word */
    for (size_t w = from / 64; w < GA_PA_CHUNK_WORDS; w++) {
        uint64_t x = word_from(b, w, from);
        size_t tz = x ? (size_t)__builtin_ctzll(x) : 64;
        if (prev + tz >= n) return w * 64 - prev;
        unsigned j = _ga_find_bit_range64(~x, (unsigned)n);
        if (j < 64) return w * 64 + j;
        prev = (size_t)__builtin_clzll(x);
    }
    return GA_PA_NOT_FOUND;
}

/* n > 64: accumulate free pages across words. */
static size_t find_large(const uint64_t *b, size_t n, size_t from)
{
    size_t start = 0, size = 0;
    for (size_t w = from / 64; w < GA_PA_CHUNK_WORDS; w++) {
        uint64_t x = word_from(b, w, from);
        if (size == 0) start = w * 64;
        if (x == 0) {
            size += 64;
        } else {
            size += (size_t)__builtin_ctzll(x);
            if (size >= n) return start;
            size = (size_t)__builtin_clzll(x);
            start = w * 64 + 64 - size;
        }
        if (size >= n) return start;
    }
    return GA_PA_NOT_FOUND;
}

size_t _ga_palloc_find(const uint64_t b[GA_PA_CHUNK_WORDS], size_t npages, size_t from,
                       size_t *first_free)
{
    size_t first = find1(b, from);
    if (first_free) *first_free = first == GA_PA_NOT_FOUND ? GA_CHUNK_PAGES : first;
    if (first == GA_PA_NOT_FOUND || npages == 1) return first;
    if (npages <= 64) return find_small(b, npages, first);
    return find_large(b, npages, first);
}

/* ---- Summaries: merging and updating ---- */

static ga_psum merge(const ga_psum *child, unsigned log_child_pages)
{
    size_t width = (size_t)1 << log_child_pages, start = 0, max = 0, end = 0;
    bool prefix_free = true;
    for (int k = 0; k < 1 << GA_PA_LEVEL_BITS; k++) {
        size_t cs = _ga_psum_start(child[k]), cm = _ga_psum_max(child[k]);
        if (prefix_free) start += cs;
        prefix_free = prefix_free && cs == width;
        if (end + cs > max) max = end + cs;
        if (cm > max) max = cm;
        end = cs == width ? end + width : _ga_psum_end(child[k]);
    }
    return _ga_psum_pack(start, max, end);
}

static bool range_is_valid(ga_pagealloc *pa, uintptr_t base, uintptr_t limit);

void _ga_pagealloc_update(ga_pagealloc *pa, uintptr_t base, size_t npages, bool contig, bool alloc)
{
    uintptr_t last = base + (npages - 1) * GA_PAGE_SIZE;
    size_t sc = base >> GA_PA_CHUNK_SHIFT, ec = last >> GA_PA_CHUNK_SHIFT;
    ga_psum *leaf = pa->summary[GA_PA_LEVELS - 1];
    if (sc == ec) {
        ga_psum s = _ga_palloc_summarize(_ga_pa_chunk(pa, sc)->alloc);
        if (s == leaf[sc]) return; /* nothing above can change either */
        leaf[sc] = s;
    } else {
        for (size_t ci = sc; ci <= ec; ci++) {
            if (contig && ci != sc && ci != ec)
                leaf[ci] = alloc ? 0 : FREE_CHUNK_SUM;
            else
                leaf[ci] = _ga_palloc_summarize(_ga_pa_chunk(pa, ci)->alloc);
        }
    }
    for (int l = GA_PA_LEVELS - 2; l >= 0; l--) {
        unsigned shift = _ga_pa_level_shift(l), cbits = _ga_pa_level_bits(l + 1);
        bool changed = false;
        for (size_t p = base >> shift; p <= last >> shift; p++) {
            ga_psum s = merge(&pa->summary[l + 1][p << cbits], _ga_pa_level_log_pages(l + 1));
            if (s != pa->summary[l][p]) {
                pa->summary[l][p] = s;
                changed = true;
            }
        }
        if (!changed) break;
    }
    ga_assert_expensive(range_is_valid(pa, base, last + 1));
}

/* ---- Grown ranges (in_use) ---- */

/* The lowest grown address >= addr, or GA_PA_END_ADDR. */
static uintptr_t next_grown_addr(const ga_pagealloc *pa, uintptr_t addr)
{
    for (size_t i = 0; i < pa->n_in_use; i++)
        if (addr < pa->in_use[i].limit)
            return addr > pa->in_use[i].base ? addr : pa->in_use[i].base;
    return GA_PA_END_ADDR;
}

static void add_range(ga_pagealloc *pa, uintptr_t base, uintptr_t limit)
{
    size_t i = 0;
    while (i < pa->n_in_use && pa->in_use[i].base < base)
        i++;
    ga_assert(i == 0 || pa->in_use[i - 1].limit <= base);
    ga_assert(i == pa->n_in_use || limit <= pa->in_use[i].base);
    bool join_prev = i > 0 && pa->in_use[i - 1].limit == base;
    bool join_next = i < pa->n_in_use && pa->in_use[i].base == limit;
    if (join_prev && join_next) {
        pa->in_use[i - 1].limit = pa->in_use[i].limit;
        memmove(&pa->in_use[i], &pa->in_use[i + 1], (pa->n_in_use - i - 1) * sizeof *pa->in_use);
        pa->n_in_use--;
        return;
    }
    if (join_prev) {
        pa->in_use[i - 1].limit = limit;
        return;
    }
    if (join_next) {
        pa->in_use[i].base = base;
        return;
    }
    if (pa->n_in_use == pa->cap_in_use) {
        size_t cap = pa->cap_in_use ? 2 * pa->cap_in_use : 16;
        ga_addr_range *r = _ga_os_alloc_meta(cap * sizeof *r);
        if (!r) _ga_fatal("page allocator: out of memory for the page allocator's range list");
        if (pa->n_in_use) memcpy(r, pa->in_use, pa->n_in_use * sizeof *r);
        _ga_os_free_meta(pa->in_use, pa->cap_in_use * sizeof *r);
        pa->in_use = r;
        pa->cap_in_use = cap;
    }
    memmove(&pa->in_use[i + 1], &pa->in_use[i], (pa->n_in_use - i) * sizeof *pa->in_use);
    pa->in_use[i] = (ga_addr_range){base, limit};
    pa->n_in_use++;
}

/* ---- Creation, growth, destruction ---- */

ga_pagealloc *_ga_pagealloc_new(void)
{
    ga_pagealloc *pa = _ga_os_alloc_meta(sizeof *pa);
    if (!pa) return NULL;
    size_t total = 0;
    for (int l = 0; l < GA_PA_LEVELS; l++)
        total += sizeof(ga_psum) << (GA_ADDR_BITS - _ga_pa_level_shift(l));
    char *va = _ga_os_reserve(total, GA_OS_PAGE_SIZE, NULL);
    if (!va) {
        _ga_os_free_meta(pa, sizeof *pa);
        return NULL;
    }
    pa->summary_va = va;
    pa->summary_va_size = total;
    for (int l = 0; l < GA_PA_LEVELS; l++) {
        pa->summary[l] = (ga_psum *)va;
        va += sizeof(ga_psum) << (GA_ADDR_BITS - _ga_pa_level_shift(l));
    }
    /* The root is small (128 KiB) and searched linearly across gaps: commit it whole. */
    if (_ga_os_commit(pa->summary[0], sizeof(ga_psum) << GA_PA_L0_BITS) != 0) {
        _ga_pagealloc_destroy(pa);
        return NULL;
    }
    pa->search_addr = GA_PA_END_ADDR;
    return pa;
}

void _ga_pagealloc_destroy(ga_pagealloc *pa)
{
    if (!pa) return;
    for (size_t i = 0; i < GA_PA_L1_ENTRIES; i++)
        _ga_os_free_meta(pa->chunks[i], GA_PA_L2_ENTRIES * sizeof(ga_pchunk));
    _ga_os_free_meta(pa->in_use, pa->cap_in_use * sizeof *pa->in_use);
    if (pa->summary_va) _ga_os_release(pa->summary_va, pa->summary_va_size);
    _ga_os_free_meta(pa, sizeof *pa);
}

/* Commits the summary pages covering [base, limit) at every level. */
static void commit_summaries(ga_pagealloc *pa, uintptr_t base, uintptr_t limit)
{
    for (int l = 1; l < GA_PA_LEVELS; l++) {
        unsigned shift = _ga_pa_level_shift(l);
        uintptr_t lo = (uintptr_t)&pa->summary[l][base >> shift];
        uintptr_t hi = (uintptr_t)&pa->summary[l][((limit - 1) >> shift) + 1];
        lo &= ~(GA_OS_PAGE_SIZE - 1);
        hi = (hi + GA_OS_PAGE_SIZE - 1) & ~(GA_OS_PAGE_SIZE - 1);
        if (_ga_os_commit((void *)lo, hi - lo) != 0)
            _ga_fatal("page allocator: cannot commit %zu bytes of page-allocator summaries",
                      hi - lo);
    }
}

void _ga_pagealloc_grow(ga_pagealloc *pa, uintptr_t base, size_t size)
{
    ga_assert(base % GA_CHUNK_SIZE == 0 && size % GA_CHUNK_SIZE == 0 && size > 0);
    ga_assert(base != 0 && base < GA_PA_END_ADDR && size <= GA_PA_END_ADDR - base);
    uintptr_t limit = base + size;
    commit_summaries(pa, base, limit);
    add_range(pa, base, limit);
    for (size_t ci = base >> GA_PA_CHUNK_SHIFT; ci < limit >> GA_PA_CHUNK_SHIFT; ci++) {
        ga_pchunk **l2 = &pa->chunks[ci >> GA_PA_L2_BITS];
        if (!*l2 && !(*l2 = _ga_os_alloc_meta(GA_PA_L2_ENTRIES * sizeof(ga_pchunk))))
            _ga_fatal("page allocator: out of memory for the page allocator's chunk map");
        ga_pchunk *c = _ga_pa_chunk(pa, ci);
        memset(c->alloc, 0, sizeof c->alloc);
        memset(c->scav, 0xff, sizeof c->scav); /* fresh memory counts as released */
        c->in_use = c->last_in_use = 0;
        c->gen = pa->gen;
        c->flags = GA_PCHUNK_GROWN | GA_PCHUNK_SCAV_EMPTY;
    }
    if (pa->end == 0 || (base >> GA_PA_CHUNK_SHIFT) < pa->start)
        pa->start = base >> GA_PA_CHUNK_SHIFT;
    if ((limit >> GA_PA_CHUNK_SHIFT) > pa->end) pa->end = limit >> GA_PA_CHUNK_SHIFT;
    if (base < pa->search_addr) pa->search_addr = base;
    _ga_pagealloc_update(pa, base, size / GA_PAGE_SIZE, true, false);
}

/* Summary pages committed at levels 1-4 (the union over grown ranges, page-rounded) plus the
 * whole root. They come from the reservation, so _ga_os_meta_bytes() does not count them. */
size_t _ga_pagealloc_summary_bytes(ga_pagealloc *pa)
{
    size_t total = sizeof(ga_psum) << GA_PA_L0_BITS;
    for (int l = 1; l < GA_PA_LEVELS; l++) {
        unsigned shift = _ga_pa_level_shift(l);
        uintptr_t prev_hi = 0;
        for (size_t r = 0; r < pa->n_in_use; r++) {
            uintptr_t lo = (uintptr_t)&pa->summary[l][pa->in_use[r].base >> shift];
            uintptr_t hi = (uintptr_t)&pa->summary[l][((pa->in_use[r].limit - 1) >> shift) + 1];
            lo &= ~(GA_OS_PAGE_SIZE - 1);
            hi = (hi + GA_OS_PAGE_SIZE - 1) & ~(GA_OS_PAGE_SIZE - 1);
            if (lo < prev_hi) lo = prev_hi; /* ranges are sorted: overlap only with the last */
            if (hi > lo) total += hi - lo;
            if (hi > prev_hi) prev_hi = hi;
        }
    }
    return total;
}

/* ---- find: address-ordered first fit over the tree (spec 6.3) ---- */

/* The leaf: first fit inside chunk ci, starting at search_addr's page if it lies there. */
static uintptr_t find_in_chunk(ga_pagealloc *pa, size_t ci, size_t npages, uintptr_t *first)
{
    size_t from = 0, ff;
    if (pa->search_addr >> GA_PA_CHUNK_SHIFT == ci)
        from = (pa->search_addr >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
    size_t i = _ga_palloc_find(_ga_pa_chunk(pa, ci)->alloc, npages, from, &ff);
    if (i == GA_PA_NOT_FOUND) _ga_fatal("page allocator: summary of chunk %zu is corrupt", ci);
    *first = _ga_pa_chunk_base(ci) + ff * GA_PAGE_SIZE;
    return _ga_pa_chunk_base(ci) + i * GA_PAGE_SIZE;
}

/* Walks the levels from the root. At each level it scans one block of entries (the whole
 * root, then the 8 children of the entry chosen above), keeping a candidate run that may
 * straddle entries, and descends into the first entry whose max fits. It also tracks the
 * first free region at or after search_addr for the new hint: exact while the descent follows
 * that region, the base of the region otherwise. Long because the walk is one loop over levels
 * whose state (run, hint) must survive the descent. */
uintptr_t _ga_pagealloc_find(ga_pagealloc *pa, size_t npages, uintptr_t *hint)
{
    if (pa->end == 0) return 0;
    uintptr_t ff = pa->search_addr;
    bool tracking = true; /* the descent still follows the first free region */
    size_t i = 0;         /* first entry of the block at this level */
    for (int l = 0; l < GA_PA_LEVELS; l++) {
        unsigned shift = _ga_pa_level_shift(l);
        size_t width = (size_t)1 << _ga_pa_level_log_pages(l);
        /* The root block ends at the highest grown entry; the rest are 8 children. */
        size_t n = l > 0 ? 8 : ((pa->end - 1) >> (_ga_pa_level_shift(0) - GA_PA_CHUNK_SHIFT)) + 1;
        size_t si = pa->search_addr >> shift, j = si >= i && si < i + n ? si - i : 0;
        if (si >= i + n) return 0; /* only at the root: nothing at or after search_addr */
        size_t run = 0, first_idx = GA_PA_NOT_FOUND;
        uintptr_t run_base = 0;
        for (; j < n; j++) {
            ga_psum s = pa->summary[l][i + j];
            if (s == 0) {
                run = 0;
                continue;
            }
            uintptr_t ebase = (uintptr_t)(i + j) << shift;
            if (first_idx == GA_PA_NOT_FOUND) {
                first_idx = i + j;
                if (tracking && ebase > ff) ff = ebase;
            }
            size_t st = _ga_psum_start(s);
            if (run + st >= npages) { /* a run that starts at or before this entry */
                if (run == 0) run_base = ebase;
                *hint = next_grown_addr(pa, ff);
                return run_base;
            }
            if (_ga_psum_max(s) >= npages) {
                tracking = tracking && first_idx == i + j;
                if (l == GA_PA_LEVELS - 1) {
                    uintptr_t first, addr = find_in_chunk(pa, i + j, npages, &first);
                    if (tracking && first > ff) ff = first;
                    *hint = next_grown_addr(pa, ff);
                    return addr;
                }
                i = (i + j) << _ga_pa_level_bits(l + 1);
                goto next_level;
            }
            if (st == width) {
                if (run == 0) run_base = ebase;
                run += width;
            } else {
                run = _ga_psum_end(s);
                run_base = ebase + (width - run) * GA_PAGE_SIZE;
            }
        }
        if (l == 0) return 0;
        _ga_fatal("page allocator: summaries at level %d are corrupt", l);
    next_level:;
    }
    return 0; /* not reached: the leaf level always returns */
}

/* ---- alloc / free (spec 6.4) ---- */

size_t _ga_pagealloc_alloc_range(ga_pagealloc *pa, uintptr_t base, size_t npages)
{
    uintptr_t limit = base + npages * GA_PAGE_SIZE;
    size_t scav = 0;
    for (uintptr_t a = base; a < limit;) {
        size_t ci = a >> GA_PA_CHUNK_SHIFT;
        uintptr_t cend = _ga_pa_chunk_base(ci + 1) < limit ? _ga_pa_chunk_base(ci + 1) : limit;
        size_t lo = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1), n = (cend - a) >> GA_PAGE_SHIFT;
        ga_pchunk *c = _ga_pa_chunk(pa, ci);
        scav += bits_range(c->scav, lo, n, BITS_CLEAR);
        size_t was = bits_range(c->alloc, lo, n, BITS_SET);
        ga_assert_internal(was == 0);
        (void)was;
        _ga_pchunk_account(pa, c, (int)n);
        a = cend;
    }
    _ga_pagealloc_update(pa, base, npages, true, true);
    return scav * GA_PAGE_SIZE;
}

void _ga_pagealloc_free_range(ga_pagealloc *pa, uintptr_t base, size_t npages, bool scavenged)
{
    uintptr_t limit = base + npages * GA_PAGE_SIZE;
    if (base < pa->search_addr) pa->search_addr = base;
    for (uintptr_t a = base; a < limit;) {
        size_t ci = a >> GA_PA_CHUNK_SHIFT;
        uintptr_t cend = _ga_pa_chunk_base(ci + 1) < limit ? _ga_pa_chunk_base(ci + 1) : limit;
        size_t lo = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1), n = (cend - a) >> GA_PAGE_SHIFT;
        ga_pchunk *c = _ga_pa_chunk(pa, ci);
        if (!c || !(c->flags & GA_PCHUNK_GROWN))
            _ga_fatal("page allocator: freeing %zu pages at %#lx, outside the heap", npages,
                      (unsigned long)base);
        size_t was = bits_range(c->alloc, lo, n, BITS_CLEAR);
        if (was != n)
            _ga_fatal("page allocator: freeing %zu pages at %#lx, but %zu of them are not "
                      "allocated (double free?)",
                      npages, (unsigned long)base, n - was);
        if (scavenged)
            bits_range(c->scav, lo, n, BITS_SET);
        else
            _ga_pchunk_note_free(pa, c, ci);
        _ga_pchunk_account(pa, c, -(int)n);
        a = cend;
    }
    _ga_pagealloc_update(pa, base, npages, true, false);
}

uintptr_t _ga_pagealloc_alloc(ga_pagealloc *pa, size_t npages, size_t *scav)
{
    if (scav) *scav = 0;
    ga_assert(npages > 0);
    size_t ci = pa->search_addr >> GA_PA_CHUNK_SHIFT;
    if (npages == 0 || ci >= pa->end) return 0;
    uintptr_t addr = 0, hint = 0;
    size_t from = (pa->search_addr >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
    /* Fast path: the run fits in search_addr's chunk. Budget: one leaf summary read and one
     * scan of that chunk's 8-word bitmap; no tree walk. */
    if (from + npages <= GA_CHUNK_PAGES &&
        _ga_psum_max(pa->summary[GA_PA_LEVELS - 1][ci]) >= npages) {
        size_t ff, i = _ga_palloc_find(_ga_pa_chunk(pa, ci)->alloc, npages, from, &ff);
        if (i != GA_PA_NOT_FOUND) {
            addr = _ga_pa_chunk_base(ci) + i * GA_PAGE_SIZE;
            hint = _ga_pa_chunk_base(ci) + ff * GA_PAGE_SIZE;
        }
    }
    if (!addr && !(addr = _ga_pagealloc_find(pa, npages, &hint))) {
        if (npages == 1) pa->search_addr = GA_PA_END_ADDR; /* no free page anywhere */
        return 0;
    }
    size_t s = _ga_pagealloc_alloc_range(pa, addr, npages);
    if (hint > pa->search_addr) pa->search_addr = hint;
    if (scav) *scav = s;
    return addr;
}

void _ga_pagealloc_free(ga_pagealloc *pa, uintptr_t base, size_t npages)
{
    ga_assert(npages > 0 && base % GA_PAGE_SIZE == 0);
    if (npages == 0) return;
    _ga_pagealloc_free_range(pa, base, npages, false);
}

/* ---- Validity (debug level 3 and tests) ---- */

#define INVALID(...) (_ga_warn(__VA_ARGS__), false)

static bool chunk_is_valid(ga_pagealloc *pa, size_t ci)
{
    ga_pchunk *c = _ga_pa_chunk(pa, ci);
    if (!c || !(c->flags & GA_PCHUNK_GROWN)) return INVALID("pagealloc: chunk %zu not grown", ci);
    ga_psum s = _ga_palloc_summarize(c->alloc);
    if (s != pa->summary[GA_PA_LEVELS - 1][ci])
        return INVALID("pagealloc: chunk %zu summary %#llx, bitmap says %#llx", ci,
                       (unsigned long long)pa->summary[GA_PA_LEVELS - 1][ci],
                       (unsigned long long)s);
    size_t pop = 0;
    for (int w = 0; w < GA_PA_CHUNK_WORDS; w++) {
        if (c->alloc[w] & c->scav[w])
            return INVALID("pagealloc: chunk %zu word %d: in-use page marked scavenged", ci, w);
        pop += (size_t)__builtin_popcountll(c->alloc[w]);
    }
    if (pop != c->in_use)
        return INVALID("pagealloc: chunk %zu in_use %u, bitmap has %zu", ci, c->in_use, pop);
    /* Pages below search_addr must be allocated. */
    size_t below = 0;
    if (pa->search_addr >= _ga_pa_chunk_base(ci + 1))
        below = GA_CHUNK_PAGES;
    else if (pa->search_addr > _ga_pa_chunk_base(ci))
        below = (pa->search_addr - _ga_pa_chunk_base(ci)) >> GA_PAGE_SHIFT;
    if (below && bits_range(c->alloc, 0, below, BITS_COUNT) != below)
        return INVALID("pagealloc: free page in chunk %zu below search address %#lx", ci,
                       (unsigned long)pa->search_addr);
    return true;
}

/* The chunks of [base, limit) and every summary above them; the search-address invariant. */
static bool range_is_valid(ga_pagealloc *pa, uintptr_t base, uintptr_t limit)
{
    if (pa->search_addr != GA_PA_END_ADDR &&
        next_grown_addr(pa, pa->search_addr) != pa->search_addr)
        return INVALID("pagealloc: search address %#lx is not in grown memory",
                       (unsigned long)pa->search_addr);
    for (size_t ci = base >> GA_PA_CHUNK_SHIFT; ci <= (limit - 1) >> GA_PA_CHUNK_SHIFT; ci++)
        if (!chunk_is_valid(pa, ci)) return false;
    for (int l = GA_PA_LEVELS - 2; l >= 0; l--) {
        unsigned shift = _ga_pa_level_shift(l);
        for (size_t p = base >> shift; p <= (limit - 1) >> shift; p++) {
            ga_psum s = merge(&pa->summary[l + 1][p << _ga_pa_level_bits(l + 1)],
                              _ga_pa_level_log_pages(l + 1));
            if (s != pa->summary[l][p])
                return INVALID("pagealloc: level %d entry %zu is %#llx, children say %#llx", l, p,
                               (unsigned long long)pa->summary[l][p], (unsigned long long)s);
        }
    }
    return true;
}

bool _ga_pagealloc_is_valid(ga_pagealloc *pa)
{
    if (pa->n_in_use == 0 && pa->search_addr != GA_PA_END_ADDR)
        return INVALID("pagealloc: search address %#lx with nothing grown",
                       (unsigned long)pa->search_addr);
    for (size_t r = 0; r < pa->n_in_use; r++) {
        if (r > 0 && pa->in_use[r - 1].limit >= pa->in_use[r].base)
            return INVALID("pagealloc: grown ranges %zu and %zu overlap or touch", r - 1, r);
        if (!range_is_valid(pa, pa->in_use[r].base, pa->in_use[r].limit)) return false;
    }
    return true;
}

/* ---- Test support ---- */

void _ga_pagealloc_set_range_for_test(ga_pagealloc *pa, uintptr_t base, size_t npages, bool alloc,
                                      bool scav)
{
    uintptr_t limit = base + npages * GA_PAGE_SIZE;
    if (!alloc && base < pa->search_addr) pa->search_addr = base;
    for (uintptr_t a = base; a < limit;) {
        size_t ci = a >> GA_PA_CHUNK_SHIFT;
        uintptr_t cend = _ga_pa_chunk_base(ci + 1) < limit ? _ga_pa_chunk_base(ci + 1) : limit;
        size_t lo = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1), n = (cend - a) >> GA_PAGE_SHIFT;
        ga_pchunk *c = _ga_pa_chunk(pa, ci);
        ga_assert(c && (c->flags & GA_PCHUNK_GROWN));
        size_t was = bits_range(c->alloc, lo, n, alloc ? BITS_SET : BITS_CLEAR);
        bits_range(c->scav, lo, n, scav && !alloc ? BITS_SET : BITS_CLEAR);
        _ga_pchunk_account(pa, c, alloc ? (int)(n - was) : -(int)was);
        if (!alloc) _ga_pchunk_note_free(pa, c, ci);
        _ga_pagealloc_update(pa, a, n, false, alloc);
        a = cend;
    }
}
