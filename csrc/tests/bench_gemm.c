/* bench_gemm.c - GFLOP/s of fm_sgemm / fm_dgemm (GFLOP/s = 2*M*N*K / median time).
 *
 *   bench_gemm [nthreads ...]     default: 1 2
 *   FASTMLP_ISA=avx2 bench_gemm   to measure a lower kernel set
 *
 * Shapes: square 1024^3 and 2048^3, the `wide` workload's layers (batch 256, 784-1024-1024-10)
 * in their three forms (forward NN, dW = A^T delta TN, delta_prev = delta W^T NT), and small
 * shapes, reported as microseconds per call. Compare with bench_numpy.py, run as a separate
 * process (OpenBLAS's and libgomp's spinning threads disturb each other).
 */
#define _POSIX_C_SOURCE 199309L
#include "gemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct { const char *name; int ta, tb, M, N, K; } shape;

static const shape shapes[] = {
    {"square 1024", 0, 0, 1024, 1024, 1024},
    {"square 2048", 0, 0, 2048, 2048, 2048},
    {"fwd  256x784 . 784x1024", 0, 0, 256, 1024, 784},
    {"fwd  256x1024 . 1024x1024", 0, 0, 256, 1024, 1024},
    {"fwd  256x1024 . 1024x10", 0, 0, 256, 10, 1024},
    {"dW   (256x784)T . 256x1024", 1, 0, 784, 1024, 256},
    {"dW   (256x1024)T . 256x1024", 1, 0, 1024, 1024, 256},
    {"dW   (256x1024)T . 256x10", 1, 0, 1024, 10, 256},
    {"dlt  256x1024 . (1024x1024)T", 0, 1, 256, 1024, 1024},
    {"dlt  256x10 . (1024x10)T", 0, 1, 256, 1024, 10},
    {"dlt  256x1024 . (784x1024)T", 0, 1, 256, 784, 1024},
};

static const shape smalls[] = {
    {"small 4x2 . 2x4", 0, 0, 4, 4, 2},
    {"small 4x4 . 4x1", 0, 0, 4, 1, 4},
    {"small 32x64 . 64x64", 0, 0, 32, 64, 64},
    {"small 32x64 . 64x10", 0, 0, 32, 10, 64},
    {"small (32x64)T . 32x64", 1, 0, 64, 64, 32},
    {"small 32x10 . (64x10)T", 0, 1, 32, 64, 10},
    {"mid  64x784 . 784x128", 0, 0, 64, 128, 784},
    {"mid  1x784 . 784x128", 0, 0, 1, 128, 784},
};

/* median seconds per call */
#define DEFINE_TIME(NAME, T, GEMM)                                                        \
    static double NAME(const shape *s, int nt, int inner, int reps)                       \
    {                                                                                     \
        int ar = s->ta ? s->K : s->M, ac = s->ta ? s->M : s->K;                           \
        int br = s->tb ? s->N : s->K, bc = s->tb ? s->K : s->N;                           \
        T *A = aligned_alloc(64, sizeof(T) * ((size_t)ar * ac + 16));                     \
        T *B = aligned_alloc(64, sizeof(T) * ((size_t)br * bc + 16));                     \
        T *C = aligned_alloc(64, sizeof(T) * ((size_t)s->M * s->N + 16));                 \
        for (size_t i = 0; i < (size_t)ar * ac; i++) A[i] = (T)((i * 7 % 13) - 6) / 8;    \
        for (size_t i = 0; i < (size_t)br * bc; i++) B[i] = (T)((i * 5 % 11) - 5) / 8;    \
        for (size_t i = 0; i < (size_t)s->M * s->N; i++) C[i] = 0;                        \
        double t[64];                                                                     \
        for (int w = 0; w < 2; w++)                                                       \
            GEMM(s->ta, s->tb, s->M, s->N, s->K, 1, A, ac, B, bc, 0, C, s->N, NULL, NULL, nt); \
        for (int r = 0; r < reps; r++) {                                                  \
            double t0 = now();                                                            \
            for (int i = 0; i < inner; i++)                                               \
                GEMM(s->ta, s->tb, s->M, s->N, s->K, 1, A, ac, B, bc, 0, C, s->N, NULL, NULL, nt); \
            t[r] = (now() - t0) / inner;                                                  \
        }                                                                                 \
        qsort(t, reps, sizeof(double), cmp);                                              \
        free(A); free(B); free(C);                                                        \
        return t[reps / 2];                                                               \
    }
DEFINE_TIME(time_s, float, fm_sgemm)
DEFINE_TIME(time_d, double, fm_dgemm)

int main(int argc, char **argv)
{
    int nts[8] = {1, 2}, nnt = 2;
    if (argc > 1) {
        nnt = 0;
        for (int i = 1; i < argc && nnt < 8; i++) nts[nnt++] = atoi(argv[i]);
    }
    printf("kernel set: %s\n%-32s", fm_gemm_isa(), "GFLOP/s");
    for (int t = 0; t < nnt; t++) printf("  f32 nt=%-2d  f64 nt=%-2d", nts[t], nts[t]);
    printf("\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape *sh = &shapes[s];
        double fl = 2.0 * sh->M * sh->N * sh->K;
        int inner = fl > 4e9 ? 1 : (int)(4e8 / fl) + 1, reps = fl > 4e9 ? 5 : 9;
        printf("%-32s", sh->name);
        for (int t = 0; t < nnt; t++)
            printf("  %9.1f  %9.1f", fl / time_s(sh, nts[t], inner, reps) * 1e-9,
                   fl / time_d(sh, nts[t], inner, reps) * 1e-9);
        printf("\n");
        fflush(stdout);
    }
    printf("%-32s", "microseconds per call");
    for (int t = 0; t < nnt; t++) printf("  f32 nt=%-2d  f64 nt=%-2d", nts[t], nts[t]);
    printf("\n");
    for (size_t s = 0; s < sizeof smalls / sizeof smalls[0]; s++) {
        const shape *sh = &smalls[s];
        double fl = 2.0 * sh->M * sh->N * sh->K;
        int inner = (int)(2e7 / fl) + 10;
        printf("%-32s", sh->name);
        for (int t = 0; t < nnt; t++)
            printf("  %9.3f  %9.3f", time_s(sh, nts[t], inner, 15) * 1e6,
                   time_d(sh, nts[t], inner, 15) * 1e6);
        printf("\n");
    }
    return 0;
}
