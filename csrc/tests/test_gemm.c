/* test_gemm.c - correctness tests for fm_sgemm / fm_dgemm (csrc/gemm.h).
 *
 * Every result is compared with a naive triple loop in long double, for all four trans
 * combinations, several alpha/beta pairs (beta == 0 with C full of NaN), shapes 0, 1, primes,
 * sizes around and across the block sizes, padded leading dimensions, both dtypes and every
 * kernel set this CPU supports. Also: bitwise equality for nthreads = 1, 2, 3, 4, 16, and
 * an epilogue that must see every element exactly once, already final; the fused epilogue
 * fm_?epi_bias_act bitwise equal to the same bias and activation applied after the product
 * (test_gemm_fuse.inc).
 *
 * Build and run: make -C csrc/tests test   (exit status 0 = all passed)
 *
 * The checks are written once, generic in T, in test_gemm.inc, and compiled for float and
 * double by fm_dtypes.h (as the engine's bodies are).
 */
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

/* The length of the slices K is summed in (each but the last), as gemm.h's summation order
   states it: as few slices as the kernel set's KC allows, of equal length rounded up to 8,
   never longer than KC. Written here from that statement, so that the sequential-sum checks
   hold the library to it on any cache sizes. */
static int spec_kslice(int K, int kc)
{
    if (K <= kc) return kc;
    const int n = (K + kc - 1) / kc;              /* the fewest slices of at most kc */
    int len = (K + n - 1) / n;                    /* of equal length, */
    len = (len + 7) / 8 * 8;                      /* rounded up to 8, */
    return len < kc ? len : kc;                   /* never past KC */
}

/* the rule's own cases: 784 at KC 384 is 264 + 264 + 256; at 256, 200 + 200 + 200 + 184 */
static void check_kslice_rule(void)
{
    const int cases[][3] = {{784, 384, 264}, {784, 256, 200}, {300, 256, 152}, {300, 384, 384},
                            {384, 384, 384}, {385, 384, 200}, {1024, 256, 256},
                            {1030, 256, 208}, {9, 8, 8}, {17, 16, 16}};
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        g_checks++;
        if (spec_kslice(cases[i][0], cases[i][1]) != cases[i][2])
            FAIL("K slices of %d at KC %d: %d, expected %d", cases[i][0], cases[i][1],
                 spec_kslice(cases[i][0], cases[i][1]), cases[i][2]);
    }
}

/* epilogue bookkeeping: counts calls per element and snapshots the block it is given */
typedef struct {
    void *C0;             /* base of the full C */
    ptrdiff_t ldc;
    int M, N;
    int *count;           /* M x N */
    void *snap;           /* M x N copy taken inside the epilogue */
    int bad;
} epi_ctx;

/* the checks for each dtype: suite_s, suite_d */
#define EPS_s FLT_EPSILON
#define EPS_d DBL_EPSILON
#define FM_BODY "tests/test_gemm.inc"
#include "fm_dtypes.h"
#define FM_BODY "tests/test_gemm_fuse.inc"
#include "fm_dtypes.h"

static void run_all(void)
{
    printf("kernel set %s\n", fm_gemm_isa());
    suite_s();
    suite_d();
    suite_fused_s();
    suite_fused_d();
}

int main(void)
{
    const char *sets[] = {"portable", "avx2", "avx512"};
    printf("default kernel set: %s\n", fm_gemm_isa());
    if (fm_gemm_set_isa("no-such-isa") != -1) FAIL("unknown ISA name accepted");
    if (fm_gemm_set_isa(NULL) != -1) FAIL("NULL ISA name accepted");
    check_kslice_rule();
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
