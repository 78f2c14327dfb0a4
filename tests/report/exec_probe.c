/* exec_probe.c - a small real program for the `abench exec` tests: allocates and frees N
 * blocks of varied sizes through malloc/realloc/free and prints a checksum. Built dynamic
 * (the preload must take) and static (the preload cannot take: abench exec must refuse). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    unsigned long sum = 0;
    char *keep[64] = {0};
    for (long i = 0; i < n; i++) {
        size_t size = 8 + (size_t)(i * 37 % 1000);
        char *p = malloc(size);
        if (!p) return 1;
        memset(p, (int)(i & 0xff), size);
        p = realloc(p, size * 2);
        if (!p) return 1;
        sum += (unsigned char)p[size - 1];
        free(keep[i % 64]);
        keep[i % 64] = p;
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    printf("%lu\n", sum);
    return 0;
}
