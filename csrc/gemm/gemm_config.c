/* gemm_config.c - the GEMM's configuration layer: this CPU's cache sizes, read at run time,
 * and the block sizes of each kernel set derived from them.
 *
 * Split (after BLIS: frame / kernels / configuration):
 *   gemm.c, gemm_driver.inc  the frame: the loops, the threads, the dispatch
 *   gemm_ukr_<isa>.c         the kernels: microkernel, packing, direct product, and the
 *                            register tile MR x NR they are compiled for; each table also
 *                            gives the cache blocks MC, KC, NC that were measured best on
 *                            the reference caches below
 *   gemm_config.c            this file: the caches of the CPU at hand, and each table's
 *                            blocks scaled to them
 *
 * The caches: Linux's sysfs (/sys/devices/system/cpu/cpu0/cache/index*), else CPUID (leaf 4
 * on Intel, 0x8000001D on AMD), else the reference sizes. The L3 counts per core: its size
 * divided by the number of CPUs that share it.
 *
 * The blocks: KC keeps a B micro-panel (KC x NR) in L1, so it scales with L1; MC keeps the A
 * block (MC x KC) in L2, so MC scales with L2 / KC; NC keeps the B panel (KC x NC) in the
 * core's share of L3, so NC scales with L3 / KC. Each is rounded (KC to 16, MC to MR, NC to
 * NR) and clamped. On the reference caches every table keeps its measured blocks exactly.
 *
 * KC slices the sum over K, so the blocks, like the kernel set, can change the last bits of
 * a product from one CPU to another; they never depend on the thread count or the call.
 * FASTMLP_GEMM_CACHES="L1,L2,L3" (bytes, L3 per core) overrides what is read (for tests and
 * for measuring the model). */
#include "gemm_internal.h"
#include "fm_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if (defined(__x86_64__) || defined(__i386__)) && !defined(FASTMLP_NO_X86)
#include <cpuid.h>
#endif

/* the caches the tables' blocks were measured on: the 2-core Zen 4 (32 KB L1d, 1 MB L2,
   32 MB L3 shared by 2 CPUs) */
#define REF_L1 (32 * 1024)
#define REF_L2 (1024 * 1024)
#define REF_L3 (16 * 1024 * 1024)

static long read_long_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char buf[64] = "";
    long v = -1;
    if (fgets(buf, sizeof buf, f)) {
        char *end;
        v = strtol(buf, &end, 10);
        if (end == buf) v = -1;
        else if (*end == 'K') v *= 1024;
        else if (*end == 'M') v *= 1024 * 1024;
    }
    fclose(f);
    return v;
}

/* the number of CPUs in a sysfs list such as "0-3,8-11" */
static int count_cpu_list(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char buf[512] = "";
    int n = 0;
    if (fgets(buf, sizeof buf, f)) {
        char *p = buf;
        while (*p && *p != '\n') {
            char *end;
            long a = strtol(p, &end, 10), b = a;
            if (end == p) break;
            p = end;
            if (*p == '-') {
                b = strtol(p + 1, &end, 10);
                p = end;
            }
            n += (int)(b - a + 1);
            if (*p == ',') ++p;
        }
    }
    fclose(f);
    return n > 0 ? n : -1;
}

