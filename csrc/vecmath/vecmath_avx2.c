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

#define KN(name) fm_vm256_##name##_d
#define VT __m256d
#define ST double
#define VW 4
#define VB_DOUBLE 1
#define V_SET1 _mm256_set1_pd
#define V_ADD _mm256_add_pd
#define V_SUB _mm256_sub_pd
#define V_MUL _mm256_mul_pd
#define V_DIV _mm256_div_pd
#define V_MAX _mm256_max_pd
#define V_MIN _mm256_min_pd
#define V_FLOOR(x) _mm256_round_pd(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND _mm256_and_pd
#define V_ANDNOT _mm256_andnot_pd
#define V_OR _mm256_or_pd
#define V_FMA _mm256_fmadd_pd
#define V_FNMA _mm256_fnmadd_pd
#define V_POW2(k) _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(                    \
    _mm256_castpd_si256(_mm256_add_pd(k, _mm256_set1_pd(0x1.8p52))), _mm256_set1_epi64x(1023)), 52))
#define V_SEL_GE0(z, a, b) _mm256_blendv_pd(b, a, _mm256_cmp_pd(z, _mm256_setzero_pd(), _CMP_GE_OQ))
#define V_FIXNAN(y, x) _mm256_blendv_pd(y, _mm256_add_pd(x, x), _mm256_cmp_pd(x, x, _CMP_UNORD_Q))
#define V_LOAD _mm256_loadu_pd
#define V_STORE _mm256_storeu_pd
#define V_LOADN(p, n) _mm256_maskload_pd(p, fm_first_n_epi64(n))
#define V_STOREN(p, v, n) _mm256_maskstore_pd(p, fm_first_n_epi64(n), v)
#include "vecmath_body.inc"

#define KN(name) fm_vm256_##name##_s
#define VT __m256
#define ST float
#define VW 8
#define VB_DOUBLE 0
#define V_SET1 _mm256_set1_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_MAX _mm256_max_ps
#define V_MIN _mm256_min_ps
#define V_FLOOR(x) _mm256_round_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND _mm256_and_ps
#define V_ANDNOT _mm256_andnot_ps
#define V_OR _mm256_or_ps
#define V_FMA _mm256_fmadd_ps
#define V_FNMA _mm256_fnmadd_ps
#define V_POW2(k) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(                    \
    _mm256_castps_si256(_mm256_add_ps(k, _mm256_set1_ps(0x1.8p23f))), _mm256_set1_epi32(127)), 23))
#define V_SEL_GE0(z, a, b) _mm256_blendv_ps(b, a, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ))
#define V_FIXNAN(y, x) _mm256_blendv_ps(y, _mm256_add_ps(x, x), _mm256_cmp_ps(x, x, _CMP_UNORD_Q))
#define V_LOAD _mm256_loadu_ps
#define V_STORE _mm256_storeu_ps
#define V_LOADN(p, n) _mm256_maskload_ps(p, fm_first_n_epi32(n))
#define V_STOREN(p, v, n) _mm256_maskstore_ps(p, fm_first_n_epi32(n), v)
#include "vecmath_body.inc"

const fm_vecmath_kernels fm_vecmath_avx2 = {
    "avx2",
    fm_vm256_exp_s, fm_vm256_sigmoid_s, fm_vm256_tanh_s,
    fm_vm256_exp_d, fm_vm256_sigmoid_d, fm_vm256_tanh_d,
};
