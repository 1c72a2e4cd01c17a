/* vecmath.c -- the run-time choice between kernel sets, the portable (libm) kernel set and the
   element-wise entry points (the per-dtype part in vecmath.inc). See vecmath.h. */
#include "fm_internal.h"
#include "vecmath.h"
#include <stdatomic.h>

/* ---- dispatch -------------------------------------------------------------------------------- */

typedef struct {
    const fm_vecmath_kernels_s *k_s;   /* read as F(k) by vecmath.inc */
    const fm_vecmath_kernels_d *k_d;
} fm_vecmath_set;

/* indexed by level (fm_isa_level / fm_isa_supported in config.c decide) */
static const fm_vecmath_set fm_vecmath_sets[FM_N_ISA] = {
    [FM_ISA_PORTABLE] = {.k_s = &fm_vecmath_portable_s, .k_d = &fm_vecmath_portable_d},
#ifndef FASTMLP_NO_X86
    [FM_ISA_AVX2] = {.k_s = &fm_vecmath_avx2_s, .k_d = &fm_vecmath_avx2_d},
    [FM_ISA_AVX512] = {.k_s = &fm_vecmath_avx512_s, .k_d = &fm_vecmath_avx512_d},
#endif
};

static _Atomic(const fm_vecmath_set *) fm_vecmath_cur;

static const fm_vecmath_set *fm_vecmath_get(void) {
    const fm_vecmath_set *p = atomic_load_explicit(&fm_vecmath_cur, memory_order_acquire);
    if (!p) {
        p = &fm_vecmath_sets[fm_isa_level()];
        atomic_store_explicit(&fm_vecmath_cur, p, memory_order_release);
    }
    return p;
}

const char *fm_vecmath_isa(void) { return fm_vecmath_get()->k_s->name; }

int fm_vecmath_set_isa(const char *name) {
    int level = fm_isa_from_name(name);
    if (level < 0 || !fm_isa_supported(level)) return -1;
#ifdef FASTMLP_NO_X86
    if (level != FM_ISA_PORTABLE) return -1;
#endif
    atomic_store_explicit(&fm_vecmath_cur, &fm_vecmath_sets[level], memory_order_release);
    return 0;
}

/* ---- portable kernels, the table in use, entry points ---------------------------------------- */

#define FM_BODY "vecmath/vecmath.inc"
#include "fm_dtypes.h"

const fm_vecmath_kernels_s fm_vecmath_portable_s = {
    .name = "portable", .exp = libm_exp_s, .sigmoid = libm_sigmoid_s, .tanh = libm_tanh_s,
};
const fm_vecmath_kernels_d fm_vecmath_portable_d = {
    .name = "portable", .exp = libm_exp_d, .sigmoid = libm_sigmoid_d, .tanh = libm_tanh_d,
};
