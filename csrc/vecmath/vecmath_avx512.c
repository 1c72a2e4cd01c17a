/* vecmath_avx512.c -- exp, sigmoid, tanh with AVX-512 (16 floats / 8 doubles per vector).
   Compiled with -mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx2 -mfma (file-name suffix);
   called only where fm_isa_supported(FM_ISA_AVX512). Tails use masked loads and stores, so
   they run the same code as the body. The algorithm is in vecmath_body.inc. */
#include "vecmath.h"
#include <immintrin.h>

#define KN(name) fm_vm512_##name##_d
#define VT __m512d
#define ST double
#define VW 8
#define VB_DOUBLE 1
#define V_SET1 _mm512_set1_pd
#define V_ADD _mm512_add_pd
#define V_SUB _mm512_sub_pd
#define V_MUL _mm512_mul_pd
#define V_DIV _mm512_div_pd
#define V_MAX _mm512_max_pd
#define V_MIN _mm512_min_pd
#define V_FLOOR(x) _mm512_roundscale_pd(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND _mm512_and_pd
#define V_ANDNOT _mm512_andnot_pd
#define V_OR _mm512_or_pd
#define V_FMA _mm512_fmadd_pd
#define V_FNMA _mm512_fnmadd_pd
#define V_POW2(k) _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(                    \
    _mm512_castpd_si512(_mm512_add_pd(k, _mm512_set1_pd(0x1.8p52))), _mm512_set1_epi64(1023)), 52))
#define V_SEL_GE0(z, a, b) _mm512_mask_blend_pd(                                              \
    _mm512_cmp_pd_mask(z, _mm512_setzero_pd(), _CMP_GE_OQ), b, a)
#define V_FIXNAN(y, x) _mm512_mask_add_pd(y, _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), x, x)
#define V_LOAD _mm512_loadu_pd
#define V_STORE _mm512_storeu_pd
#define V_LOADN(p, n) _mm512_maskz_loadu_pd((__mmask8)((1u << (n)) - 1), p)
#define V_STOREN(p, v, n) _mm512_mask_storeu_pd(p, (__mmask8)((1u << (n)) - 1), v)
#include "vecmath_body.inc"

#define KN(name) fm_vm512_##name##_s
#define VT __m512
#define ST float
#define VW 16
#define VB_DOUBLE 0
#define V_SET1 _mm512_set1_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_MAX _mm512_max_ps
#define V_MIN _mm512_min_ps
#define V_FLOOR(x) _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define V_AND _mm512_and_ps
#define V_ANDNOT _mm512_andnot_ps
#define V_OR _mm512_or_ps
#define V_FMA _mm512_fmadd_ps
#define V_FNMA _mm512_fnmadd_ps
#define V_POW2(k) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(                    \
    _mm512_castps_si512(_mm512_add_ps(k, _mm512_set1_ps(0x1.8p23f))), _mm512_set1_epi32(127)), 23))
#define V_SEL_GE0(z, a, b) _mm512_mask_blend_ps(                                              \
    _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GE_OQ), b, a)
#define V_FIXNAN(y, x) _mm512_mask_add_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x, x)
#define V_LOAD _mm512_loadu_ps
#define V_STORE _mm512_storeu_ps
#define V_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), p)
#define V_STOREN(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1), v)
#include "vecmath_body.inc"

const fm_vecmath_kernels fm_vecmath_avx512 = {
    "avx512",
    fm_vm512_exp_s, fm_vm512_sigmoid_s, fm_vm512_tanh_s,
    fm_vm512_exp_d, fm_vm512_sigmoid_d, fm_vm512_tanh_d,
};
