/* config.c -- what this build of the engine is (compiler, OpenMP, CPU features) and its
   run-time settings: the thread count and the tunables. */
#include "fm_internal.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifndef FASTMLP_COMPILER
#define FASTMLP_COMPILER "unknown"
#endif

const char *fm_compiler(void) { return FASTMLP_COMPILER; }

int fm_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* ---- settings written from Python while engine threads run ---------------------------------
   Each is a C11 atomic with relaxed loads and stores (a value, not a synchronisation: no
   other memory depends on it), so a concurrent write is never a data race. The engine reads
   each at most once per call, into a local: one call never sees two values. */

#ifdef _OPENMP
/* set by fm_set_max_threads; 0 = not set (OpenMP's setting alone decides) */
static _Atomic int fm_threads_setting = 0;
#endif

int fm_default_threads(void) {
#ifdef _OPENMP
    if (atomic_load_explicit(&fm_single_threaded_child, memory_order_relaxed)) return 1;
    int omp = omp_get_max_threads();
    int own = atomic_load_explicit(&fm_threads_setting, memory_order_relaxed);
    int n = own > 0 && own < omp ? own : omp;
    return n < FM_MAX_THREADS ? n : FM_MAX_THREADS;
#else
    return 1;
#endif
}

int fm_max_threads(void) { return fm_default_threads(); }

void fm_set_max_threads(int n) {
#ifdef _OPENMP
    if (n >= 1) {
        if (n > FM_MAX_THREADS) n = FM_MAX_THREADS;
        atomic_store_explicit(&fm_threads_setting, n, memory_order_relaxed);
        omp_set_num_threads(n);  /* the calling thread may also go above its old setting */
    }
#else
    (void)n;
#endif
}

/* Element-wise kernels (activations, losses, a long optimiser update) use threads from this
   many elements. Measured on a 2-core Zen 4: one fork/join of libgomp costs about as much as
   ~30k sigmoid evaluations; cheap activations (ReLU) break even later still. */
static _Atomic ptrdiff_t fm_parallel_threshold = 32768;

ptrdiff_t fm_get_parallel_threshold(void) {
    return atomic_load_explicit(&fm_parallel_threshold, memory_order_relaxed);
}
void fm_set_parallel_threshold(ptrdiff_t n) {
    atomic_store_explicit(&fm_parallel_threshold, n < 0 ? 0 : n, memory_order_relaxed);
}

/* Plain SGD is fused into the weight-gradient GEMM for batches of at most this many rows
   (default: all; measurements at fm_step_is_fused in network.c). */
static _Atomic int fm_fused_sgd_max_batch = 1 << 30;

int fm_get_fused_sgd_max_batch(void) {
    return atomic_load_explicit(&fm_fused_sgd_max_batch, memory_order_relaxed);
}
void fm_set_fused_sgd_max_batch(int n) {
    atomic_store_explicit(&fm_fused_sgd_max_batch, n < 0 ? 0 : n, memory_order_relaxed);
}

/* Smallest training step (flops) split over a team of threads (measured: see fm_team_size). */
static _Atomic double fm_team_min_flops = 4.0e6;

double fm_get_team_min_flops(void) {
    return atomic_load_explicit(&fm_team_min_flops, memory_order_relaxed);
}
void fm_set_team_min_flops(double flops) {
    atomic_store_explicit(&fm_team_min_flops, flops >= 0 ? flops : 0.0, memory_order_relaxed);
}

/* Smallest product (2MNK flops) the GEMM splits over threads of its own. Measured on the
   2-core Zen 4 (forced 2 threads vs 1, back-to-back calls, warm workers): 2 threads already
   win at 2.6e5 flops (2.5 -> 1.9 us) and give 1.7x at 1e6 (12.4 -> 7.1 us); waking sleeping
   workers costs more, so the cut is set a little higher than the warm one. */
_Atomic double fm_gemm_par_flops = 1.0e6;   /* extern in fm_internal.h (read per product) */

double fm_get_gemm_par_flops(void) { return fm_gemm_par_flops_relaxed(); }
void fm_set_gemm_par_flops(double flops) {
    atomic_store_explicit(&fm_gemm_par_flops, flops >= 0 ? flops : 0.0, memory_order_relaxed);
}

/* The data-parallel training step (network.c, fm_dp_chunks_of): chunks, and the range of step
   flops (6 x weights x rows) where it is used. Measured on the shared 2-core Zen 4 under a
   load average of ~3.5 (engine.train_epochs, medians of 7 alternating runs, us per step):
     deep (64-(64x8)-10, batch 64, 14 Mflop)   output-split 1t 863 / 2t 5080, data-parallel
                                               1t 646 / 2t 1119
     digits (0.9 Mflop), regression (0.8 Mflop): the data-parallel step costs a fixed ~40 us
                                               more per step even on one thread (not yet
                                               explained), so it starts where the team did.
   mnist (39 Mflop) and wide keep the output-split team. */
