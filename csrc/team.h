/* team.h -- the engine's one way to run code on several threads: a team (internal).

   A team is p threads running the same code, each knowing its rank t = 0..p-1. Every phase is
   split between them by outputs (rows, columns, tiles, parameter ranges: fm_team_range), never
   over a sum, so results are bitwise the same for every p. FM_TEAM_RUN opens every parallel
   region of the engine: for p <= 1 it runs its body once on the calling thread (t = 0,
   p = 1: the serial engine, the same code, barriers are no-ops), otherwise once on each thread
   of one OpenMP parallel region. A body of several phases (a training step, a whole run)
   separates them by fm_team_barrier, so one region serves a whole run instead of a fork/join
   per kernel; decisions (is the loss finite? may the step be fused?) are taken from shared
   slots after a barrier, so every thread takes the same branch. */
#ifndef FM_TEAM_H
#define FM_TEAM_H
#include "fastmlp.h"
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#define FM_TEAM_REGION_ _Pragma("omp parallel num_threads(fm_team_admit(fm_team_p_))")
#else
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
#define FM_TEAM_REGION_
#endif

/* The default thread count for nthreads <= 0: fm_set_max_threads's value (process-wide),
   further limited by OpenMP's own setting in the calling thread (OMP_NUM_THREADS,
   omp_set_num_threads -- which is what threadpoolctl adjusts). In config.c. */
int fm_default_threads(void);

/* 1 in a forked child of a process that had opened a parallel region: OpenMP's pool did not
   survive the fork, so the child runs every team on its calling thread. In team.c. */
extern _Atomic int fm_single_threaded_child;

/* Threads to use for this call: nthreads <= 0 means the default above; at most
   FM_MAX_THREADS; 1 in a forked child (fm_single_threaded_child). */
static inline int fm_nthreads(int nthreads) {
#ifdef _OPENMP
    if (atomic_load_explicit(&fm_single_threaded_child, memory_order_relaxed)) return 1;
    if (nthreads <= 0) nthreads = fm_default_threads();
    if (nthreads > FM_MAX_THREADS) nthreads = FM_MAX_THREADS;
    return nthreads < 1 ? 1 : nthreads;
#else
    (void)nthreads;
    return 1;
#endif
}

#define FM_TEAM_MAX 64
/* fm_team_rate_helpers, below */
#define FM_LATE_TICKS 50000u
#define FM_SOLO_ROUNDS_MIN 16
#define FM_SOLO_ROUNDS_MAX 4096

/* ---- waiting: a brief spin, then sleep ------------------------------------------------------
   An fm_event is a 32-bit word that threads wait on until it changes. A waiter spins for at
   most `spin` time-stamp ticks, then sleeps in the kernel (a futex on Linux; elsewhere it
   yields) until the word changes. Whoever changes the word calls fm_event_wake, which costs a
   system call only when somebody sleeps. So a thread waiting for a descheduled team-mate
   gives its core away within microseconds, instead of spinning through the time slice that
   the late thread needs -- the collapse of a spinning team on a machine shared with other
   busy processes.
   The spin adapts, per event, as an adaptive mutex's does: a wait that had to sleep halves it
   (down to FM_SPIN_MIN_TICKS: about a microsecond), a wait that the spin caught doubles it (up
   to FM_SPIN_MAX_TICKS: about 15 us, one phase of a step). On a quiet machine waits are
   caught by the spin and cost no system call; where the team's threads share a core, spinning
   only delays the thread that is awaited, and the spin shrinks to almost nothing. */
#define FM_SPIN_MAX_TICKS 200000u
#define FM_SPIN_MIN_TICKS 2500u
typedef struct {
    _Alignas(64) _Atomic uint32_t v;
    _Atomic int sleepers;
    _Atomic uint32_t spin;   /* the current spin budget, in ticks (relaxed: a hint) */
} fm_event;

static inline void fm_event_init(fm_event *e, uint32_t v) {
    atomic_init(&e->v, v);
    atomic_init(&e->sleepers, 0);
    atomic_init(&e->spin, FM_SPIN_MAX_TICKS);
}

/* Sleep while *word == seen (or until woken); wake every sleeper on word. In team.c (a futex on
   Linux; elsewhere a yield and nothing). */
void fm_futex_wait(_Atomic uint32_t *word, uint32_t seen);
void fm_futex_wake_all(_Atomic uint32_t *word);

static inline uint64_t fm_ticks_(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return 0;
#endif
}

