/* vecmath_avx2.c -- exp, sigmoid, tanh with AVX2 + FMA (8 floats / 4 doubles per vector).
   Compiled with -mavx2 -mfma (file-name suffix); called only where
   fm_isa_supported(FM_ISA_AVX2). Tails use vmaskmov loads and stores (masked-off lanes are
   neither read nor written), so they run the same code as the body. The algorithm is in
   vecmath_body.inc. */
#include "vecmath.h"
#include <immintrin.h>

/* lane mask of the first n lanes (n < lanes) */
static inline __m256i fm_first_n_epi64(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}
static inline __m256i fm_first_n_epi32(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* float: 8 lanes */
#define VT_s __m256
#define VW_s 8
#define V_SET1_s _mm256_set1_ps
#define V_ADD_s _mm256_add_ps
#define V_SUB_s _mm256_sub_ps
#define V_MUL_s _mm256_mul_ps
#define V_DIV_s _mm256_div_ps
#define V_MAX_s _mm256_max_ps
#define V_MIN_s _mm256_min_ps
#define V_FLOOR_s(x) _mm256_round_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND_s _mm256_and_ps
#define V_ANDNOT_s _mm256_andnot_ps
#define V_OR_s _mm256_or_ps
#define V_FMA_s _mm256_fmadd_ps
#define V_FNMA_s _mm256_fnmadd_ps
#define V_POW2_s(k) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(                    \
    _mm256_castps_si256(_mm256_add_ps(k, _mm256_set1_ps(0x1.8p23f))), _mm256_set1_epi32(127)), 23))
#define V_SEL_GE0_s(z, a, b) _mm256_blendv_ps(b, a, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ))
#define V_FIXNAN_s(y, x) _mm256_blendv_ps(y, _mm256_add_ps(x, x), _mm256_cmp_ps(x, x, _CMP_UNORD_Q))
#define V_LOAD_s _mm256_loadu_ps
#define V_STORE_s _mm256_storeu_ps
#define V_LOADN_s(p, n) _mm256_maskload_ps(p, fm_first_n_epi32(n))
#define V_STOREN_s(p, v, n) _mm256_maskstore_ps(p, fm_first_n_epi32(n), v)
/* double: 4 lanes */
#define VT_d __m256d
#define VW_d 4
#define V_SET1_d _mm256_set1_pd
#define V_ADD_d _mm256_add_pd
#define V_SUB_d _mm256_sub_pd
#define V_MUL_d _mm256_mul_pd
#define V_DIV_d _mm256_div_pd
#define V_MAX_d _mm256_max_pd
#define V_MIN_d _mm256_min_pd
#define V_FLOOR_d(x) _mm256_round_pd(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND_d _mm256_and_pd
#define V_ANDNOT_d _mm256_andnot_pd
#define V_OR_d _mm256_or_pd
#define V_FMA_d _mm256_fmadd_pd
#define V_FNMA_d _mm256_fnmadd_pd
#define V_POW2_d(k) _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(                    \
    _mm256_castpd_si256(_mm256_add_pd(k, _mm256_set1_pd(0x1.8p52))), _mm256_set1_epi64x(1023)), 52))
#define V_SEL_GE0_d(z, a, b) _mm256_blendv_pd(b, a, _mm256_cmp_pd(z, _mm256_setzero_pd(), _CMP_GE_OQ))
#define V_FIXNAN_d(y, x) _mm256_blendv_pd(y, _mm256_add_pd(x, x), _mm256_cmp_pd(x, x, _CMP_UNORD_Q))
#define V_LOAD_d _mm256_loadu_pd
#define V_STORE_d _mm256_storeu_pd
#define V_LOADN_d(p, n) _mm256_maskload_pd(p, fm_first_n_epi64(n))
#define V_STOREN_d(p, v, n) _mm256_maskstore_pd(p, fm_first_n_epi64(n), v)

#define FM_BODY "vecmath/vecmath_body.inc"
#include "fm_dtypes.h"

const fm_vecmath_kernels_s fm_vecmath_avx2_s = {
    .name = "avx2", .exp = vm_exp_s, .sigmoid = vm_sigmoid_s, .tanh = vm_tanh_s,
};
const fm_vecmath_kernels_d fm_vecmath_avx2_d = {
    .name = "avx2", .exp = vm_exp_d, .sigmoid = vm_sigmoid_d, .tanh = vm_tanh_d,
};
