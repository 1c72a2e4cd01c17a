/* gemm_ukr_portable.c - portable C microkernels (baseline x86-64 flags: the compiler
 * vectorises them with SSE2). Always available; the fallback when the CPU lacks AVX2/FMA.
 * No FMA here: every product and sum is rounded separately. */
#include "gemm_internal.h"

/* Block sizes, one row per dtype: MR x NR register tile, MC x KC block of A, KC x NC panel of B. */
#define S_MR 4
#define S_NR 8
#define S_MC 128
#define S_KC 256
#define S_NC 2048
#define D_MR 4
#define D_NR 4
#define D_MC 96
#define D_KC 256
#define D_NC 1024

#define FM_DEFINE_PORTABLE_UKR(NAME, T, MR, NR)                                              \
    static void NAME(int k, const T *restrict a, const T *restrict b, T *restrict C,        \
                     ptrdiff_t ldc, int m, int n, T alpha, T beta)                           \
    {                                                                                        \
        T acc[MR][NR] = {{0}};                                                               \
        for (int p = 0; p < k; p++) {                                                        \
            for (int r = 0; r < MR; r++)                                                     \
                for (int c = 0; c < NR; c++) acc[r][c] += a[r] * b[c];                       \
            a += MR;                                                                         \
            b += NR;                                                                         \
        }                                                                                    \
        for (int r = 0; r < m; r++) {                                                        \
            T *cr = C + (ptrdiff_t)r * ldc;                                                  \
            if (beta == (T)0)                                                                \
                for (int c = 0; c < n; c++) cr[c] = alpha * acc[r][c];                       \
            else                                                                             \
                for (int c = 0; c < n; c++) cr[c] = alpha * acc[r][c] + beta * cr[c];        \
        }                                                                                    \
    }

FM_DEFINE_PORTABLE_UKR(ukr_s_4x8, float, S_MR, S_NR)
FM_DEFINE_PORTABLE_UKR(ukr_d_4x4, double, D_MR, D_NR)

#define FM_T float
#define FM_MR S_MR
#define FM_NR S_NR
#define FM_PACK_A pack_a_s
#define FM_PACK_B pack_b_s
#define FM_SMALL small_s
#define FM_FMA(a, b, c) ((a) * (b) + (c))
#include "gemm_pack.inc"

#define FM_T double
#define FM_MR D_MR
#define FM_NR D_NR
#define FM_PACK_A pack_a_d
#define FM_PACK_B pack_b_d
#define FM_SMALL small_d
#define FM_FMA(a, b, c) ((a) * (b) + (c))
#include "gemm_pack.inc"

const fm_gemm_kernels_s fm_gemm_portable_s = {
    "portable", S_MR, S_NR, S_MC, S_KC, S_NC, 4, 0, ukr_s_4x8, pack_a_s, pack_b_s, small_s};
const fm_gemm_kernels_d fm_gemm_portable_d = {
    "portable", D_MR, D_NR, D_MC, D_KC, D_NC, 4, 0, ukr_d_4x4, pack_a_d, pack_b_d, small_d};