static inline void fm_pause_(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Return once e->v != seen (acquire: what the changer wrote before the change is visible). */
static inline void fm_event_wait(fm_event *e, uint32_t seen) {
    const uint64_t t0 = fm_ticks_();
    const uint32_t budget = atomic_load_explicit(&e->spin, memory_order_relaxed);
    for (unsigned i = 0;; ++i) {
        if (atomic_load_explicit(&e->v, memory_order_acquire) != seen) {
            if (budget < FM_SPIN_MAX_TICKS)          /* caught by the spin: spin longer */
                atomic_store_explicit(&e->spin, budget * 2, memory_order_relaxed);
            return;
        }
        fm_pause_();
        /* without a time-stamp counter (t0 == 0): a fixed count of pauses */
        if (t0 ? (i & 7) == 7 && fm_ticks_() - t0 > budget : i > budget / 16) break;
    }
    if (budget > FM_SPIN_MIN_TICKS)                  /* the spin was wasted: spin less */
        atomic_store_explicit(&e->spin, budget / 2, memory_order_relaxed);
    /* sleepers before the re-check, the changer's store before its sleepers check (both
       sequentially consistent): either this thread sees the change or the changer sees it */
    atomic_fetch_add_explicit(&e->sleepers, 1, memory_order_seq_cst);
    while (atomic_load_explicit(&e->v, memory_order_seq_cst) == seen) fm_futex_wait(&e->v, seen);
    atomic_fetch_sub_explicit(&e->sleepers, 1, memory_order_relaxed);
}

/* After changing e->v (with a sequentially consistent store or read-modify-write): wake every
   thread sleeping on it. */
static inline void fm_event_wake(fm_event *e) {
    if (atomic_load_explicit(&e->sleepers, memory_order_seq_cst) > 0) fm_futex_wake_all(&e->v);
}
#define FM_DP_END (~(uint64_t)0 >> 16)   /* the last round of a data-parallel call */
/* What a team's threads share; only bodies that synchronise need one. */
typedef struct {
    /* a counting barrier (spin briefly, then sleep: fm_event): libgomp's costs ~0.5 us
       here, and a step needs ~10 of them */
    _Alignas(64) _Atomic int arrived;
    fm_event generation;
    _Alignas(64) double loss;         /* the batch loss, summed by thread 0 in row order */
    double slot[FM_TEAM_MAX][2 * FM_MAX_LAYERS + 2];   /* per-thread values, for reductions */
    int flag[FM_TEAM_MAX];
    int stop;
    int fused_max_batch;   /* fm_get_fused_sgd_max_batch(), read once by a training entry point */
    /* the data-parallel step (network.c), read once by a training entry point: */
    int dp_chunks;                    /* fm_get_dp_chunks() (0: never) */
    double dp_min_flops, dp_max_flops;
    void *dp_buf;                     /* dp_chunks gradient vectors, dp_stride elements apart */
    ptrdiff_t dp_stride;
    int dp_helpers;                   /* threads serving chunks (fm_dp_serve) besides thread 0 */
    /* a round of a data-parallel step, published by thread 0: round << 16 | its item count
       (round: 1, 2, ... never reused; FM_DP_END ends the call) */
    _Alignas(64) _Atomic uint64_t dp_claim;
    fm_event dp_posted;                /* bumped after every store to dp_claim: helpers sleep on it */
    fm_event dp_done;                  /* v: items of the current round finished */
    const void *dp_job;                /* the current round's description (network.inc) */
    /* item k is taken in round r when dp_taken[k].r = r (one line each: no false sharing) */
    struct { _Alignas(64) _Atomic uint64_t r; } dp_taken[FM_TEAM_MAX];
    /* rounds thread 0 runs without its helpers (they were late: fm_team_rate_helpers) */
    int solo_left, solo_backoff;
    /* fused SGD steps: a bound on max |W^l| carried from step to step (valid: set at all;
       exact: measured since the last step) -- see step_fused_team in nn/network.inc */
    int wmax_valid, wmax_exact;
    double wmax[FM_MAX_LAYERS + 1];
} fm_team_shared;

typedef struct {
    int t, p;
    fm_team_shared *sh;
    int gemm_threads;   /* p == 1: threads each GEMM may open on its own (fork/join per call) */
} fm_team;

static inline void fm_team_init(fm_team_shared *sh) {
    atomic_init(&sh->arrived, 0);
    fm_event_init(&sh->generation, 0);
    sh->dp_chunks = 0;
    sh->dp_buf = NULL;
    sh->dp_helpers = 0;
    atomic_init(&sh->dp_claim, 0);
    fm_event_init(&sh->dp_posted, 0);
    fm_event_init(&sh->dp_done, 0);
    sh->dp_job = NULL;
    /* dp_taken[]: zeroed where a call first gets helpers (SERVED_RUN in network.inc) */
    sh->solo_left = 0;
    sh->solo_backoff = FM_SOLO_ROUNDS_MIN;
    sh->wmax_valid = sh->wmax_exact = 0;
}

/* The threads a team of p > 1 may have (FM_TEAM_RUN asks before opening one): p, or fewer
   where the system cannot start p threads (fm_probe_threads, run when this OS thread asks
   for more threads than ever before), 1 in a forked child (fm_single_threaded_child). Also
   records that the process has used OpenMP. In team.c. */
int fm_team_admit(int p);

/* Run the statements given as the last argument(s) on a team of P threads that share SH (may
   be NULL for a body without barriers); inside them, `tm` (the 4th argument: a name) is this
   thread's const fm_team *.
     P <= 1  once, on the calling thread: tm->t = 0, tm->p = 1, tm->gemm_threads = GEMM_THREADS
             (what a GEMM of the body may open on its own)
     P > 1   in one OpenMP parallel region of P threads (tm->p: the number OpenMP gave, at
             most P, fewer where fm_team_admit says so; it must not exceed FM_TEAM_MAX when SH
             is used), tm->gemm_threads = 1.
   The statements are compiled twice (once per case) and must not return or jump out; a
   result is written to a variable of the caller, by thread 0 where every thread has one. */
#define FM_TEAM_RUN(P, SH, GEMM_THREADS, tm, ...)                                              \
    do {                                                                                       \
        const int fm_team_p_ = (P);                                                            \
        if (fm_team_p_ <= 1) {                                                                 \
            const fm_team fm_team_1_ = {.t = 0, .p = 1, .sh = (SH),                            \
                                        .gemm_threads = (GEMM_THREADS)};                       \
            const fm_team *const tm = &fm_team_1_;                                             \
            __VA_ARGS__                                                                        \
        } else {                                                                               \
            FM_TEAM_REGION_                                                                    \
            {                                                                                  \
                const fm_team fm_team_t_ = {.t = omp_get_thread_num(),                         \
                                            .p = omp_get_num_threads(), .sh = (SH),            \
                                            .gemm_threads = 1};                                \
                const fm_team *const tm = &fm_team_t_;                                         \
                __VA_ARGS__                                                                    \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* Every write made by any team thread before the barrier is visible to all after it. Waiters
   spin briefly, then sleep (fm_event_wait), so a team on a machine shared with other busy
   processes never burns the core its late member needs. */
static inline void fm_team_barrier(const fm_team *tm) {
    if (tm->p <= 1) return;
    fm_team_shared *sh = tm->sh;
    uint32_t gen = atomic_load_explicit(&sh->generation.v, memory_order_acquire);
    if (atomic_fetch_add_explicit(&sh->arrived, 1, memory_order_acq_rel) == tm->p - 1) {
        atomic_store_explicit(&sh->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&sh->generation.v, 1, memory_order_seq_cst);
        fm_event_wake(&sh->generation);
        return;
    }
    fm_event_wait(&sh->generation, gen);
}

/* Helpers that are not running: after a round, thread 0 compares the time it waited for the
   helpers' items (after finishing all it could take) with the time it worked. Waiting longer
   than it worked, plus FM_LATE_TICKS of slack for a wake-up, means a helper was descheduled
   in the middle of an item (the machine is shared with busy processes): thread 0 then runs the
   next solo_backoff rounds alone -- at one thread's speed, instead of waiting a scheduler
   time slice for a late item -- and doubles the backoff (up to FM_SOLO_ROUNDS_MAX) while the
   helpers stay late; a round on time resets it. Which thread computes an item never changes
   a bit, so neither does this. */
static inline void fm_team_rate_helpers(fm_team_shared *sh, uint64_t worked, uint64_t waited) {
    if (waited > worked + FM_LATE_TICKS) {
        sh->solo_left = sh->solo_backoff;
        if (sh->solo_backoff < FM_SOLO_ROUNDS_MAX) sh->solo_backoff *= 2;
    } else {
        sh->solo_backoff = FM_SOLO_ROUNDS_MIN;
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
   nthreads (at most FM_TEAM_MAX). In team.c. */
int fm_team_size(int nthreads, double flops);
#endif
