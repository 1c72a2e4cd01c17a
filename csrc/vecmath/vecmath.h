/* vecmath.h -- vectorised exp, sigmoid and tanh over contiguous arrays (internal).
 *
 * One kernel set per ISA: vecmath_avx512.c (16 floats / 8 doubles per vector),
 * vecmath_avx2.c (8 / 4) and the portable scalar libm loops in vecmath.c. Both vector sets
 * run the same algorithm, written once in vecmath_body.inc (see there for the maths and the
 * accuracy contract); tails are done with masked loads/stores by the same vector code, so an
 * element's value never depends on its position or on the array length.
 *
 * Every kernel accepts y == x (in place). n may be 0. The set in use is chosen once, with
 * fm_isa_level() (the same rule as the GEMM: the best the CPU supports, capped by the
 * environment variable FASTMLP_ISA), and can be forced with fm_vecmath_set_isa (tests).
 */
#ifndef FM_VECMATH_H
#define FM_VECMATH_H
#include <stddef.h>

typedef struct {
    const char *name;
    void (*exp_s)(ptrdiff_t n, const float *x, float *y);
    void (*sigmoid_s)(ptrdiff_t n, const float *x, float *y);
    void (*tanh_s)(ptrdiff_t n, const float *x, float *y);
    void (*exp_d)(ptrdiff_t n, const double *x, double *y);
    void (*sigmoid_d)(ptrdiff_t n, const double *x, double *y);
    void (*tanh_d)(ptrdiff_t n, const double *x, double *y);
} fm_vecmath_kernels;

extern const fm_vecmath_kernels fm_vecmath_portable;
#ifndef FASTMLP_NO_X86
extern const fm_vecmath_kernels fm_vecmath_avx2;
extern const fm_vecmath_kernels fm_vecmath_avx512;
#endif

/* The kernel set in use (chosen on first call, thread-safe). */
const fm_vecmath_kernels *fm_vecmath(void);

#endif
