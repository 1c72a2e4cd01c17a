/* gemm_ukr_avx2.c - AVX2 + FMA microkernels (compiled with -mavx2 -mfma; only called after
 * the dispatcher checked both).
 *
 * Tile: MR rows x two ymm vectors (float 6 x 16, double 6 x 8): 12 accumulators, 2 B
 * vectors and one broadcast fit the 16 ymm registers. Stores use maskload/maskstore, so
 * edge tiles run exactly the same arithmetic. */
#include "gemm_internal.h"

#include <immintrin.h>

/* Block sizes, one row per dtype. */
#define S_MR 6
#define S_NR 16
#define S_MC 120
#define S_KC 256
#define S_NC 2048
#define D_MR 6
#define D_NR 8
#define D_MC 96
#define D_KC 256
#define D_NC 1024

static inline __m256i mask_ps(int n) /* lanes j < n set, n may be <= 0 or >= 8 */
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline __m256i mask_pd(int n)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* V: vector type, W: lanes, SFX: ps/pd, T: element */
#define FM_DEFINE_AVX2_UKR(NAME, T, V, W, SFX, MR)                                            \
    static void NAME(int k, const T *restrict a, const T *restrict b, T *restrict C,         \
                     ptrdiff_t ldc, int m, int n, T alpha, T beta)                            \
    {                                                                                         \
        V acc0[MR], acc1[MR];                                                                 \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                 \
        {                                                                                     \
            acc0[r] = _mm256_setzero_##SFX();                                                 \
            acc1[r] = _mm256_setzero_##SFX();                                                 \
        }                                                                                     \
        _Pragma("GCC unroll 4") for (int p = 0; p < k; p++)                                   \
        {                                                                                     \
            V b0 = _mm256_load_##SFX(b), b1 = _mm256_load_##SFX(b + W);                       \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                             \
            {                                                                                 \
                V ar = _mm256_set1_##SFX(a[r]);                                              \
                acc0[r] = _mm256_fmadd_##SFX(ar, b0, acc0[r]);                                \
                acc1[r] = _mm256_fmadd_##SFX(ar, b1, acc1[r]);                                \
            }                                                                                 \
            a += MR;                                                                          \
            b += 2 * W;                                                                       \
        }                                                                                     \
        __m256i m0 = mask_##SFX(n), m1 = mask_##SFX(n - W);                                   \
        V va = _mm256_set1_##SFX(alpha), vb = _mm256_set1_##SFX(beta);                        \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                 \
        {                                                                                     \
            if (r < m) {                                                                      \
                T *cr = C + (ptrdiff_t)r * ldc;                                               \
                V x0, x1;                                                                     \
                if (beta == (T)0) {                                                           \
                    x0 = _mm256_mul_##SFX(va, acc0[r]);                                       \
                    x1 = _mm256_mul_##SFX(va, acc1[r]);                                       \
                } else {                                                                      \
                    x0 = _mm256_fmadd_##SFX(va, acc0[r],                                      \
                                            _mm256_mul_##SFX(vb, _mm256_maskload_##SFX(cr, m0))); \
                    x1 = _mm256_fmadd_##SFX(va, acc1[r],                                      \
                                            _mm256_mul_##SFX(vb, _mm256_maskload_##SFX(cr + W, m1))); \
                }                                                                             \
                _mm256_maskstore_##SFX(cr, m0, x0);                                           \
                _mm256_maskstore_##SFX(cr + W, m1, x1);                                       \
            }                                                                                 \
        }                                                                                     \
    }

FM_DEFINE_AVX2_UKR(fm_sgemm_avx2_6x16, float, __m256, 8, ps, S_MR)
FM_DEFINE_AVX2_UKR(fm_dgemm_avx2_6x8, double, __m256d, 4, pd, D_MR)

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

const fm_gemm_kernels_s fm_gemm_avx2_s = {
    "avx2", S_MR, S_NR, S_MC, S_KC, S_NC, 4, 0, fm_sgemm_avx2_6x16, pack_a_s, pack_b_s, small_s};
const fm_gemm_kernels_d fm_gemm_avx2_d = {
    "avx2", D_MR, D_NR, D_MC, D_KC, D_NC, 4, 0, fm_dgemm_avx2_6x8, pack_a_d, pack_b_d, small_d};
