/* fm_internal.h -- helpers shared by the engine's .c files (not part of the public API). */
#ifndef FM_INTERNAL_H
#define FM_INTERNAL_H
#include "fastmlp.h"
#include "team.h"
#include <math.h>
#include <string.h>

/* Element-wise kernels are compiled for the baseline ISA and, where the toolchain can, also
   for x86-64-v3 (AVX2+FMA) and x86-64-v4 (AVX-512); the loader picks the best clone for the
   CPU at run time (GNU ifunc), never tuned to the build host. Element-wise results do not depend on the
   clone: the engine is built with -ffp-contract=off, so no clone fuses a*b+c differently
   (tests/engine/test_avx2_host.py compares the AVX2 clones with the AVX-512 ones bit for bit,
   in a process whose CPUID hides AVX-512). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(FASTMLP_NO_X86) && !defined(FASTMLP_NO_CLONES) && __GNUC__ >= 12
#define FM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define FM_HAVE_CLONES 1
#else
#define FM_CLONES
#endif

/* fm_get_gemm_par_flops(), inlined: the GEMM reads it once per product, where a call (and
   the spills around it) would cost more than the read. The storage is in config.c. */
extern _Atomic double fm_gemm_par_flops;
static inline double fm_gemm_par_flops_relaxed(void) {
    return atomic_load_explicit(&fm_gemm_par_flops, memory_order_relaxed);
}

/* CPU kernel sets, shared by every runtime dispatcher (GEMM, vector maths). Level L's files
   (*_avx2.c, *_avx512.c) are compiled with the flags that fm_isa_supported(L) checks. */
enum { FM_ISA_PORTABLE = 0, FM_ISA_AVX2 = 1, FM_ISA_AVX512 = 2, FM_N_ISA = 3 };
/* 1 if this CPU has every flag level's files are compiled with (portable: always). */
int fm_isa_supported(int level);
/* "portable" / "avx2" / "avx512" -> level; -1 for anything else (NULL included). */
int fm_isa_from_name(const char *name);
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

/* 1 if x is NaN or infinite: an integer test on the exponent bits, which vectorises. */
static inline uint32_t fm_nonfinite_s(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x7f800000u) == 0x7f800000u;
}
static inline uint64_t fm_nonfinite_d(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
}
/* 1 if every entry of x[0:n] is finite. */
int fm_all_finite_s(const float *x, ptrdiff_t n);
int fm_all_finite_d(const double *x, ptrdiff_t n);
void fm_softmax_jvp_s(int n, int m, const float *P, float *G);
void fm_softmax_jvp_d(int n, int m, const double *P, double *G);
double fm_maxabs_s(const float *x, ptrdiff_t n);
double fm_maxabs_d(const double *x, ptrdiff_t n);
/* Rows [r0, r1) of a loss evaluation (per-sample cost to rowloss[i], delta rows; see fm_loss). */
void fm_loss_rows_s(int loss, int act, int r0, int r1, int n, int m, const float *Y,
                    const float *z, const float *a, float *delta, double leaky,
                    const float *prelu, double *rowloss);
void fm_loss_rows_d(int loss, int act, int r0, int r1, int n, int m, const double *Y,
                    const double *z, const double *a, double *delta, double leaky,
                    const double *prelu, double *rowloss);
/* The optimiser update of theta from grad (fm_update) by a team; increments opt->t. */
fm_status fm_update_team_s(const fm_team *tm, const fm_net *net, fm_opt *opt, double wd,
                           float *theta, const float *grad, float *s1, float *s2);
fm_status fm_update_team_d(const fm_team *tm, const fm_net *net, fm_opt *opt, double wd,
                           double *theta, const double *grad, double *s1, double *s2);
/* The same update in blocks any thread may run (nn/optim.inc: fm_update_prepare). */
void fm_update_prepare_s(const fm_opt *opt, double wd, fm_opt *o, double *c1, double *c2);
int fm_update_block_fails_s(const fm_opt *o, ptrdiff_t n_weights, ptrdiff_t i0, ptrdiff_t i1,
                           float *theta, const float *grad, float *s1, float *s2, double c1,
                           double c2);
void fm_update_block_s(const fm_opt *o, ptrdiff_t n_weights, ptrdiff_t i0, ptrdiff_t i1,
                      float *theta, const float *grad, float *s1, float *s2, double c1, double c2);
void fm_update_prepare_d(const fm_opt *opt, double wd, fm_opt *o, double *c1, double *c2);
int fm_update_block_fails_d(const fm_opt *o, ptrdiff_t n_weights, ptrdiff_t i0, ptrdiff_t i1,
                           double *theta, const double *grad, double *s1, double *s2, double c1,
                           double c2);
void fm_update_block_d(const fm_opt *o, ptrdiff_t n_weights, ptrdiff_t i0, ptrdiff_t i1,
                      double *theta, const double *grad, double *s1, double *s2, double c1, double c2);
/* What a training call's steps share besides the threading layer's part (team.h): the network's
   own state, read and written by the call's team of one and by its data-parallel chunks. Every
   team of a network call has one of these behind its tm->sh (STEP(tm) reaches it). */
typedef struct {
    fm_team_shared team;              /* first: tm->sh points here */
    double loss;                      /* the batch loss, summed by thread 0 in row order */
    int stop;                         /* the call's Ctrl-C flag, read once per epoch */
    int fused_max_batch;   /* fm_get_fused_sgd_max_batch(), read once by a training entry point */
    /* the data-parallel step (network.c), read once by a training entry point: */
    int dp_chunks;                    /* fm_get_dp_chunks() (0: never) */
    double dp_min_flops, dp_max_flops;
    void *dp_buf;                     /* dp_chunks gradient vectors, dp_stride elements apart */
    ptrdiff_t dp_stride;
    /* fused SGD steps: a bound on max |W^l| carried from step to step (valid: set at all;
       exact: measured since the last step) -- see step_fused_team in nn/network.inc */
    int wmax_valid, wmax_exact;
    double wmax[FM_MAX_LAYERS + 1];
} fm_step_shared;
#define STEP(tm) ((fm_step_shared *)(void *)(tm)->sh)
static inline void fm_step_init(fm_step_shared *s) {
    fm_team_init(&s->team);
    s->dp_chunks = 0;
    s->dp_buf = NULL;
    s->wmax_valid = s->wmax_exact = 0;
}

/* A thread's scratch buffer for one use (scratch.c): declare it `static _Thread_local
   fm_scratch name;` and ask fm_scratch_get for at least `bytes`: the buffer, 64-byte aligned
   and reused while it is large enough, or NULL when it cannot be grown (the old one is kept).
   Freed when the thread exits. */
typedef struct {
    void *p;
    size_t cap;
} fm_scratch;
void *fm_scratch_grow(fm_scratch *s, size_t bytes);   /* out of line: the slow path */
static inline void *fm_scratch_get(fm_scratch *s, size_t bytes) {
    return bytes > s->cap ? fm_scratch_grow(s, bytes) : s->p;
}
#endif
