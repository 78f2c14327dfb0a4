/* mksizeclasses.c - build-time generator of goalloc's size-class tables.
 * See malloc.c for the overview; GO_ALLOCATOR_SPEC.md 1.3 for the rules applied here.
 *
 * Run by the build (gen/sizeclasses.cmake) as `goalloc-mksizeclasses OUT.c`; it writes the
 * tables declared in ga_internal.h (sizeclass.c section). Our own program written from the
 * rules, not a translation of Go's generator. It refuses to write anything (exit 1, one line
 * on stderr) when a rule's outcome breaks an invariant:
 *  - exactly 68 classes (class 0 = large), sizes strictly increasing, multiples of 8;
 *  - every class: tail waste <= span bytes / 8, objects <= 1024, pages <= 255;
 *  - every class: (off * divmagic) >> 32 == off / size for every 0 <= off <= span bytes;
 *  - every lookup-table entry is the smallest class that fits its size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 8192u
#define MAX_SMALL_SIZE 32768u
#define SMALL_SIZE_DIV 8u
#define SMALL_SIZE_MAX 1024u
#define LARGE_SIZE_DIV 128u
#define NUM_CLASSES 68
#define MAX_CANDIDATES 512

/* One class. Invariant: objects == npages * PAGE_SIZE / size. */
typedef struct sclass {
    unsigned size;
    unsigned npages;
    unsigned objects;
    uint32_t divmagic;
} sclass;

static sclass classes[MAX_CANDIDATES];
static int nclasses;

static void fail(const char *what, unsigned cls, unsigned value)
{
    fprintf(stderr, "goalloc-mksizeclasses: %s (class %u, value %u)\n", what, cls, value);
    exit(1);
}

static int is_pow2(unsigned x)
{
    return x && (x & (x - 1)) == 0;
}

/* Rule 1: the step between candidate sizes, re-chosen at every power of two. */
static unsigned step_for(unsigned size, unsigned step)
{
    if (!is_pow2(size)) return step;
    if (size >= 2048) return 256;
    if (size >= 128) return size / 8;
    if (size >= 32) return 16;
    return 8;
}

/* Rule 2: the smallest page count whose tail waste is at most 1/8 of the span. */
static unsigned pages_for(unsigned size)
{
    for (unsigned n = 1;; n++) {
        unsigned span = n * PAGE_SIZE;
        if (span % size <= span / 8) return n;
    }
}

static void add_candidates(void)
{
    nclasses = 1; /* class 0: large objects */
    unsigned step = 8;
    for (unsigned size = 8; size <= MAX_SMALL_SIZE; size += step) {
        step = step_for(size, step);
        unsigned npages = pages_for(size);
        unsigned objects = npages * PAGE_SIZE / size;
        sclass *prev = &classes[nclasses - 1];
        /* Rule 3: same pages and same objects as the previous class: keep the larger size. */
        if (nclasses > 1 && prev->npages == npages && prev->objects == objects) {
            prev->size = size;
            continue;
        }
        if (nclasses == MAX_CANDIDATES) fail("too many candidate classes", nclasses, size);
        classes[nclasses++] = (sclass){.size = size, .npages = npages, .objects = objects};
    }
}

/* Rule 4: grow each class to the largest multiple of 128 that still fits as many objects. */
static void inflate(void)
{
    for (int c = 1; c < nclasses; c++) {
        unsigned span = classes[c].npages * PAGE_SIZE;
        unsigned bigger = span / classes[c].objects / LARGE_SIZE_DIV * LARGE_SIZE_DIV;
        if (bigger > classes[c].size) classes[c].size = bigger;
    }
}

/* Rule 6: the reciprocal for slot indexes, checked for every offset in the span. */
static void compute_divmagic(void)
{
    for (int c = 1; c < nclasses; c++) {
        unsigned size = classes[c].size;
        uint32_t m = (uint32_t)(UINT32_MAX / size + 1);
        unsigned span = classes[c].npages * PAGE_SIZE;
        for (uint64_t off = 0; off <= span; off++)
            if (((off * m) >> 32) != off / size) fail("divmagic wrong at offset", c, (unsigned)off);
        classes[c].divmagic = m;
    }
}

static void check(void)
{
    if (nclasses != NUM_CLASSES) fail("class count is not 68", (unsigned)nclasses, 0);
    for (int c = 1; c < nclasses; c++) {
        const sclass *k = &classes[c];
        unsigned span = k->npages * PAGE_SIZE;
        if (k->size % 8 || k->size <= classes[c - 1].size) fail("sizes not increasing", c, k->size);
        if (k->objects != span / k->size) fail("objects mismatch", c, k->objects);
        if (span - k->objects * k->size > span / 8) fail("tail waste above 1/8", c, k->size);
        if (k->objects > 1024 || k->npages > 255) fail("span too large", c, k->npages);
    }
    if (classes[nclasses - 1].size != MAX_SMALL_SIZE) fail("last class is not 32768", 0, 0);
}

/* The smallest class whose size is >= size. */
static unsigned class_for(unsigned size)
{
    for (int c = 0; c < nclasses; c++)
        if (classes[c].size >= size) return (unsigned)c;
    fail("no class fits", 0, size);
    return 0;
}

static void emit_row(FILE *f, const char *type, const char *name, unsigned n,
                     unsigned (*get)(unsigned i))
{
    fprintf(f, "const %s %s[%u] = {", type, name, n);
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%s%s%u", i ? "," : "", i % 12 ? " " : "\n    ", get(i));
    fprintf(f, "\n};\n\n");
}

static unsigned get_size(unsigned c)
{
    return classes[c].size;
}
static unsigned get_npages(unsigned c)
{
    return classes[c].npages;
}
static unsigned get_nobjs(unsigned c)
{
    return classes[c].objects;
}
static unsigned get_divmagic(unsigned c)
{
    return classes[c].divmagic;
}
static unsigned get_class8(unsigned i)
{
    return class_for(i * SMALL_SIZE_DIV);
}
static unsigned get_class128(unsigned i)
{
    return class_for(SMALL_SIZE_MAX + i * LARGE_SIZE_DIV);
}

static void emit(FILE *f)
{
    fprintf(f, "/* sizeclasses_gen.c - GENERATED at build time by gen/mksizeclasses.c; do not "
               "edit.\n * Go's 68 size classes (GO_ALLOCATOR_SPEC.md 1.2); see ga_internal.h. "
               "*/\n#include \"ga_internal.h\"\n\n");
    emit_row(f, "uint16_t", "_ga_class_to_size", NUM_CLASSES, get_size);
    emit_row(f, "uint8_t", "_ga_class_to_npages", NUM_CLASSES, get_npages);
    emit_row(f, "uint16_t", "_ga_class_to_nobjs", NUM_CLASSES, get_nobjs);
    emit_row(f, "uint32_t", "_ga_class_to_divmagic", NUM_CLASSES, get_divmagic);
    emit_row(f, "uint8_t", "_ga_size_to_class8", SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1, get_class8);
    emit_row(f, "uint8_t", "_ga_size_to_class128",
             (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1, get_class128);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: goalloc-mksizeclasses OUTPUT.c\n");
        return 2;
    }
    add_candidates();
    inflate();
    check();
    compute_divmagic();

    /* Write to a temporary name and rename, so a failed run leaves no half file behind. */
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]) >= (int)sizeof tmp) {
        fprintf(stderr, "goalloc-mksizeclasses: output path too long: %s\n", argv[1]);
        return 1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "goalloc-mksizeclasses: cannot write %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    emit(f);
    if (fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "goalloc-mksizeclasses: cannot write %s: %s\n", argv[1], strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}
