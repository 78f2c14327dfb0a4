/* replay_main.c - the corpus replay runner: a plain main() that feeds files to a fuzz target's
 * LLVMFuzzerTestOneInput, so ctest replays every committed corpus in every build (gcc
 * release/debug, the asan and tsan presets) without libFuzzer.
 *
 *   replay_<target> PATH...   each PATH is a file, or a folder whose regular files (not
 *                             dot-files) are replayed in name order
 *
 * Invariants: inputs are copied into a heap buffer of exactly their size (so ASan sees an
 * over-read by one byte); the name of each input is printed before it runs, so a crash names
 * its reproducer; zero inputs in total is an error (an empty or missing corpus must not pass).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    /* Exactly-sized copy: any read past the input is out of bounds for ASan. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    printf("replay: %s (%zu bytes)\n", path, len);
    fflush(stdout);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int visible(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Replays PATH (file or folder); adds the inputs run to *n. 0 or -1. */
static int replay_path(const char *path, size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: cannot stat %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (replay_file(path) != 0) return -1;
        ++*n;
        return 0;
    }
    struct dirent **names;
    int count = scandir(path, &names, visible, alphasort);
    if (count < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < count; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]->d_name);
        if (rc == 0 && stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(full) != 0)
                rc = -1;
            else
                ++*n;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    size_t n = 0;
    for (int i = 1; i < argc; i++)
        if (replay_path(argv[i], &n) != 0) return 1;
    if (n == 0) {
        fprintf(stderr, "replay: no inputs found in the given paths (empty corpus?)\n");
        return 1;
    }
    printf("replay: %zu inputs ran without a finding\n", n);
    return 0;
}
