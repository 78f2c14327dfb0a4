/* fuzz_pagealloc.c - goalloc's page allocator (pagealloc.c, pagecache.c, scavenge.c) against
 * a plain bitmap model.
 *
 * Each input makes a fresh ga_pagealloc over made-up addresses (it never touches the pages it
 * manages) and decodes into: grow (1-4 chunks near, far apart, or at the top of the address
 * space), alloc (1 page to several chunks), free (whole runs or pieces of them), page-cache
 * fill / alloc / flush (two caches), scavenge (forced or not) and new scavenge generations.
 * The model keeps an alloc and a scavenged bit per page of every grown chunk:
 *  - alloc(n) must return exactly the model's address-ordered first fit (runs may cross
 *    adjacent grown chunks, never a gap) and exactly the scavenged bytes of that run, or 0
 *    when no run fits;
 *  - a cache fill takes the aligned 64-page block holding the lowest free page, its free and
 *    scavenged bits; cache allocs and flushes agree with the model's copy of the cache;
 *  - every run the scavenger releases was free and not yet scavenged; a forced scavenge
 *    releases at least what was asked (page-rounded) unless fewer such pages exist;
 *  - at the end the scavenged-bytes walk equals the model, draining one page at a time
 *    follows the model page by page, and _ga_pagealloc_is_valid() holds.
 * Invariants of the model: pages outside grown chunks count as allocated; runs[] lists every
 * allocation not freed yet, disjoint.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fz.h"
#include "ga_pagealloc.h"

#define FZ_PA_MAX_CHUNKS 12
#define FZ_PA_MAX_RUNS 2048
#define FZ_PA_WORDS GA_PA_CHUNK_WORDS

/* ---- The model ---- */

typedef struct fz_chunk {
    size_t ci; /* chunk index (address >> 22); chunks[] sorted by ci */
    uint64_t alloc[FZ_PA_WORDS];
    uint64_t scav[FZ_PA_WORDS];
} fz_chunk;

typedef struct fz_run {
    uintptr_t base;
    size_t npages;
} fz_run;

static fz_chunk chunks[FZ_PA_MAX_CHUNKS];
static size_t nchunks;
static fz_run runs[FZ_PA_MAX_RUNS];
static size_t nruns;

static fz_chunk *model_chunk(size_t ci)
{
    for (size_t i = 0; i < nchunks; i++)
        if (chunks[i].ci == ci) return &chunks[i];
    return NULL;
}

static bool bit(const uint64_t *b, size_t i)
{
    return b[i / 64] >> (i % 64) & 1;
}

static void set_bit(uint64_t *b, size_t i, bool v)
{
    if (v)
        b[i / 64] |= 1ull << (i % 64);
    else
        b[i / 64] &= ~(1ull << (i % 64));
}

/* Applies fn to every page of [base, base + n pages): page index in its chunk. */
static size_t model_mark(uintptr_t base, size_t n, bool alloc)
{
    size_t scav = 0;
    for (size_t k = 0; k < n; k++) {
        uintptr_t a = base + k * GA_PAGE_SIZE;
        fz_chunk *c = model_chunk(a >> GA_PA_CHUNK_SHIFT);
        size_t p = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
        FZ_CHECK(c, "model: page %#lx not grown", (unsigned long)a);
        FZ_CHECK(bit(c->alloc, p) != alloc, "model: page %#lx already %s", (unsigned long)a,
                 alloc ? "allocated" : "free");
        if (alloc) {
            scav += bit(c->scav, p);
            set_bit(c->scav, p, false);
        }
        set_bit(c->alloc, p, alloc);
    }
    return scav * GA_PAGE_SIZE;
}

/* Address-ordered first fit of n free pages; 0 when none. */
static uintptr_t model_first_fit(size_t n)
{
    uintptr_t start = 0;
    size_t len = 0, prev_ci = 0;
    for (size_t i = 0; i < nchunks; i++) {
        const fz_chunk *c = &chunks[i];
        if (i > 0 && c->ci != prev_ci + 1) len = 0; /* a gap breaks any run */
        prev_ci = c->ci;
        for (size_t w = 0; w < FZ_PA_WORDS; w++) {
            if (c->alloc[w] == ~0ull) {
                len = 0;
                continue;
            }
            for (size_t b = 0; b < 64; b++) {
                if (c->alloc[w] >> b & 1) {
                    len = 0;
                    continue;
                }
                if (len++ == 0) start = (c->ci << GA_PA_CHUNK_SHIFT) + (w * 64 + b) * GA_PAGE_SIZE;
                if (len == n) return start;
            }
        }
    }
    return 0;
}

