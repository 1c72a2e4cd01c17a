/* lbfgs.h -- the L-BFGS vector kernels as a table per kernel set (nn/lbfgs_body.inc), the
   portable one and, on x86-64, AVX2 and AVX-512 builds of the same source; nn/lbfgs.c picks
   one at run time and calls through it (the fm_lbfgs_* functions of fastmlp.h). */
#ifndef FM_LBFGS_H
#define FM_LBFGS_H
#include <stddef.h>

typedef struct {
    double (*dot)(ptrdiff_t n, const double *a, const double *b);
    void (*direction)(ptrdiff_t n, int m, int col, int head, const double *S, const double *Y,
                      const double *rho, double theta, const double *g, const double *x,
                      double *z, double *d, double *alpha);
    void (*trial)(ptrdiff_t n, double stp, const double *d, const double *t, double *x);
    double (*pair)(ptrdiff_t n, double stp, const double *d, const double *g, const double *r,
                   double *s_out, double *y_out);
    double (*amax)(ptrdiff_t n, const double *g);
    int (*equal)(ptrdiff_t n, const double *a, const double *b);
} fm_lbfgs_kernels;

extern const fm_lbfgs_kernels fm_lbfgs_portable, fm_lbfgs_avx2, fm_lbfgs_avx512;
#endif
