/* config.c -- what this build of the engine is: compiler, OpenMP, threads, CPU features. */
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

/* set by fm_set_max_threads; 0 = not set (OpenMP's setting alone decides) */
static volatile int fm_threads_setting = 0;

int fm_default_threads(void) {
#ifdef _OPENMP
    int omp = omp_get_max_threads(), own = fm_threads_setting;
    return own > 0 && own < omp ? own : omp;
#else
    return 1;
#endif
}

int fm_max_threads(void) { return fm_default_threads(); }

void fm_set_max_threads(int n) {
#ifdef _OPENMP
    if (n >= 1) {
        fm_threads_setting = n;
        omp_set_num_threads(n);  /* the calling thread may also go above its old setting */
    }
#else
    (void)n;
#endif
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

/* ---- kernel-set levels for the run-time dispatchers ---------------------------------------- */

static const char *const fm_isa_names[FM_N_ISA] = {"portable", "avx2", "avx512"};

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

const char *fm_isa_name(int level) {
    return level >= 0 && level < FM_N_ISA ? fm_isa_names[level] : "unknown";
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