static int caches_from_sysfs(long c[3])
{
    int found = 0;
    for (int i = 0; i < 8; ++i) {
        char path[128], type[32] = "";
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        if (!fgets(type, sizeof type, f)) type[0] = '\0';
        fclose(f);
        if (strncmp(type, "Instruction", 11) == 0) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        long level = read_long_file(path);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        long size = read_long_file(path);
        if (level < 1 || level > 3 || size <= 0) continue;
        if (level == 3) {
            snprintf(path, sizeof path,
                     "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
            int sharing = count_cpu_list(path);
            if (sharing > 1) size /= sharing;
        }
        c[level - 1] = size;
        found |= 1 << (level - 1);
    }
    return found;
}

static int caches_from_cpuid(long c[3])
{
    int found = 0;
#if (defined(__x86_64__) || defined(__i386__)) && !defined(FASTMLP_NO_X86)
    unsigned a, b, cc, d, max_ext = __get_cpuid_max(0x80000000u, NULL);
    unsigned leaf = 4;
    if (__get_cpuid(0, &a, &b, &cc, &d) && b == 0x68747541u /* "Auth"enticAMD */ &&
        max_ext >= 0x8000001Du)
        leaf = 0x8000001Du;
    else if (__get_cpuid_max(0, NULL) < 4)
        return 0;
    for (unsigned i = 0; i < 8; ++i) {
        __cpuid_count(leaf, i, a, b, cc, d);
        unsigned type = a & 31, level = (a >> 5) & 7;
        if (type == 0) break;
        if (type == 2 || level < 1 || level > 3) continue;   /* instruction cache */
        long size = (long)(((b >> 22) & 0x3ff) + 1) * (((b >> 12) & 0x3ff) + 1) *
                    ((b & 0xfff) + 1) * ((long)cc + 1);
        if (level == 3) {
            long sharing = ((a >> 14) & 0xfff) + 1;
            if (sharing > 1) size /= sharing;
        }
        c[level - 1] = size;
        found |= 1 << (level - 1);
    }
#else
    (void)c;
#endif
    return found;
}

/* ---- the caches, once --------------------------------------------------------------------- */
static long g_caches[3];
static const char *g_source = "";
static atomic_int g_caches_ready = 0;

static void read_caches(void)
{
    long c[3] = {REF_L1, REF_L2, REF_L3};
    const char *src = "reference sizes (none could be read)";
    const char *env = getenv("FASTMLP_GEMM_CACHES");
    long e[3];
    if (env && sscanf(env, "%ld,%ld,%ld", &e[0], &e[1], &e[2]) == 3 && e[0] > 0 && e[1] > 0 &&
        e[2] > 0) {
        memcpy(c, e, sizeof c);
        src = "FASTMLP_GEMM_CACHES";
    } else {
        long s[3] = {REF_L1, REF_L2, REF_L3};
        int got = caches_from_sysfs(s);
        if ((got & 3) != 3) {
            long q[3] = {REF_L1, REF_L2, REF_L3};
            int gq = caches_from_cpuid(q);
            if ((gq & 3) == 3) {
                memcpy(c, q, sizeof c);
                src = (gq & 4) ? "cpuid" : "cpuid (no L3: reference L3)";
            }
        } else {
            memcpy(c, s, sizeof c);
            src = (got & 4) ? "sysfs" : "sysfs (no L3: reference L3)";
        }
    }
    memcpy(g_caches, c, sizeof c);
    g_source = src;
}

void fm_gemm_caches(long *l1d, long *l2, long *l3_per_core, const char **source)
{
    /* racing first callers compute the same values; a one-time flag publishes them */
    if (!atomic_load_explicit(&g_caches_ready, memory_order_acquire)) {
        static atomic_flag busy = ATOMIC_FLAG_INIT;
        while (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
        }
        if (!atomic_load_explicit(&g_caches_ready, memory_order_relaxed)) {
            read_caches();
            atomic_store_explicit(&g_caches_ready, 1, memory_order_release);
        }
        atomic_flag_clear_explicit(&busy, memory_order_release);
    }
    if (l1d) *l1d = g_caches[0];
    if (l2) *l2 = g_caches[1];
    if (l3_per_core) *l3_per_core = g_caches[2];
    if (source) *source = g_source;
}

/* ref * (have / ref_cache), rounded down to a multiple of `to`, within [lo, hi] */
static int scaled(int ref, double ratio, int to, int lo, int hi)
{
    double v = ref * ratio;
    if (v > hi) v = hi;
    int r = (int)(v / to) * to;
    return r < lo ? lo : r;
}

void fm_gemm_tune_blocks(int mr, int nr, int *mc, int *kc, int *nc)
{
    long l1, l2, l3;
    fm_gemm_caches(&l1, &l2, &l3, NULL);
    const int kc0 = *kc;
    *kc = scaled(kc0, (double)l1 / REF_L1, 16, 64, 1024);
    /* MC x KC in L2, KC x NC in L3: with KC changed, MC and NC change inversely */
    const double kr = (double)kc0 / *kc;
    int mc_hi = 2048 / mr * mr, nc_hi = 8192 / nr * nr;
    *mc = scaled(*mc, (double)l2 / REF_L2 * kr, mr, mr, mc_hi);
    *nc = scaled(*nc, (double)l3 / REF_L3 * kr, nr, 4 * nr, nc_hi);
}
