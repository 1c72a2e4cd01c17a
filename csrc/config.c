/* config.c -- what this build of the engine is: compiler, OpenMP, threads, CPU features. */
#include "fm_internal.h"
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
