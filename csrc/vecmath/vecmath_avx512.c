/* vecmath_avx512.c -- exp, sigmoid, tanh with AVX-512 (16 floats / 8 doubles per vector).
   Compiled with -mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx2 -mfma (file-name suffix);
   called only where fm_isa_supported(FM_ISA_AVX512). Tails use masked loads and stores, so
   they run the same code as the body. The algorithm is in vecmath_body.inc. */
#include "vecmath.h"
#include <immintrin.h>

/* float: 16 lanes */
#define VT_s __m512
#define VW_s 16
#define V_SET1_s _mm512_set1_ps
#define V_ADD_s _mm512_add_ps
#define V_SUB_s _mm512_sub_ps
#define V_MUL_s _mm512_mul_ps
#define V_DIV_s _mm512_div_ps
#define V_MAX_s _mm512_max_ps
#define V_MIN_s _mm512_min_ps
#define V_FLOOR_s(x) _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND_s _mm512_and_ps
#define V_ANDNOT_s _mm512_andnot_ps
#define V_OR_s _mm512_or_ps
#define V_FMA_s _mm512_fmadd_ps
#define V_FNMA_s _mm512_fnmadd_ps
#define V_POW2_s(k) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(                    \
    _mm512_castps_si512(_mm512_add_ps(k, _mm512_set1_ps(0x1.8p23f))), _mm512_set1_epi32(127)), 23))
#define V_SEL_GE0_s(z, a, b) _mm512_mask_blend_ps(                                              \
    _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GE_OQ), b, a)
#define V_FIXNAN_s(y, x) _mm512_mask_add_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x, x)
#define V_LOAD_s _mm512_loadu_ps
#define V_STORE_s _mm512_storeu_ps
#define V_LOADN_s(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), p)
#define V_STOREN_s(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1), v)
/* double: 8 lanes */
#define VT_d __m512d
#define VW_d 8
#define V_SET1_d _mm512_set1_pd
#define V_ADD_d _mm512_add_pd
#define V_SUB_d _mm512_sub_pd
#define V_MUL_d _mm512_mul_pd
#define V_DIV_d _mm512_div_pd
#define V_MAX_d _mm512_max_pd
#define V_MIN_d _mm512_min_pd
#define V_FLOOR_d(x) _mm512_roundscale_pd(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND_d _mm512_and_pd
#define V_ANDNOT_d _mm512_andnot_pd
#define V_OR_d _mm512_or_pd
#define V_FMA_d _mm512_fmadd_pd
#define V_FNMA_d _mm512_fnmadd_pd
#define V_POW2_d(k) _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(                    \
    _mm512_castpd_si512(_mm512_add_pd(k, _mm512_set1_pd(0x1.8p52))), _mm512_set1_epi64(1023)), 52))
#define V_SEL_GE0_d(z, a, b) _mm512_mask_blend_pd(                                              \
    _mm512_cmp_pd_mask(z, _mm512_setzero_pd(), _CMP_GE_OQ), b, a)
#define V_FIXNAN_d(y, x) _mm512_mask_add_pd(y, _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), x, x)
#define V_LOAD_d _mm512_loadu_pd
#define V_STORE_d _mm512_storeu_pd
#define V_LOADN_d(p, n) _mm512_maskz_loadu_pd((__mmask8)((1u << (n)) - 1), p)
#define V_STOREN_d(p, v, n) _mm512_mask_storeu_pd(p, (__mmask8)((1u << (n)) - 1), v)

#define FM_BODY "vecmath/vecmath_body.inc"
#include "fm_dtypes.h"

const fm_vecmath_kernels_s fm_vecmath_avx512_s = {
    .name = "avx512", .exp = vm_exp_s, .sigmoid = vm_sigmoid_s, .tanh = vm_tanh_s,
};
const fm_vecmath_kernels_d fm_vecmath_avx512_d = {
    .name = "avx512", .exp = vm_exp_d, .sigmoid = vm_sigmoid_d, .tanh = vm_tanh_d,
};
