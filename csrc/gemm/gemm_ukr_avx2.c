/* gemm_ukr_avx2.c - the AVX2 + FMA kernel set (compiled with -mavx2 -mfma; only called after
 * the dispatcher checked both).
 *
 * Tile: MR rows x two ymm vectors (float 6 x 16, double 6 x 8): 12 accumulators, 2 B
 * vectors and one broadcast fit the 16 ymm registers. Full tiles are stored plainly, edge
 * tiles with maskload/maskstore, so edge tiles run exactly the same arithmetic.
 * Microkernel: gemm_ukr_simd.inc; direct product: gemm_direct_tiles.inc (register tiles). */
#include "gemm_internal.h"

#include <immintrin.h>

static inline __m256i mask_ps(int n) /* lanes j < n set, n may be <= 0 or >= 8 */
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline __m256i mask_pd(int n)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* float: 8 lanes, tile 6 x 16 */
#define MR_s 6
#define NR_s 16
#define VT_s __m256
#define VW_s 8
#define MT_s __m256i
#define V_ZERO_s _mm256_setzero_ps
#define V_SET1_s _mm256_set1_ps
#define V_LOAD_s _mm256_load_ps
#define V_LOADU_s _mm256_loadu_ps
#define V_STORE_s _mm256_store_ps
#define V_STOREU_s _mm256_storeu_ps
#define V_MUL_s _mm256_mul_ps
#define V_FMA_s _mm256_fmadd_ps
#define V_ADD_s _mm256_add_ps
#define V_MAX_s _mm256_max_ps
#define V_MASK_s mask_ps
#define V_LOADM_s _mm256_maskload_ps
#define V_STOREM_s _mm256_maskstore_ps
/* double: 4 lanes, tile 6 x 8 */
#define MR_d 6
#define NR_d 8
#define VT_d __m256d
#define VW_d 4
#define MT_d __m256i
#define V_ZERO_d _mm256_setzero_pd
#define V_SET1_d _mm256_set1_pd
#define V_LOAD_d _mm256_load_pd
#define V_LOADU_d _mm256_loadu_pd
#define V_STORE_d _mm256_store_pd
#define V_STOREU_d _mm256_storeu_pd
#define V_MUL_d _mm256_mul_pd
#define V_FMA_d _mm256_fmadd_pd
#define V_ADD_d _mm256_add_pd
#define V_MAX_d _mm256_max_pd
#define V_MASK_d mask_pd
#define V_LOADM_d _mm256_maskload_pd
#define V_STOREM_d _mm256_maskstore_pd
/* the direct product's tiles: up to 2 vectors x 8 rows (one vector) or 6 rows (two) */
#define DIRECT_NV 2
#define DIRECT_ROWS(nv) ((nv) == 1 ? 8 : 6)
/* transA with few columns, rows in the lanes: RV x n accumulators, RV row vectors and a
   broadcast in the 16 registers, at most 6 */
#define ROWS_RV(n) ((15 / ((n) + 1)) > 6 ? 6 : (15 / ((n) + 1)) < 1 ? 1 : 15 / ((n) + 1))
#define ROWS_DOUBLE 0
/* and for !transA (float): the tile's rows transposed 8 x 8 in registers */
#define ROWS_NN 1
static inline void transpose8_ps(__m256 r[8])
{
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
#define V_TRANSPOSE_s transpose8_ps
#define UKR_VIA_TILE
/* prefetch the next packed panel of B in the K loop (gemm_ukr_simd.inc) */
#define UKR_PREFETCH_B

#define FM_BODY "gemm/gemm_ukr_simd.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_pack.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_pack_vec.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_direct_tiles.inc"
#include "fm_dtypes.h"

const fm_gemm_kernels_s fm_gemm_avx2_s = {
    .name = "avx2", .mr = MR_s, .nr = NR_s, .mc = 120, .kc = 256, .nc = 2048,
    .direct_m = 6, .direct_n = 16,
    .ukr = ukr_s, .ukr_ai = ukr_ai_s, .ukr_ai_few = ukr_ai_few_s, .pack_a = pack_a_vec_s, .pack_b = pack_b_vec_s, .direct = direct_s, .rank1 = rank1_s,
};
const fm_gemm_kernels_d fm_gemm_avx2_d = {
    .name = "avx2", .mr = MR_d, .nr = NR_d, .mc = 96, .kc = 256, .nc = 1024,
    .direct_m = 6, .direct_n = 16,
    .ukr = ukr_d, .ukr_ai = ukr_ai_d, .ukr_ai_few = ukr_ai_few_d, .pack_a = pack_a_vec_d, .pack_b = pack_b_vec_d, .direct = direct_d, .rank1 = rank1_d,
};
