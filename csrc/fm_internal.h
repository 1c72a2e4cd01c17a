/* fm_internal.h -- helpers shared by the engine's .c files (not part of the public API). */
#ifndef FM_INTERNAL_H
#define FM_INTERNAL_H
#include "fastmlp.h"
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The default thread count for nthreads <= 0: fm_set_max_threads's value (process-wide),
   further limited by OpenMP's own setting in the calling thread (OMP_NUM_THREADS,
   omp_set_num_threads -- which is what threadpoolctl adjusts). */
int fm_default_threads(void);

/* Threads to use for this call: nthreads <= 0 means the default above. */
static inline int fm_nthreads(int nthreads) {
#ifdef _OPENMP
    if (nthreads <= 0) nthreads = fm_default_threads();
    return nthreads < 1 ? 1 : nthreads;
#else
    (void)nthreads;
    return 1;
#endif
}

/* CPU kernel sets, shared by every runtime dispatcher (GEMM, vector maths). Level L's files
   (*_avx2.c, *_avx512.c) are compiled with the flags that fm_isa_supported(L) checks. */
enum { FM_ISA_PORTABLE = 0, FM_ISA_AVX2 = 1, FM_ISA_AVX512 = 2, FM_N_ISA = 3 };
/* 1 if this CPU has every flag level's files are compiled with (portable: always). */
int fm_isa_supported(int level);
/* "portable" / "avx2" / "avx512" -> level; -1 for anything else (NULL included). */
int fm_isa_from_name(const char *name);
const char *fm_isa_name(int level);
/* The default level: the best this CPU supports, capped by the environment variable
   FASTMLP_ISA (portable|avx2|avx512; other values are ignored). Read once, thread-safe. */
int fm_isa_level(void);

/* Per-block kernels, serial; the element-wise API and the GEMM epilogues both call them. */
void fm_act_block_s(int act, int rows, int cols, const float *z, ptrdiff_t ldz, float *a,
                    ptrdiff_t lda, double leaky, const float *prelu);
void fm_act_block_d(int act, int rows, int cols, const double *z, ptrdiff_t ldz, double *a,
                    ptrdiff_t lda, double leaky, const double *prelu);
/* mul == 0: d = sigma'; mul == 1: d *= sigma' (the backward pass's mask). */
void fm_deriv_block_s(int act, int rows, int cols, const float *z, ptrdiff_t ldz, const float *a,
                      ptrdiff_t lda, float *d, ptrdiff_t ldd, double leaky, const float *prelu, int mul);
void fm_deriv_block_d(int act, int rows, int cols, const double *z, ptrdiff_t ldz, const double *a,
                      ptrdiff_t lda, double *d, ptrdiff_t ldd, double leaky, const double *prelu, int mul);

/* 1 if every entry of x[0:n] is finite. */
int fm_all_finite_s(const float *x, ptrdiff_t n);
int fm_all_finite_d(const double *x, ptrdiff_t n);
#include <string.h>
void fm_softmax_jvp_s(int n, int m, const float *P, float *G);
void fm_softmax_jvp_d(int n, int m, const double *P, double *G);
double fm_maxabs_s(const float *x, ptrdiff_t n);
double fm_maxabs_d(const double *x, ptrdiff_t n);
#endif
