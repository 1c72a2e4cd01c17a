/* vecmath.c -- the portable (libm) kernel set, the run-time choice between kernel sets, and
   the element-wise entry points. See vecmath.h. */
#include "fm_internal.h"
#include "vecmath.h"
#include <stdatomic.h>

/* ---- portable: scalar libm, one element at a time ------------------------------------------- */

#define FM_PORTABLE_SET(T, SFX, EXP, TANH)                                                 \
    static void fm_vmp_exp_##SFX(ptrdiff_t n, const T *x, T *y) {                            \
        for (ptrdiff_t i = 0; i < n; ++i) y[i] = EXP(x[i]);                                  \
    }                                                                                        \
    static void fm_vmp_sigmoid_##SFX(ptrdiff_t n, const T *x, T *y) {                        \
        /* stable for any |z|: never exponentiates a positive number */                      \
        for (ptrdiff_t i = 0; i < n; ++i) {                                                  \
            T z = x[i];                                                                      \
            if (z >= 0) y[i] = (T)1 / ((T)1 + EXP(-z));                                      \
            else { T e = EXP(z); y[i] = e / ((T)1 + e); }                                    \
        }                                                                                    \
    }                                                                                        \
    static void fm_vmp_tanh_##SFX(ptrdiff_t n, const T *x, T *y) {                           \
        for (ptrdiff_t i = 0; i < n; ++i) y[i] = TANH(x[i]);                                 \
    }
FM_PORTABLE_SET(float, s, expf, tanhf)
FM_PORTABLE_SET(double, d, exp, tanh)
#undef FM_PORTABLE_SET

const fm_vecmath_kernels fm_vecmath_portable = {
    "portable",
    fm_vmp_exp_s, fm_vmp_sigmoid_s, fm_vmp_tanh_s,
    fm_vmp_exp_d, fm_vmp_sigmoid_d, fm_vmp_tanh_d,
};

/* ---- dispatch -------------------------------------------------------------------------------- */

static const fm_vecmath_kernels *fm_vecmath_set(int level) {
#ifndef FASTMLP_NO_X86
    if (level == FM_ISA_AVX512) return &fm_vecmath_avx512;
    if (level == FM_ISA_AVX2) return &fm_vecmath_avx2;
#endif
    (void)level;
    return &fm_vecmath_portable;
}

static _Atomic(const fm_vecmath_kernels *) fm_vecmath_cur;

const fm_vecmath_kernels *fm_vecmath(void) {
    const fm_vecmath_kernels *p = atomic_load_explicit(&fm_vecmath_cur, memory_order_acquire);
    if (!p) {
        p = fm_vecmath_set(fm_isa_level());
        atomic_store_explicit(&fm_vecmath_cur, p, memory_order_release);
    }
    return p;
}

const char *fm_vecmath_isa(void) { return fm_vecmath()->name; }

int fm_vecmath_set_isa(const char *name) {
    int level = fm_isa_from_name(name);
    if (level < 0 || !fm_isa_supported(level)) return -1;
#ifdef FASTMLP_NO_X86
    if (level != FM_ISA_PORTABLE) return -1;
#endif
    atomic_store_explicit(&fm_vecmath_cur, fm_vecmath_set(level), memory_order_release);
    return 0;
}

/* ---- entry points ------------------------------------------------------------------------------ */

fm_status fm_vec_eval_s(int func, ptrdiff_t n, const float *x, float *y) {
    if (n < 0 || (n > 0 && (!x || !y))) return FM_ERR_ARG;
    const fm_vecmath_kernels *k = fm_vecmath();
    switch (func) {
    case FM_VEC_EXP: k->exp_s(n, x, y); return FM_OK;
    case FM_VEC_SIGMOID: k->sigmoid_s(n, x, y); return FM_OK;
    case FM_VEC_TANH: k->tanh_s(n, x, y); return FM_OK;
    default: return FM_ERR_ARG;
    }
}

fm_status fm_vec_eval_d(int func, ptrdiff_t n, const double *x, double *y) {
    if (n < 0 || (n > 0 && (!x || !y))) return FM_ERR_ARG;
    const fm_vecmath_kernels *k = fm_vecmath();
    switch (func) {
    case FM_VEC_EXP: k->exp_d(n, x, y); return FM_OK;
    case FM_VEC_SIGMOID: k->sigmoid_d(n, x, y); return FM_OK;
    case FM_VEC_TANH: k->tanh_d(n, x, y); return FM_OK;
    default: return FM_ERR_ARG;
    }
}
