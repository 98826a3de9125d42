/*
 * fractals: render a Julia set as a binary PPM image, for the picas fractals example.
 *
 *   fractals -q <q> -d <size> -m <iterations> -o <file.ppm>
 *
 * The set is that of z -> z^2 + c with c = -0.7 + q*i: small changes of q change the picture a lot,
 * which makes q a good sweep parameter. The image is size x size pixels; each pixel is coloured by how
 * many iterations (at most <iterations>) its point takes to escape |z| > 2. Bigger sizes and iteration
 * counts take longer: the sweep's tokens range from a fraction of a second to minutes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s -q <q> -d <size> -m <iterations> -o <file.ppm>\n", prog);
}

int main(int argc, char **argv) {
    double q = 0.0;
    long size = 0, iterations = 0;
    const char *out = NULL;
    int opt;
    char *end;
    while ((opt = getopt(argc, argv, "q:d:m:o:")) != -1) {
        switch (opt) {
        case 'q': q = strtod(optarg, &end); if (*end) { fprintf(stderr, "fractals: -q needs a number, not %s\n", optarg); return 2; } break;
        case 'd': size = strtol(optarg, &end, 10); if (*end || size < 1 || size > 100000) { fprintf(stderr, "fractals: -d needs a size from 1 to 100000, not %s\n", optarg); return 2; } break;
        case 'm': iterations = strtol(optarg, &end, 10); if (*end || iterations < 1) { fprintf(stderr, "fractals: -m needs a positive whole number, not %s\n", optarg); return 2; } break;
        case 'o': out = optarg; break;
        default: usage(argv[0]); return 2;
        }
    }
    if (size == 0 || iterations == 0 || out == NULL) { usage(argv[0]); return 2; }

    FILE *f = fopen(out, "wb");
    if (!f) { perror(out); return 1; }
    fprintf(f, "P6\n%ld %ld\n255\n", size, size);
    unsigned char *row = malloc((size_t)size * 3);
    if (!row) { fprintf(stderr, "fractals: out of memory\n"); fclose(f); return 1; }
    const double cr = -0.7, ci = q;
    long escaped = 0;
    for (long y = 0; y < size; y++) {
        for (long x = 0; x < size; x++) {
            /* The square [-1.6, 1.6] x [-1.6, 1.6] holds the whole set for these c. */
            double zr = -1.6 + 3.2 * (double)x / (double)size;
            double zi = -1.6 + 3.2 * (double)y / (double)size;
            long n = 0;
            while (n < iterations && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                n++;
            }
            unsigned char *px = row + x * 3;
            if (n == iterations) { px[0] = px[1] = px[2] = 0; }
            else {
                escaped++;
                double s = (double)n / (double)iterations;
                px[0] = (unsigned char)(255.0 * s);
                px[1] = (unsigned char)(255.0 * (s < 0.5 ? 2.0 * s : 1.0));
                px[2] = (unsigned char)(128.0 + 127.0 * (1.0 - s));
            }
        }
        if (fwrite(row, 3, (size_t)size, f) != (size_t)size) { perror(out); free(row); fclose(f); return 1; }
    }
    free(row);
    if (fclose(f) != 0) { perror(out); return 1; }
    printf("fractals: q=%g size=%ld iterations=%ld -> %s (%ld of %ld points escaped)\n", q, size, iterations, out, escaped, size * size);
    return 0;
}
