/* fm_internal.h -- helpers shared by the engine's .c files (not part of the public API). */
#ifndef FM_INTERNAL_H
#define FM_INTERNAL_H
#include "fastmlp.h"
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
#endif

/* Element-wise kernels are compiled for the baseline ISA and, where the toolchain can, also
   for x86-64-v3 (AVX2+FMA) and x86-64-v4 (AVX-512); the loader picks the best clone for the
   CPU at run time (GNU ifunc), never tuned to the build host. Element-wise results do not depend on the
   clone: the engine is built with -ffp-contract=off, so no clone fuses a*b+c differently. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(FASTMLP_NO_X86) && !defined(FASTMLP_NO_CLONES) && __GNUC__ >= 12
#define FM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FM_CLONES
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
/* Rows [r0, r1) of a loss evaluation (per-sample cost to rowloss[i], delta rows; see fm_loss). */
void fm_loss_rows_s(int loss, int act, int r0, int r1, int n, int m, const float *Y,
                    const float *z, const float *a, float *delta, double leaky,
                    const float *prelu, double *rowloss);
void fm_loss_rows_d(int loss, int act, int r0, int r1, int n, int m, const double *Y,
                    const double *z, const double *a, double *delta, double leaky,
                    const double *prelu, double *rowloss);
/* One optimiser update of theta[i0:i1]; c1 = 1 - beta1^t, c2 = 1 - beta2^t (Adam). */
void fm_update_range_s(const fm_opt *o, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t n_weights,
                       float *theta, const float *grad, float *s1, float *s2, double c1,
                       double c2);
void fm_update_range_d(const fm_opt *o, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t n_weights,
                       double *theta, const double *grad, double *s1, double *s2, double c1,
                       double c2);

/* ---- teams: the threads that run one training step (or a whole run) together ------------
   Every phase of a step is split over the team's threads by outputs (rows, columns, tiles,
   parameter ranges), and phases are separated by barriers, so one parallel region serves a
   whole run instead of a fork/join per kernel. p == 1 is the serial engine: same code,
   barriers are no-ops. Decisions (is the loss finite? may the step be fused?) are taken
   from shared slots after a barrier, so every thread takes the same branch. */
#define FM_TEAM_MAX 64
typedef struct {
    /* a counting spin barrier: libgomp's costs ~0.5 us here, and a step needs ~10 of them */
    _Alignas(64) _Atomic int arrived;
    _Alignas(64) _Atomic int generation;
    _Alignas(64) double loss;         /* the batch loss, summed by thread 0 in row order */
    double slot[FM_TEAM_MAX][2 * FM_MAX_LAYERS + 2];   /* per-thread values, for reductions */
    int flag[FM_TEAM_MAX];
    int stop;
    int fused_max_batch;   /* fm_get_fused_sgd_max_batch(), read once by a training entry point */
} fm_team_shared;

typedef struct {
    int t, p;
    fm_team_shared *sh;
    int gemm_threads;   /* p == 1: threads each GEMM may open on its own (fork/join per call) */
} fm_team;

static inline void fm_team_init(fm_team_shared *sh) {
    atomic_init(&sh->arrived, 0);
    atomic_init(&sh->generation, 0);
}

/* Every write made by any team thread before the barrier is visible to all after it. Waiters
   spin briefly, then yield the CPU (so an oversubscribed machine still makes progress). */
static inline void fm_team_barrier(const fm_team *tm) {
    if (tm->p <= 1) return;
    fm_team_shared *sh = tm->sh;
    int gen = atomic_load_explicit(&sh->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&sh->arrived, 1, memory_order_acq_rel) == tm->p - 1) {
        atomic_store_explicit(&sh->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&sh->generation, 1, memory_order_release);
        return;
    }
    for (unsigned spins = 0;
         atomic_load_explicit(&sh->generation, memory_order_acquire) == gen; ++spins) {
        if (spins < 20000) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield();
        }
    }
}

/* [*lo, *hi): thread t's share of 0..n (boundaries multiples of `align`) */
static inline void fm_team_range(const fm_team *tm, ptrdiff_t n, ptrdiff_t align,
                                 ptrdiff_t *lo, ptrdiff_t *hi) {
    if (tm->p == 1) { *lo = 0; *hi = n; return; }
    ptrdiff_t units = (n + align - 1) / align;
    *lo = (ptrdiff_t)((int64_t)units * tm->t / tm->p) * align;
    *hi = (ptrdiff_t)((int64_t)units * (tm->t + 1) / tm->p) * align;
    if (*lo > n) *lo = n;
    if (*hi > n) *hi = n;
}

/* Threads for a step of `flops` operations: 1 below fm_get_team_min_flops() (barriers would
   cost more than they save; large products still use threads of their own), else up to
   nthreads. */
int fm_team_size(int nthreads, double flops);

/* fm_step_is_fused with the batch limit given: the value of fm_get_fused_sgd_max_batch() that
   a training entry point read once for the whole call. */
int fm_step_fused(const fm_net *net, const fm_opt *opt, int n, int max_batch);
#endif
