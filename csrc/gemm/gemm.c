/* gemm.c - fastmlp's GEMM framework: dispatch, threading, packing buffers, the five loops.
 *
 * Map (Goto / BLIS organisation; the loops are in the body gemm_driver.inc, instantiated
 * below for float and double; each kernel set is a file gemm_ukr_<isa>.c whose table names
 * the microkernel, packing and direct product it instantiated from the bodies
 * gemm_ukr_{scalar,simd}.inc, gemm_pack.inc and gemm_direct{,_tiles}.inc):
 *
 *   fm_?gemm
 *     M or N == 0 ............. nothing to do
 *     K == 0 or alpha == 0 .... C = beta*C, epilogue once on all of C
 *     with threads ............ C is cut into about two blocks per thread (never along K),
 *                               posted as one round (team.h) that the calling thread and its
 *                               helper threads take until none is left; fm_?gemm_nblocks /
 *                               fm_?gemm_block hand the same blocks to a caller's own rounds
 *                               (a training step's)
 *     FM_GEMM_DIRECT shapes ... kt->direct on a block: direct unpacked product (blocks cut
 *                               the longer side); epilogue once on each block (with op(B)
 *                               read in place: on each chunk of rows of about 8 KB of C)
 *     otherwise ............... blocks of MR/NR-aligned ranges on a tm x tn grid; the five
 *                               loops on each block:
 *   loop 5  jc: N in steps of NC
 *   loop 4    pc: K in slices of <= KC ..... this thread packs B[pc:+KC, jc:+NC] -> Bp (L3)
 *   loop 3      ic: M in steps of MC ....... this thread packs A[ic:+MC, pc:+KC] -> Ap (L2)
 *   loop 2        jr: NC in steps of NR .... micro-panel of Bp (L1)
 *   loop 1          ir: MC in steps of MR .. microkernel: MR x NR tile of C in registers;
 *                                            first KC slice applies beta, later ones add;
 *                                            after the last slice the epilogue runs on the tile
 *                                            (fm_?epi_bias_act: inside the microkernel's
 *                                            store, on the tile still in registers).
 *
 * Determinism: every element of C is produced by the same sequence of operations whatever
 * the thread count: the K order and slicing (fm_kslice) are fixed, edge tiles run the
 * microkernel's own operations for each of their rows (on zero-padded panels; a tile of up
 * to 4 rows computes only those rows) and store a part, and the direct/packed choice
 * depends on the shape only. Threads change only which thread computes which tile.
 *
 * Threading: below fm_get_gemm_par_flops() (2*M*N*K; read once per call) the product runs
 * on the calling thread, except the band of fm_gemm_band_threads (prepacked B, K >= 256, an
 * awake helper or a stream of calls: 2 threads). Above it, at most one thread per half of
 * that many flops.
 *
 * Memory: each OS thread (caller threads and OpenMP workers alike) owns one thread-local,
 * 64-byte-aligned packing buffer (an fm_scratch, scratch.c), grown when a call needs more and
 * otherwise reused, so after warm-up no call allocates. The buffer lives until its thread exits (at most
 * (MC*KC + KC*NC) elements per thread: about 2.2 MB for float). Calls from several OS threads
 * at once are safe. If the buffer cannot be allocated, that block is computed by a plain
 * unpacked loop instead (slow, and not bitwise equal to the packed path, but never a crash).
 *
 * Blocks: each kernel table's MC, KC, NC are fitted to this CPU's caches once, at the first
 * dispatch (gemm_config.c: the configuration layer).
 *
 * Dispatch: the kernel set is chosen once by fm_isa_level() (config.c: best the CPU supports,
 * checked with __builtin_cpu_supports for every flag its file is compiled with; FASTMLP_ISA
 * may name a lower one) and kept in an atomic; fm_gemm_set_isa overrides it for tests.
 */
#include "gemm.h"
#include "gemm_internal.h"
#include "fm_internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* Products shared by the threads serving a step (fm_?gemm_nblocks: no fork/join per call)
   split from this many flops: a round costs well under a microsecond when the threads are
   running. */
