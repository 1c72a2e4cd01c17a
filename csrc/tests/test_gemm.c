/* test_gemm.c - correctness tests for fm_sgemm / fm_dgemm (csrc/gemm.h).
 *
 * Every result is compared with a naive triple loop in long double, for all four trans
 * combinations, several alpha/beta pairs (beta == 0 with C full of NaN), shapes 0, 1, primes,
 * sizes around and across the block sizes, padded leading dimensions, both dtypes and every
 * kernel set this CPU supports. Also: bitwise equality for nthreads = 1, 2, 3, 4, 16, and
 * an epilogue that must see every element exactly once, already final.
 *
 * Build and run: make -C csrc/tests test   (exit status 0 = all passed)
 *
 * The body below is generic in T and is included twice (float, double) by the end of
 * this file, via TEST_T.
 */
#ifndef TEST_T

#include "gemm.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_fail, g_checks;
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static double rnd(void) /* uniform in [-1, 1) */
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / (double)(1ull << 52) - 1.0;
}

#define FAIL(...)                                                              \
    do {                                                                       \
        if (g_fail < 30) {                                                     \
            fprintf(stderr, "FAIL [%s] ", fm_gemm_isa());                      \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
        }                                                                      \
        g_fail++;                                                              \
    } while (0)

/* epilogue bookkeeping: counts calls per element and snapshots the block it is given */
typedef struct {
    void *C0;             /* base of the full C */
    ptrdiff_t ldc;
    int M, N;
    int *count;           /* M x N */
    void *snap;           /* M x N copy taken inside the epilogue */
    int bad;
} epi_ctx;

#define TEST_T float
#define TS(x) x##_s
#define FM_GEMM fm_sgemm
#define EPI_T fm_epilogue_s
#define T_EPS FLT_EPSILON
#include "test_gemm.c"

#define TEST_T double
#define TS(x) x##_d
#define FM_GEMM fm_dgemm
#define EPI_T fm_epilogue_d
#define T_EPS DBL_EPSILON
#include "test_gemm.c"

static void run_all(void)
{
    printf("kernel set %s\n", fm_gemm_isa());
    suite_s();
    suite_d();
}

int main(void)
{
    const char *sets[] = {"portable", "avx2", "avx512"};
    printf("default kernel set: %s\n", fm_gemm_isa());
    if (fm_gemm_set_isa("no-such-isa") != -1) FAIL("unknown ISA name accepted");
    if (fm_gemm_set_isa(NULL) != -1) FAIL("NULL ISA name accepted");
    for (int i = 0; i < 3; i++) {
        if (fm_gemm_set_isa(sets[i]) != 0) {
            printf("kernel set %s: not supported by this CPU, skipped\n", sets[i]);
            continue;
        }
        if (strcmp(fm_gemm_isa(), sets[i]) != 0) FAIL("fm_gemm_isa() != %s", sets[i]);
        run_all();
    }
    printf("%d checks, %d failures\n", g_checks, g_fail);
    return g_fail ? 1 : 0;
}

#else /* ------------------------------------------------------- generic body in TEST_T */

#define T TEST_T

/* op(A)(i,k), op(B)(k,j) */
static T TS(opA)(int ta, const T *A, ptrdiff_t lda, int i, int k) { return ta ? A[(ptrdiff_t)k * lda + i] : A[(ptrdiff_t)i * lda + k]; }
static T TS(opB)(int tb, const T *B, ptrdiff_t ldb, int k, int j) { return tb ? B[(ptrdiff_t)j * ldb + k] : B[(ptrdiff_t)k * ldb + j]; }

