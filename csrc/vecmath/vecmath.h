/* vecmath.h -- vectorised exp, sigmoid and tanh over contiguous arrays (internal).
 *
 * One kernel table per ISA and dtype: vecmath_avx512.c (16 floats / 8 doubles per vector),
 * vecmath_avx2.c (8 / 4) and the portable scalar libm loops of vecmath.c. Both vector sets
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

/* fm_vecmath_kernels_s / _d (name, exp, sigmoid, tanh), the tables
   fm_vecmath_{portable,avx2,avx512}_{s,d}, and fm_vecmath_s() / _d(): the table in use
   (chosen on first call, thread-safe) */
#define FM_BODY "vecmath/vecmath_table.inc"
#include "fm_dtypes.h"

#endif
