/* linear.c -- single-layer linear models, one sample at a time (see linear.h). */
#include "linear/linear.h"
#include "fm_internal.h"
#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* scikit-learn's our_rand_r: a 32-bit xorshift, its result below 2^31 */
static inline uint32_t lin_rand(uint32_t *s) {
    uint32_t x = *s;
    if (x == 0) x = 1;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x % 0x80000000u;
}

void fm_lin_shuffle(int32_t *order, ptrdiff_t n, uint32_t seed) {
    for (ptrdiff_t i = 0; i + 1 < n; i++) {
        const ptrdiff_t j = i + (ptrdiff_t)(lin_rand(&seed) % (uint32_t)(n - i));
        const int32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* one thread per unit at most; each unit runs whole on one thread */
static int lin_threads(int nthreads, int nunits) {
    int p = nthreads > 0 ? nthreads : fm_max_threads();
    if (p > nunits) p = nunits;
    if (p > FM_TEAM_MAX) p = FM_TEAM_MAX;
    return p > 1 ? p : 1;
}

/* the dense dot product's lanes: GCC/Clang vector extensions (SSE2 on the x86-64 baseline) */
#if defined(__GNUC__)
#define FM_LIN_VECTOR 1
typedef double fm_v2d __attribute__((vector_size(16)));
typedef float fm_v4sf __attribute__((vector_size(16)));
#else
#define FM_LIN_VECTOR 0
#endif

#if defined(__GNUC__)
#define FM_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#define FM_LIN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define FM_PREFETCH(p) ((void)(p))
#define FM_LIN_ALWAYS_INLINE inline
#endif
#define FM_LIN_AHEAD 4      /* rows prefetched ahead of the one trained on */

#define FM_BODY "linear/linear.inc"
#include "fm_dtypes.h"