static size_t model_free_unscavenged(void)
{
    size_t pages = 0;
    for (size_t i = 0; i < nchunks; i++)
        for (size_t w = 0; w < FZ_PA_WORDS; w++)
            pages += (size_t)__builtin_popcountll(~chunks[i].alloc[w] & ~chunks[i].scav[w]);
    return pages * GA_PAGE_SIZE;
}

static size_t model_scavenged(void)
{
    size_t pages = 0;
    for (size_t i = 0; i < nchunks; i++)
        for (size_t w = 0; w < FZ_PA_WORDS; w++)
            pages += (size_t)__builtin_popcountll(chunks[i].scav[w]);
    return pages * GA_PAGE_SIZE;
}

static void run_add(uintptr_t base, size_t n)
{
    if (nruns < FZ_PA_MAX_RUNS) runs[nruns++] = (fz_run){base, n};
    /* else: the run is simply never freed by an op (the drain at the end ignores runs) */
}

/* ---- Operations ---- */

static ga_pagealloc *pa;

static void op_grow(fz_input *in)
{
    size_t n = 1 + fz_u8(in) % 4, ci;
    switch (fz_u8(in) % 4) {
    case 0:
        ci = 1 + fz_u8(in) % 24;
        break; /* near, often adjacent */
    case 1:
        ci = 0xff + fz_u8(in) % 8;
        break; /* a little apart */
    case 2:
        ci = ((size_t)1 << 20) + fz_u8(in) % 8;
        break; /* far apart (4 TiB) */
    default:
        ci = GA_PA_NUM_CHUNKS - 4 - fz_u8(in) % 8;
        break; /* the top of 2^48 */
    }
    if (nchunks + n > FZ_PA_MAX_CHUNKS || ci + n > GA_PA_NUM_CHUNKS) return;
    for (size_t k = 0; k < n; k++)
        if (model_chunk(ci + k)) return;
    _ga_pagealloc_grow(pa, (uintptr_t)ci << GA_PA_CHUNK_SHIFT, n * GA_CHUNK_SIZE);
    for (size_t k = 0; k < n; k++) {
        size_t i = nchunks;
        while (i > 0 && chunks[i - 1].ci > ci + k) {
            chunks[i] = chunks[i - 1];
            i--;
        }
        memset(&chunks[i], 0, sizeof chunks[i]);
        chunks[i].ci = ci + k;
        memset(chunks[i].scav, 0xff, sizeof chunks[i].scav); /* fresh memory is released */
        nchunks++;
    }
}

static size_t decode_npages(fz_input *in)
{
    static const size_t edge[] = {1, 2, 5, 63, 64, 65, 511, 512, 513, 1024, 7 * 512 + 5};
    switch (fz_u8(in) % 4) {
    case 0:
        return 1;
    case 1:
        return 1 + fz_u8(in) % 64;
    case 2:
        return 1 + fz_u16(in) % 700;
    default:
        return edge[fz_below(in, sizeof edge / sizeof edge[0])];
    }
}

static void op_alloc(fz_input *in)
{
    size_t n = decode_npages(in), scav = 12345;
    uintptr_t want = model_first_fit(n);
    uintptr_t got = _ga_pagealloc_alloc(pa, n, &scav);
    FZ_CHECK(got == want, "alloc(%zu pages) = %#lx, first fit is %#lx", n, (unsigned long)got,
             (unsigned long)want);
    if (!got) return;
    size_t want_scav = model_mark(got, n, true);
    FZ_CHECK(scav == want_scav, "alloc(%zu pages) at %#lx: scavenged %zu bytes, model %zu", n,
             (unsigned long)got, scav, want_scav);
    run_add(got, n);
}

static void op_free(fz_input *in)
{
    if (nruns == 0) return;
    size_t i = fz_below(in, nruns);
    fz_run r = runs[i];
    size_t off = 0, n = r.npages;
    if (fz_u8(in) & 1 && r.npages > 1) { /* a piece: [off, off + n) of the run */
        off = fz_below(in, r.npages);
        n = 1 + fz_below(in, r.npages - off);
    }
    uintptr_t base = r.base + off * GA_PAGE_SIZE;
    _ga_pagealloc_free(pa, base, n);
    model_mark(base, n, false);
    runs[i] = runs[--nruns];
    if (off > 0) run_add(r.base, off);
    if (off + n < r.npages) run_add(base + n * GA_PAGE_SIZE, r.npages - off - n);
}

/* ---- Page caches ---- */

static ga_pagecache cache[2];
static ga_pagecache model_cache[2];