#ifndef FM_GEMM_TEAM_FLOPS
#define FM_GEMM_TEAM_FLOPS 6.0e4
#endif

/* ---- thread-local packing buffer ---------------------------------------------------- */

static _Thread_local fm_scratch pack_buf;

static inline void *fm_gemm_tls_buffer(size_t bytes) { return fm_scratch_get(&pack_buf, bytes); }

/* The band below gemm_par_flops: a product of FM_GEMM_MID x gemm_par_flops flops or more
   whose op(B) is packed once (inference: constant weights, which each core keeps in its own
   cache) and whose K is at least FM_GEMM_MID_K (each output costs 2K flops; the caller reads
   the helper's share of C next) takes a second thread, but only where that costs no wake-up:
   when this thread's helpers are awake (spinning after a round), or in a stream of such
   products (the third in a row, each begun within a helper's longest spin of the last), which
   keeps them awake. A lone call, its helpers asleep, stays on its own thread.
   Measured in AVX2 mode on the 2-vCPU Xeon, predict_proba of a 784-128-10 float32 net on 2
   threads, in-process A/B: batches of 2 and 4 rows in a loop 0.88x and 0.84x the time; one
   call after 2 ms idle 1.01x and 0.99x. Left out, because they lost: a training step's
   products (its W, just updated in the caller's cache, must move to the helper: mnist at batch
   4 took 1.61x the time), and K = 64 (a digits prediction of 64 rows, 1.12x the time). */
#ifndef FM_GEMM_MID
#define FM_GEMM_MID 0.4
#endif
#ifndef FM_GEMM_MID_K
#define FM_GEMM_MID_K 256
#endif
static _Thread_local uint64_t fm_mid_last;   /* time-stamp of this thread's last band product */
static _Thread_local int fm_mid_streak;      /* how many before it followed closely (at most 2) */

static int fm_gemm_band_threads(void)
{
    const uint64_t now = fm_ticks_();
    const int streak = now && now - fm_mid_last < FM_SPIN_MAX_TICKS ? fm_mid_streak + 1 : 0;
    fm_mid_last = now;
    fm_mid_streak = streak < 2 ? streak : 2;
    return streak >= 2 || fm_rounds_awake() ? 2 : 1;
}

/* Threads to use for a product of `flops` operations (1: on the calling thread alone); K and
   whether op(B) is packed once decide the band above. */
static int fm_gemm_threads(int nthreads, double flops, int K, int packed_b)
{
    const double par_flops = fm_gemm_par_flops_relaxed();
    int nt = nthreads > 0 ? nthreads : fm_default_threads();
    if (flops < par_flops)
        return nt > 1 && packed_b && K >= FM_GEMM_MID_K && flops >= par_flops * FM_GEMM_MID
                   ? fm_gemm_band_threads()
                   : 1;
    double cap = flops / (par_flops * 0.5);
    if ((double)nt > cap) nt = (int)cap;
    return nt < 1 ? 1 : nt;
}

/* The length of K's slices (each but the last; the blocked, direct and prepacked paths all cut
   K so, which keeps an element's sum the same in each): as few slices as KC allows, of equal
   length rounded up to 8. K = 784 at KC = 384 is 264 + 264 + 256, not 384 + 384 + 16, whose
   last slice costs a pass over C for 2 % of the flops. It depends on K and the kernel set
   only, never on M or the thread count. Measured in-process against the KC-and-remainder cut
   (2-vCPU Xeon): 784-deep products 1-4 % faster in AVX2 mode on 1 thread (mnist training
   1.8 %), and 1-6 % with AVX-512 on 2; 1024-deep ones within 1 %. */
static inline int fm_kslice(int K, int KC)
{
    if (K <= KC) return KC;
    const int n = (K + KC - 1) / KC;
    const int kc = ((K + n - 1) / n + 7) & ~7;
    return kc < KC ? kc : KC;
}

/* ---- dispatch ------------------------------------------------------------------------ */