static void TS(epi)(const void *vctx, T *C, ptrdiff_t ldc, int i0, int j0, int m, int n)
{
    epi_ctx *ctx = (epi_ctx *)vctx;
    T *C0 = (T *)ctx->C0, *snap = (T *)ctx->snap;
    if (ldc != ctx->ldc || C != C0 + (ptrdiff_t)i0 * ldc + j0 || i0 < 0 || j0 < 0 || m <= 0 ||
        n <= 0 || i0 + m > ctx->M || j0 + n > ctx->N) {
        __atomic_fetch_add(&ctx->bad, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            __atomic_fetch_add(&ctx->count[(i0 + i) * ctx->N + j0 + j], 1, __ATOMIC_RELAXED);
            snap[(i0 + i) * ctx->N + j0 + j] = C[(ptrdiff_t)i * ldc + j];
        }
}

/* One product checked against long double; returns the result in Cout (M x N, dense) when
   non-NULL. pad: extra columns of every leading dimension. */
static void TS(check)(int ta, int tb, int M, int N, int K, T alpha, T beta, int pad,
                      int nthreads, int use_epi, T *Cout)
{
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    ptrdiff_t lda = ac + pad, ldb = bc + pad, ldc = N + pad;
    T *A = malloc(sizeof(T) * ((size_t)ar * lda + 1));
    T *B = malloc(sizeof(T) * ((size_t)br * ldb + 1));
    T *C = malloc(sizeof(T) * ((size_t)M * ldc + 1));
    T *C_in = malloc(sizeof(T) * ((size_t)M * ldc + 1));
    int *count = calloc((size_t)M * N + 1, sizeof(int));
    T *snap = malloc(sizeof(T) * ((size_t)M * N + 1));
    for (ptrdiff_t i = 0; i < (ptrdiff_t)ar * lda; i++) A[i] = (T)rnd();
    for (ptrdiff_t i = 0; i < (ptrdiff_t)br * ldb; i++) B[i] = (T)rnd();
    for (ptrdiff_t i = 0; i < (ptrdiff_t)M * ldc; i++) C[i] = beta == 0 ? (T)NAN : (T)rnd();
    /* padding columns of C hold a sentinel that must survive */
    for (int i = 0; i < M; i++)
        for (int j = N; j < ldc; j++) C[(ptrdiff_t)i * ldc + j] = (T)12345;
    memcpy(C_in, C, sizeof(T) * (size_t)M * ldc);

    epi_ctx ctx = {C, ldc, M, N, count, snap, 0};
    FM_GEMM(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
            use_epi ? (EPI_T)TS(epi) : NULL, &ctx, nthreads);
    g_checks++;

    int bad = 0;
    for (int i = 0; i < M && bad < 3; i++) {
        for (int j = 0; j < N && bad < 3; j++) {
            long double s = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                long double p = (long double)TS(opA)(ta, A, lda, i, k) * TS(opB)(tb, B, ldb, k, j);
                s += p;
                mag += fabsl(p);
            }
            long double cin = C_in[(ptrdiff_t)i * ldc + j];
            long double ref = (long double)alpha * s + (beta == 0 ? 0.0L : (long double)beta * cin);
            long double scale = fabsl((long double)alpha) * mag + (beta == 0 ? 0.0L : fabsl((long double)beta * cin));
            long double tol = (K + 4) * (long double)T_EPS * scale + 4 * (long double)T_EPS * fabsl(ref);
            T got = C[(ptrdiff_t)i * ldc + j];
            if (isnan(got) || fabsl((long double)got - ref) > tol) {
                FAIL("%s ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g pad=%d nt=%d: C[%d,%d]=%.10g ref=%.10Lg",
                     sizeof(T) == 4 ? "s" : "d", ta, tb, M, N, K, (double)alpha, (double)beta, pad,
                     nthreads, i, j, (double)got, ref);
                bad++;
            }
            if (use_epi && count[i * N + j] != 1) {
                FAIL("epilogue saw C[%d,%d] %d times (M=%d N=%d K=%d nt=%d)", i, j, count[i * N + j], M, N, K, nthreads);
                bad++;
            }
            if (use_epi && memcmp(&snap[i * N + j], &got, sizeof(T)) != 0) {
                FAIL("epilogue saw a non-final C[%d,%d] (M=%d N=%d K=%d)", i, j, M, N, K);
                bad++;
            }
        }
        for (int j = N; j < ldc; j++)
            if (C[(ptrdiff_t)i * ldc + j] != (T)12345) {
                FAIL("wrote outside C: row %d col %d", i, j);
                bad++;
                break;
            }
    }
    if (use_epi && ctx.bad) FAIL("epilogue got %d bad blocks", ctx.bad);
    if (Cout)
        for (int i = 0; i < M; i++) memcpy(Cout + (ptrdiff_t)i * N, C + (ptrdiff_t)i * ldc, sizeof(T) * N);
    free(A); free(B); free(C); free(C_in); free(count); free(snap);
}