static void op_cache_fill(fz_input *in)
{
    unsigned k = fz_u8(in) & 1;
    if (cache[k].cache != 0) return;
    uintptr_t first = model_first_fit(1);
    ga_pagecache got = _ga_pagealloc_alloc_to_cache(pa);
    ga_pagecache want = {0, 0, 0};
    if (first) {
        fz_chunk *c = model_chunk(first >> GA_PA_CHUNK_SHIFT);
        size_t w = ((first >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1)) / 64;
        want.base = (c->ci << GA_PA_CHUNK_SHIFT) + w * 64 * GA_PAGE_SIZE;
        want.cache = ~c->alloc[w];
        want.scav = c->scav[w] & want.cache;
        c->alloc[w] = ~0ull;
        c->scav[w] = 0;
    }
    FZ_CHECK(got.base == want.base && got.cache == want.cache && got.scav == want.scav,
             "alloc_to_cache = {%#lx, %#llx, %#llx}, model {%#lx, %#llx, %#llx}",
             (unsigned long)got.base, (unsigned long long)got.cache, (unsigned long long)got.scav,
             (unsigned long)want.base, (unsigned long long)want.cache,
             (unsigned long long)want.scav);
    cache[k] = got;
    model_cache[k] = want;
}

static void op_cache_alloc(fz_input *in)
{
    unsigned k = fz_u8(in) & 1;
    size_t n = fz_u8(in) % 4 ? 1 + fz_u8(in) % 8 : 1 + fz_u8(in) % 64;
    size_t scav = 12345;
    uintptr_t got = _ga_pagecache_alloc(&cache[k], n, &scav);
    ga_pagecache *m = &model_cache[k];
    uintptr_t want = 0;
    size_t want_scav = 0;
    for (size_t i = 0; i + n <= 64 && m->cache; i++) {
        uint64_t mask = (n == 64 ? ~0ull : (1ull << n) - 1) << i;
        if ((m->cache & mask) != mask) continue;
        want = m->base + i * GA_PAGE_SIZE;
        want_scav = (size_t)__builtin_popcountll(m->scav & mask) * GA_PAGE_SIZE;
        m->cache &= ~mask;
        m->scav &= ~mask;
        break;
    }
    FZ_CHECK(got == want, "pagecache_alloc(%zu pages) = %#lx, model %#lx", n, (unsigned long)got,
             (unsigned long)want);
    FZ_CHECK(!got || scav == want_scav, "pagecache_alloc(%zu) at %#lx: scav %zu, model %zu", n,
             (unsigned long)got, scav, want_scav);
    FZ_CHECK(cache[k].cache == m->cache && cache[k].scav == m->scav,
             "page cache bits %#llx/%#llx after alloc, model %#llx/%#llx",
             (unsigned long long)cache[k].cache, (unsigned long long)cache[k].scav,
             (unsigned long long)m->cache, (unsigned long long)m->scav);
    if (got) run_add(got, n);
}

static void cache_flush(unsigned k)
{
    ga_pagecache *m = &model_cache[k];
    for (size_t i = 0; i < 64; i++) {
        if (!(m->cache >> i & 1)) continue;
        uintptr_t a = m->base + i * GA_PAGE_SIZE;
        fz_chunk *c = model_chunk(a >> GA_PA_CHUNK_SHIFT);
        size_t p = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
        set_bit(c->alloc, p, false);
        set_bit(c->scav, p, m->scav >> i & 1);
    }
    _ga_pagecache_flush(&cache[k], pa);
    FZ_CHECK(cache[k].base == 0 && cache[k].cache == 0 && cache[k].scav == 0,
             "page cache not empty after flush");
    *m = (ga_pagecache){0, 0, 0};
}

/* ---- Scavenging ---- */

static size_t released_total;

static void on_release(void *arg, uintptr_t base, size_t bytes)
{
    (void)arg;
    FZ_CHECK(bytes > 0 && bytes % GA_PAGE_SIZE == 0 && base % GA_PAGE_SIZE == 0,
             "scavenger released [%#lx, +%zu): not whole pages", (unsigned long)base, bytes);
    for (size_t k = 0; k < bytes / GA_PAGE_SIZE; k++) {
        uintptr_t a = base + k * GA_PAGE_SIZE;
        fz_chunk *c = model_chunk(a >> GA_PA_CHUNK_SHIFT);
        size_t p = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
        FZ_CHECK(c && !bit(c->alloc, p) && !bit(c->scav, p),
                 "scavenger released page %#lx, which is %s", (unsigned long)a,
                 !c                 ? "not grown"
                 : bit(c->alloc, p) ? "in use"
                                    : "already scavenged");
        set_bit(c->scav, p, true);
    }
    released_total += bytes;
}