typedef struct {
    const fm_gemm_kernels_s *k_s;      /* read as F(k) by the driver */
    const fm_gemm_kernels_d *k_d;
} fm_isa;

/* indexed by level (fm_isa_level / fm_isa_supported in config.c decide): the kernel files'
   tables as they are, and copies whose cache blocks gemm_config.c fitted to this CPU's caches
   (made once, at the first dispatch; the driver only reads the copies) */
static const fm_isa fm_isas[FM_N_ISA] = {
    [FM_ISA_PORTABLE] = {.k_s = &fm_gemm_portable_s, .k_d = &fm_gemm_portable_d},
    [FM_ISA_AVX2] = {.k_s = &fm_gemm_avx2_s, .k_d = &fm_gemm_avx2_d},
    [FM_ISA_AVX512] = {.k_s = &fm_gemm_avx512_s, .k_d = &fm_gemm_avx512_d},
};
static fm_gemm_kernels_s fm_tuned_s[FM_N_ISA];
static fm_gemm_kernels_d fm_tuned_d[FM_N_ISA];
static fm_isa fm_tuned[FM_N_ISA];
static atomic_int fm_tuned_ready = 0;

static void fm_tune_all(void)
{
    static atomic_flag busy = ATOMIC_FLAG_INIT;
    while (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
    }
    if (!atomic_load_explicit(&fm_tuned_ready, memory_order_relaxed)) {
        for (int i = 0; i < FM_N_ISA; ++i) {
            fm_tuned_s[i] = *fm_isas[i].k_s;
            fm_tuned_d[i] = *fm_isas[i].k_d;
            fm_gemm_tune_blocks(fm_tuned_s[i].mr, fm_tuned_s[i].nr, &fm_tuned_s[i].mc,
                                &fm_tuned_s[i].kc, &fm_tuned_s[i].nc);
            fm_gemm_tune_blocks(fm_tuned_d[i].mr, fm_tuned_d[i].nr, &fm_tuned_d[i].mc,
                                &fm_tuned_d[i].kc, &fm_tuned_d[i].nc);
            fm_tuned[i].k_s = &fm_tuned_s[i];
            fm_tuned[i].k_d = &fm_tuned_d[i];
        }
        atomic_store_explicit(&fm_tuned_ready, 1, memory_order_release);
    }
    atomic_flag_clear_explicit(&busy, memory_order_release);
}

static const fm_isa *fm_isa_at(int level)
{
    if (!atomic_load_explicit(&fm_tuned_ready, memory_order_acquire)) fm_tune_all();
    return &fm_tuned[level];
}

static _Atomic(const fm_isa *) fm_isa_cur;

static const fm_isa *fm_isa_get(void)
{
    const fm_isa *p = atomic_load_explicit(&fm_isa_cur, memory_order_acquire);
    if (!p) {
        p = fm_isa_at(fm_isa_level());
        atomic_store_explicit(&fm_isa_cur, p, memory_order_release);
    }
    return p;
}

void fm_gemm_blocks(int dsize, int *mr, int *nr, int *mc, int *kc, int *nc)
{
    const fm_isa *p = fm_isa_get();
    if (dsize == 4) {
        *mr = p->k_s->mr; *nr = p->k_s->nr; *mc = p->k_s->mc; *kc = p->k_s->kc; *nc = p->k_s->nc;
    } else {
        *mr = p->k_d->mr; *nr = p->k_d->nr; *mc = p->k_d->mc; *kc = p->k_d->kc; *nc = p->k_d->nc;
    }
}

const char *fm_gemm_isa(void) { return fm_isa_get()->k_s->name; }

int fm_gemm_set_isa(const char *name)
{
    int level = fm_isa_from_name(name);
    if (level < 0 || !fm_isa_supported(level)) return -1;
    atomic_store_explicit(&fm_isa_cur, fm_isa_at(level), memory_order_release);
    return 0;
}

/* ---- the driver and the entry points, once per dtype --------------------------------- */

#define FM_BODY "gemm/gemm_driver.inc"
#include "fm_dtypes.h"
