/* lbfgs.c -- the vector work of the engine's L-BFGS (src/fastmlp/training/lbfgs.py): the
   two-loop recursion d = -H g over the stored correction pairs, and the few reductions and
   updates of its line search. float64 only: the optimiser's vectors are float64 whatever the
   network's dtype. The kernels (nn/lbfgs_body.inc) are built for each kernel set and give the
   same bits on every one; the set in use follows fm_isa_level() (FASTMLP_ISA). */
#include "fm_internal.h"
#include "nn/lbfgs.h"

#include <math.h>
#include <stdatomic.h>

#define LBFGS_TABLE fm_lbfgs_portable
#include "nn/lbfgs_body.inc"

static const fm_lbfgs_kernels *const fm_lbfgs_sets[FM_N_ISA] = {
    [FM_ISA_PORTABLE] = &fm_lbfgs_portable,
#ifndef FASTMLP_NO_X86
    [FM_ISA_AVX2] = &fm_lbfgs_avx2,
    [FM_ISA_AVX512] = &fm_lbfgs_avx512,
#endif
};
static const char *const fm_lbfgs_names[FM_N_ISA] = {"portable", "avx2", "avx512"};

static atomic_int fm_lbfgs_level = -1;

static const fm_lbfgs_kernels *K(void) {
    int level = atomic_load_explicit(&fm_lbfgs_level, memory_order_acquire);
    if (level < 0) {
        level = fm_isa_level();
        atomic_store_explicit(&fm_lbfgs_level, level, memory_order_release);
    }
    return fm_lbfgs_sets[level];
}

const char *fm_lbfgs_isa(void) {
    (void)K();
    return fm_lbfgs_names[atomic_load_explicit(&fm_lbfgs_level, memory_order_acquire)];
}

int fm_lbfgs_set_isa(const char *name) {
    int level = fm_isa_from_name(name);
    if (level < 0 || !fm_isa_supported(level)) return -1;
#ifdef FASTMLP_NO_X86
    if (level != FM_ISA_PORTABLE) return -1;
#endif
    atomic_store_explicit(&fm_lbfgs_level, level, memory_order_release);
    return 0;
}

double fm_lbfgs_dot(ptrdiff_t n, const double *a, const double *b) { return K()->dot(n, a, b); }

void fm_lbfgs_direction(ptrdiff_t n, int m, int col, int head, const double *S,
                        const double *Y, const double *rho, double theta, const double *g,
                        const double *x, double *z, double *d, double *alpha) {
    K()->direction(n, m, col, head, S, Y, rho, theta, g, x, z, d, alpha);
}

void fm_lbfgs_trial(ptrdiff_t n, double stp, const double *d, const double *t, double *x) {
    K()->trial(n, stp, d, t, x);
}

double fm_lbfgs_pair(ptrdiff_t n, double stp, const double *d, const double *g,
                     const double *r, double *s_out, double *y_out) {
    return K()->pair(n, stp, d, g, r, s_out, y_out);
}

double fm_lbfgs_amax(ptrdiff_t n, const double *g) { return K()->amax(n, g); }

int fm_lbfgs_equal(ptrdiff_t n, const double *a, const double *b) { return K()->equal(n, a, b); }