static void op_scavenge(fz_input *in)
{
    bool force = fz_u8(in) & 1;
    size_t want = (size_t)(1 + fz_u16(in) % 2048) * 4096;
    size_t avail = model_free_unscavenged();
    released_total = 0;
    size_t got = _ga_pagealloc_scavenge(pa, want, force, on_release, NULL);
    FZ_CHECK(got == released_total, "scavenge returned %zu, released %zu", got, released_total);
    FZ_CHECK(got <= avail, "scavenge released %zu > %zu free unscavenged bytes", got, avail);
    size_t rounded = (want + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE * GA_PAGE_SIZE;
    if (force)
        FZ_CHECK(got >= (rounded < avail ? rounded : avail),
                 "forced scavenge of %zu bytes released %zu with %zu free unscavenged", want, got,
                 avail);
}

/* ---- Entry point ---- */

static void check_end(void)
{
    for (unsigned k = 0; k < 2; k++)
        cache_flush(k);
    FZ_CHECK(_ga_pagealloc_scavenged_bytes(pa) == model_scavenged(),
             "scavenged bytes %zu, model %zu", _ga_pagealloc_scavenged_bytes(pa),
             model_scavenged());
    FZ_CHECK(_ga_pagealloc_is_valid(pa), "_ga_pagealloc_is_valid() failed (message above)");
    /* Drain in address order, one run of pages with the same scavenged state at a time: the
     * lowest free page starts the lowest free run, so first fit must return exactly it, with
     * all or none of its bytes scavenged (a walk of the model, cheap enough for every input). */
    for (size_t i = 0; i < nchunks; i++) {
        fz_chunk *c = &chunks[i];
        for (size_t p = 0; p < GA_CHUNK_PAGES;) {
            if (bit(c->alloc, p)) {
                p++;
                continue;
            }
            bool s = bit(c->scav, p);
            size_t n = 1;
            while (p + n < GA_CHUNK_PAGES && !bit(c->alloc, p + n) && bit(c->scav, p + n) == s)
                n++;
            uintptr_t want = (c->ci << GA_PA_CHUNK_SHIFT) + p * GA_PAGE_SIZE;
            size_t scav = 12345, want_scav = s ? n * GA_PAGE_SIZE : 0;
            uintptr_t got = _ga_pagealloc_alloc(pa, n, &scav);
            FZ_CHECK(got == want, "drain: alloc(%zu) = %#lx, model %#lx", n, (unsigned long)got,
                     (unsigned long)want);
            FZ_CHECK(scav == want_scav, "drain: run %#lx+%zu scavenged %zu, model %zu",
                     (unsigned long)got, n, scav, want_scav);
            model_mark(want, n, true);
            p += n;
        }
    }
    size_t scav = 0;
    uintptr_t extra = _ga_pagealloc_alloc(pa, 1, &scav);
    FZ_CHECK(extra == 0, "drain: alloc(1) = %#lx with every page allocated", (unsigned long)extra);
    FZ_CHECK(_ga_pagealloc_is_valid(pa), "_ga_pagealloc_is_valid() failed after the drain");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = fz_input_make(data, size);
    pa = _ga_pagealloc_new();
    FZ_CHECK(pa != NULL, "_ga_pagealloc_new() returned NULL");
    nchunks = nruns = 0;
    memset(cache, 0, sizeof cache);
    memset(model_cache, 0, sizeof model_cache);
    for (unsigned steps = 0; fz_more(&in) && steps < 2048; steps++) {
        switch (fz_u8(&in) % 16) {
        case 0:
        case 1:
            op_grow(&in);
            break;
        case 2:
        case 3:
        case 4:
        case 5:
            op_alloc(&in);
            break;
        case 6:
        case 7:
        case 8:
            op_free(&in);
            break;
        case 9:
            op_cache_fill(&in);
            break;
        case 10:
        case 11:
            op_cache_alloc(&in);
            break;
        case 12:
            cache_flush(fz_u8(&in) & 1);
            break;
        case 13:
            op_scavenge(&in);
            break;
        case 14:
            _ga_pagealloc_next_gen(pa);
            break;
        default:
            FZ_CHECK(_ga_pagealloc_is_valid(pa), "_ga_pagealloc_is_valid() failed");
            break;
        }
    }
    check_end();
    _ga_pagealloc_destroy(pa);
    pa = NULL;
    return 0;
}