/* Same inputs (same seed) with different thread counts must give the same bits. */
static void TS(check_threads)(int ta, int tb, int M, int N, int K, T alpha, T beta)
{
    const int nts[] = {1, 2, 3, 4, 16, 0};
    T *ref = malloc(sizeof(T) * (size_t)M * N), *got = malloc(sizeof(T) * (size_t)M * N);
    uint64_t seed = g_rng;
    for (int t = 0; t < 6; t++) {
        g_rng = seed;
        TS(check)(ta, tb, M, N, K, alpha, beta, 1, nts[t], t % 2, t ? got : ref);
        if (t && memcmp(ref, got, sizeof(T) * (size_t)M * N) != 0)
            FAIL("%s nthreads=%d differs bitwise from nthreads=1 (ta=%d tb=%d M=%d N=%d K=%d)",
                 sizeof(T) == 4 ? "s" : "d", nts[t], ta, tb, M, N, K);
    }
    free(ref);
    free(got);
}

static void TS(suite)(void)
{
    const int dims[] = {1, 2, 7, 13, 31, 64, 65, 97, 257};
    const T ab[][2] = {{1, 0}, {1, 1}, {-0.5, 0}, {0.75, -1.25}, {2, 1}};
    int before = g_fail;
    /* all shapes from dims^3 for one trans combo at a time, cycling alpha/beta and padding */
    int c = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int a = 0; a < 9; a++)
                for (int b = 0; b < 9; b++)
                    for (int k = 0; k < 9; k++, c++) {
                        int M = dims[a], N = dims[b], K = dims[k];
                        if ((double)M * N * K > 3e6 && c % 3) continue; /* keep the run short */
                        TS(check)(ta, tb, M, N, K, ab[c % 5][0], ab[c % 5][1], c % 3 == 0 ? 0 : 3,
                                  c % 4 == 0 ? 2 : 1, c % 2, NULL);
                    }
    /* degenerate: K = 0 (C = beta*C), M or N = 0 (nothing), alpha = 0 */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            TS(check)(ta, tb, 5, 7, 0, 1, 0, 2, 1, 1, NULL);
            TS(check)(ta, tb, 70, 90, 0, 1, (T)0.5, 2, 2, 1, NULL);
            TS(check)(ta, tb, 0, 7, 5, 1, 0, 2, 1, 1, NULL);
            TS(check)(ta, tb, 7, 0, 5, 1, 0, 2, 1, 1, NULL);
            TS(check)(ta, tb, 0, 0, 0, 1, 0, 0, 1, 1, NULL);
            TS(check)(ta, tb, 100, 90, 80, 0, (T)-2, 1, 1, 1, NULL);
        }
    /* across block sizes: K > KC (several K slices), M > MC, N > NC; the SGD-style update */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            TS(check)(ta, tb, 300, 70, 600, 1, 0, 5, 2, 1, NULL);
            TS(check)(ta, tb, 33, 2100, 75, (T)-0.01, 1, 1, 2, 1, NULL);
            TS(check)(ta, tb, 200, 130, 520, (T)-0.1, 1, 0, 3, 1, NULL);
        }
    /* the network's shapes, scaled down: NN forward, TN dW, NT delta; N = 10 outputs */
    TS(check)(0, 0, 128, 10, 300, 1, 0, 0, 2, 1, NULL);
    TS(check)(1, 0, 300, 10, 128, -0.05f, 1, 0, 2, 1, NULL);
    TS(check)(0, 1, 128, 300, 10, 1, 0, 0, 2, 1, NULL);
    /* bitwise determinism across thread counts */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            TS(check_threads)(ta, tb, 257, 301, 263, 1, 0);
            TS(check_threads)(ta, tb, 131, 97, 517, (T)0.5, (T)0.25);
            TS(check_threads)(ta, tb, 256, 10, 1024, 1, 0);
            TS(check_threads)(ta, tb, 700, 33, 200, (T)-0.01, 1);
            TS(check_threads)(ta, tb, 3, 700, 600, 1, (T)0.5);      /* direct, few rows */
            TS(check_threads)(ta, tb, 901, 13, 300, (T)-0.5, 1);    /* direct, few columns */
            TS(check_threads)(ta, tb, 517, 16, 1030, 1, 0);
        }
    printf("  %s: %s\n", sizeof(T) == 4 ? "float " : "double", g_fail == before ? "ok" : "FAILED");
}

#undef TEST_T
#undef T
#undef TS
#undef FM_GEMM
#undef EPI_T
#undef T_EPS
#endif