static _Atomic int fm_dp_chunks = 2;
static _Atomic double fm_dp_min_flops = 4.0e6;
static _Atomic double fm_dp_max_flops = 2.0e7;

int fm_get_dp_chunks(void) { return atomic_load_explicit(&fm_dp_chunks, memory_order_relaxed); }
void fm_set_dp_chunks(int n) {
    atomic_store_explicit(&fm_dp_chunks, n < 0 ? 0 : n > 64 ? 64 : n, memory_order_relaxed);
}
double fm_get_dp_min_flops(void) {
    return atomic_load_explicit(&fm_dp_min_flops, memory_order_relaxed);
}
void fm_set_dp_min_flops(double flops) {
    atomic_store_explicit(&fm_dp_min_flops, flops >= 0 ? flops : 0.0, memory_order_relaxed);
}
double fm_get_dp_max_flops(void) {
    return atomic_load_explicit(&fm_dp_max_flops, memory_order_relaxed);
}
void fm_set_dp_max_flops(double flops) {
    atomic_store_explicit(&fm_dp_max_flops, flops >= 0 ? flops : 0.0, memory_order_relaxed);
}

const char *fm_cpu_features(void) {
    static char buf[160];
    if (buf[0]) return buf;
    char tmp[160] = "";
#if (defined(__x86_64__) || defined(__i386__)) && !defined(FASTMLP_NO_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) strcat(tmp, "sse4.2 ");
    if (__builtin_cpu_supports("avx")) strcat(tmp, "avx ");
    if (__builtin_cpu_supports("avx2")) strcat(tmp, "avx2 ");
    if (__builtin_cpu_supports("fma")) strcat(tmp, "fma ");
    if (__builtin_cpu_supports("avx512f")) strcat(tmp, "avx512f ");
    if (__builtin_cpu_supports("avx512dq")) strcat(tmp, "avx512dq ");
    if (__builtin_cpu_supports("avx512vl")) strcat(tmp, "avx512vl ");
    if (__builtin_cpu_supports("avx512bw")) strcat(tmp, "avx512bw ");
#endif
    size_t n = strlen(tmp);
    if (n) tmp[n - 1] = '\0'; else strcpy(tmp, "(none detected)");
    memcpy(buf, tmp, sizeof buf);
    return buf;
}

/* The clone of the element-wise loops (FM_CLONES, fm_internal.h) that the loader picked: GCC's
   resolver takes the first of x86-64-v4, x86-64-v3 the CPU supports, else the default one.
   FASTMLP_ISA does not change it. */
const char *fm_clones_level(void) {
#if defined(FM_HAVE_CLONES)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4";
    if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3";
    return "baseline";
#else
    return "none (one build of each loop)";
#endif
}

/* ---- kernel-set levels for the run-time dispatchers ---------------------------------------- */

static const char *const fm_isa_names[FM_N_ISA] = {
    [FM_ISA_PORTABLE] = "portable", [FM_ISA_AVX2] = "avx2", [FM_ISA_AVX512] = "avx512"};

int fm_isa_supported(int level) {
    switch (level) {
    case FM_ISA_PORTABLE:
        return 1;
#if (defined(__x86_64__) || defined(__i386__)) && !defined(FASTMLP_NO_X86)
    case FM_ISA_AVX2:    /* vecmath_avx2.c, gemm_ukr_avx2.c: -mavx2 -mfma */
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FM_ISA_AVX512:  /* *_avx512.c: -mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx2 -mfma */
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

int fm_isa_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < FM_N_ISA; ++i)
        if (strcmp(name, fm_isa_names[i]) == 0) return i;
    return -1;
}

/* -1 = not chosen yet. Racing first calls compute the same answer, so a plain atomic store
   is enough for a thread-safe one-time init. */
static atomic_int fm_isa_default = -1;

int fm_isa_level(void) {
    int level = atomic_load_explicit(&fm_isa_default, memory_order_acquire);
    if (level < 0) {
        const char *env = getenv("FASTMLP_ISA");
        int cap = fm_isa_from_name(env);
        level = cap >= 0 ? cap : FM_N_ISA - 1;
        while (level > FM_ISA_PORTABLE && !fm_isa_supported(level)) --level;
        atomic_store_explicit(&fm_isa_default, level, memory_order_release);
    }
    return level;
}
