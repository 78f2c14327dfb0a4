/* fz.h - helpers shared by the fuzz targets (the `fz_` names): a byte reader that decodes a
 * fuzzer input into numbers, and the one-line failure report.
 *
 * Invariants: reading past the end of the input yields zeros (never fails), so every input,
 * however short, decodes into a well-defined sequence of operations; fz_fail() prints one
 * line naming the target and the broken check, then aborts (libFuzzer and the replay runner
 * both treat the abort as the finding).
 */
#ifndef FZ_H
#define FZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* FZ_ASAN: 1 when AddressSanitizer instruments this file (gcc or clang). */
#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#ifndef FZ_ASAN
#define FZ_ASAN 0
#endif
/* FZ_TSAN: 1 under ThreadSanitizer (the tsan preset replays the corpora too). */
#if defined(__SANITIZE_THREAD__)
#define FZ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FZ_TSAN 1
#endif
#endif
#ifndef FZ_TSAN
#define FZ_TSAN 0
#endif

/* The fuzzer entry point every target defines (replay_main.c calls it too). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_input {
    const uint8_t *p; /* next unread byte */
    size_t n;         /* bytes left */
} fz_input;

static inline fz_input fz_input_make(const uint8_t *data, size_t size)
{
    fz_input in = {data, size};
    return in;
}

static inline int fz_more(const fz_input *in)
{
    return in->n > 0;
}

static inline uint8_t fz_u8(fz_input *in)
{
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fz_u16(fz_input *in)
{
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(fz_input *in)
{
    uint32_t lo = fz_u16(in);
    return lo | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t fz_u64(fz_input *in)
{
    uint64_t lo = fz_u32(in);
    return lo | (uint64_t)fz_u32(in) << 32;
}

/* A value in [0, n) (n > 0) from as few bytes as n needs. */
static inline size_t fz_below(fz_input *in, size_t n)
{
    if (n <= 0x100) return fz_u8(in) % n;
    if (n <= 0x10000) return fz_u16(in) % n;
    if (n <= 0x100000000ull) return fz_u32(in) % n;
    return (size_t)(fz_u64(in) % n);
}

__attribute__((format(printf, 1, 2), noreturn, cold)) static inline void fz_fail(const char *fmt,
                                                                                 ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: check failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

/* FZ_CHECK(cond, fmt, ...): fz_fail with the message unless cond holds. */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0)) fz_fail(__VA_ARGS__);                                    \
    } while (0)

#endif /* FZ_H */
