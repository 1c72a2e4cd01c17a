/* gemm_ukr_avx512.c - AVX-512 microkernels (compiled with -mavx512f -mavx512dq -mavx512vl
 * -mavx512bw -mfma; only called after the dispatcher checked all of these).
 *
 * Tile: MR rows x two zmm vectors (float 8 x 32, double 8 x 16). Per k: load the two
 * vectors of the packed B row, broadcast each of the MR packed A values, 2*MR FMAs into
 * 2*MR accumulators. Stores use masks, so edge tiles run exactly the same arithmetic. */
#include "gemm_internal.h"

#include <immintrin.h>

/* Block sizes, one row per dtype. */
#define S_MR 8
#define S_NR 32
#define S_MC 128
#define S_KC 256
#define S_NC 2048
#define D_MR 8
#define D_NR 16
#define D_MC 96
#define D_KC 256
#define D_NC 1024

/* One zmm-pair microkernel. V: vector type, W: lanes, MASK: mask type, SFX: ps/pd. */
#define FM_DEFINE_AVX512_UKR(NAME, T, V, W, MASK, SFX, MR)                                    \
    static void NAME(int k, const T *restrict a, const T *restrict b, T *restrict C,         \
                     ptrdiff_t ldc, int m, int n, T alpha, T beta)                            \
    {                                                                                         \
        V acc0[MR], acc1[MR];                                                                 \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                 \
        {                                                                                     \
            acc0[r] = _mm512_setzero_##SFX();                                                 \
            acc1[r] = _mm512_setzero_##SFX();                                                 \
        }                                                                                     \
        _Pragma("GCC unroll 4") for (int p = 0; p < k; p++)                                   \
        {                                                                                     \
            V b0 = _mm512_load_##SFX(b), b1 = _mm512_load_##SFX(b + W);                       \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                             \
            {                                                                                 \
                V ar = _mm512_set1_##SFX(a[r]);                                               \
                acc0[r] = _mm512_fmadd_##SFX(ar, b0, acc0[r]);                                \
                acc1[r] = _mm512_fmadd_##SFX(ar, b1, acc1[r]);                                \
            }                                                                                 \
            a += MR;                                                                          \
            b += 2 * W;                                                                       \
        }                                                                                     \
        MASK m0 = (MASK)(n >= W ? (MASK)~0 : (MASK)((1u << n) - 1u));                         \
        MASK m1 = (MASK)(n >= 2 * W ? (MASK)~0 : n <= W ? 0 : (MASK)((1u << (n - W)) - 1u));   \
        V va = _mm512_set1_##SFX(alpha), vb = _mm512_set1_##SFX(beta);                       \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                 \
        {                                                                                     \
            if (r < m) {                                                                      \
                T *cr = C + (ptrdiff_t)r * ldc;                                               \
                V x0, x1;                                                                     \
                if (beta == (T)0) {                                                           \
                    x0 = _mm512_mul_##SFX(va, acc0[r]);                                       \
                    x1 = _mm512_mul_##SFX(va, acc1[r]);                                       \
                } else {                                                                      \
                    x0 = _mm512_fmadd_##SFX(va, acc0[r],                                      \
                                            _mm512_mul_##SFX(vb, _mm512_maskz_loadu_##SFX(m0, cr))); \
                    x1 = _mm512_fmadd_##SFX(va, acc1[r],                                      \
                                            _mm512_mul_##SFX(vb, _mm512_maskz_loadu_##SFX(m1, cr + W))); \
                }                                                                             \
                _mm512_mask_storeu_##SFX(cr, m0, x0);                                         \
                _mm512_mask_storeu_##SFX(cr + W, m1, x1);                                     \
            }                                                                                 \
        }                                                                                     \
    }

FM_DEFINE_AVX512_UKR(fm_sgemm_avx512_8x32, float, __m512, 16, __mmask16, ps, S_MR)
FM_DEFINE_AVX512_UKR(fm_dgemm_avx512_8x16, double, __m512d, 8, __mmask8, pd, D_MR)

#define FM_T float
#define FM_MR S_MR
#define FM_NR S_NR
#define FM_PACK_A pack_a_s
#define FM_PACK_B pack_b_s
#define FM_SMALL small_s
#define FM_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#include "gemm_pack.inc"

#define FM_T double
#define FM_MR D_MR
#define FM_NR D_NR
#define FM_PACK_A pack_a_d
#define FM_PACK_B pack_b_d
#define FM_SMALL small_d
#define FM_FMA(a, b, c) __builtin_fma((a), (b), (c))
#include "gemm_pack.inc"

const fm_gemm_kernels_s fm_gemm_avx512_s = {
    "avx512", S_MR, S_NR, S_MC, S_KC, S_NC, fm_sgemm_avx512_8x32, pack_a_s, pack_b_s, small_s};
const fm_gemm_kernels_d fm_gemm_avx512_d = {
    "avx512", D_MR, D_NR, D_MC, D_KC, D_NC, fm_dgemm_avx512_8x16, pack_a_d, pack_b_d, small_d};
