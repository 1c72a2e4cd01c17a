/* gemm_ukr_avx512.c - the AVX-512 kernel set (compiled with -mavx512f -mavx512dq -mavx512vl
 * -mavx512bw -mfma; only called after the dispatcher checked all of these).
 *
 * Tile: MR rows x two zmm vectors (float 8 x 32, double 8 x 16). Stores use masks, so edge
 * tiles run exactly the same arithmetic. Microkernel: gemm_ukr_simd.inc; direct product:
 * gemm_direct_tiles.inc (register tiles, masked). */
#include "gemm_internal.h"

#include <immintrin.h>

/* float: 16 lanes, tile 8 x 32 */
#define MR_s 8
#define NR_s 32
#define VT_s __m512
#define VW_s 16
#define MT_s __mmask16
#define V_ZERO_s _mm512_setzero_ps
#define V_SET1_s _mm512_set1_ps
#define V_LOAD_s _mm512_load_ps
#define V_LOADU_s _mm512_loadu_ps
#define V_STORE_s _mm512_store_ps
#define V_STOREU_s _mm512_storeu_ps
#define V_MUL_s _mm512_mul_ps
#define V_FMA_s _mm512_fmadd_ps
#define V_ADD_s _mm512_add_ps
#define V_MAX_s _mm512_max_ps
#define V_MASK_s(n) ((n) >= 16 ? (__mmask16)~0 : (n) <= 0 ? (__mmask16)0 : (__mmask16)((1u << (n)) - 1u))
#define V_LOADM_s(p, m) _mm512_maskz_loadu_ps((m), (p))
#define V_STOREM_s _mm512_mask_storeu_ps
/* double: 8 lanes, tile 8 x 16 */
#define MR_d 8
#define NR_d 16
#define VT_d __m512d
#define VW_d 8
#define MT_d __mmask8
#define V_ZERO_d _mm512_setzero_pd
#define V_SET1_d _mm512_set1_pd
#define V_LOAD_d _mm512_load_pd
#define V_LOADU_d _mm512_loadu_pd
#define V_STORE_d _mm512_store_pd
#define V_STOREU_d _mm512_storeu_pd
#define V_MUL_d _mm512_mul_pd
#define V_FMA_d _mm512_fmadd_pd
#define V_ADD_d _mm512_add_pd
#define V_MAX_d _mm512_max_pd
#define V_MASK_d(n) ((n) >= 8 ? (__mmask8)~0 : (n) <= 0 ? (__mmask8)0 : (__mmask8)((1u << (n)) - 1u))
#define V_LOADM_d(p, m) _mm512_maskz_loadu_pd((m), (p))
#define V_STOREM_d _mm512_mask_storeu_pd

/* the direct product's tiles: up to 4 vectors x 8 rows (one vector) or 6 rows (more) */
#define DIRECT_NV 4
#define DIRECT_ROWS(nv) ((nv) == 1 ? 8 : 6)
/* transA with few columns, rows in the lanes: RV x n accumulators, RV row vectors and a
   broadcast in the 32 registers, at most 6 */
#define ROWS_RV(n) ((31 / ((n) + 1)) > 6 ? 6 : (31 / ((n) + 1)) < 1 ? 1 : 31 / ((n) + 1))
#define ROWS_DOUBLE 1
#define ROWS_NN 0

#define FM_BODY "gemm/gemm_ukr_simd.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_pack.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_pack_vec.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_direct_tiles.inc"
#include "fm_dtypes.h"

const fm_gemm_kernels_s fm_gemm_avx512_s = {
    .name = "avx512", .mr = MR_s, .nr = NR_s, .mc = 128, .kc = 256, .nc = 2048,
    .direct_m = 6, .direct_n = 16,
    .ukr = ukr_s, .ukr_ai = ukr_ai_s, .ukr_ai_few = ukr_ai_few_s, .pack_a = pack_a_vec_s, .pack_b = pack_b_vec_s, .direct = direct_s, .rank1 = rank1_s,
};
const fm_gemm_kernels_d fm_gemm_avx512_d = {
    .name = "avx512", .mr = MR_d, .nr = NR_d, .mc = 96, .kc = 256, .nc = 1024,
    .direct_m = 6, .direct_n = 16,
    .ukr = ukr_d, .ukr_ai = ukr_ai_d, .ukr_ai_few = ukr_ai_few_d, .pack_a = pack_a_vec_d, .pack_b = pack_b_vec_d, .direct = direct_d, .rank1 = rank1_d,
};
