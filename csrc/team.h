/* team.h -- how the engine runs code on several threads (internal). Two ways:

   Rounds (fm_rounds, below; rounds.c): the training steps, predictions and large products.
   The calling thread runs the call; the work it can share is posted as rounds of items that
   its own helper threads take one at a time. Nothing joins: a helper the system has not
   scheduled yet takes nothing and holds up nothing, so a call on a busy machine runs at about
   one thread's speed instead of waiting for the slowest wake-up.

   Teams (FM_TEAM_RUN): the element-wise kernels called on their own (activations, losses, an
   optimiser's update). A team is p threads running the same code, each knowing its rank
   t = 0..p-1, in one OpenMP parallel region (p <= 1: once, on the calling thread). Every phase
   is split between them by outputs (rows, columns, parameter ranges: fm_team_range), never
   over a sum, so results are bitwise the same for every p; phases are separated by
   fm_team_barrier. */
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

/* ---- waiting: a brief spin, then sleep ------------------------------------------------------
   An fm_event is a 32-bit word that threads wait on until it changes. A waiter spins for at
   most `spin` time-stamp ticks, then sleeps in the kernel (a futex on Linux; elsewhere it
   yields) until the word changes. Whoever changes the word calls fm_event_wake, which costs a
   system call only when somebody sleeps. So a thread waiting for a descheduled team-mate
   gives its core away within microseconds, instead of spinning through the time slice that
   the late thread needs -- the collapse of a spinning team on a machine shared with other
   busy processes.
   The spin adapts, per event, between FM_SPIN_MIN_TICKS (about a microsecond) and
   FM_SPIN_MAX_TICKS (40-80 us at a 2.5-5 GHz time-stamp counter, longer than a phase of a
   step or the gap between two calls). A wait that the spin caught, or that saw the change
   just before it slept, doubles it. A wait that slept is judged by the change that ended it
   (fm_event_wake records the changer's CPU and time for sleepers):
   - the changer ran on the CPU this thread slept on: the two share a core, and spinning only
     delays the thread that is awaited -- halve;
   - the change came more than FM_SPIN_MAX_TICKS after the wait began: no spin would have
     caught it -- halve;
   - else (the changer ran elsewhere, and a longer spin would have caught it) -- double.
   Without the last rule the spin was a ratchet: a few long waits (the owner packing alone
   between two rounds) halved it to the minimum, and from there every wait slept, the short
   ones between the rounds of a loop of calls too: the helpers woke too late to take anything,
   and the owner slept through its helper's last item. Measured: 256x1024 . 1024x10 products on
   2 threads ran at one thread's speed for the rest of the process after a second of large
   products, and a 2-thread batch-1 prediction of `wide` took 72-74 us instead of 54-62. On a
   quiet machine waits are caught by the spin and cost no system call. */
#define FM_SPIN_MAX_TICKS 200000u
#define FM_SPIN_MIN_TICKS 2500u
typedef struct {
    _Alignas(64) _Atomic uint32_t v;
    _Atomic int sleepers;
    _Atomic uint32_t spin;   /* the current spin budget, in ticks (relaxed: a hint) */
    _Atomic int cpu;         /* the last changer's CPU (-1: unknown) and time-stamp (hints) */
    _Atomic uint64_t tick;
} fm_event;

static inline void fm_event_init(fm_event *e, uint32_t v) {
    atomic_init(&e->v, v);
    atomic_init(&e->sleepers, 0);
    atomic_init(&e->spin, FM_SPIN_MAX_TICKS);
    atomic_init(&e->cpu, -1);
    atomic_init(&e->tick, 0);
}

/* Sleep while *word == seen (or until woken); wake every sleeper on word. In team.c (a futex on
   Linux; elsewhere a yield and nothing). */
void fm_futex_wait(_Atomic uint32_t *word, uint32_t seen);
void fm_futex_wake_all(_Atomic uint32_t *word);
/* The CPU the calling thread runs on (-1 where the system does not say). In team.c. */
int fm_this_cpu(void);

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

static inline uint32_t fm_spin_more_(uint32_t budget) {
    return budget < FM_SPIN_MAX_TICKS / 2 ? budget * 2 : FM_SPIN_MAX_TICKS;
}
/* Return once e->v != seen (acquire: what the changer wrote before the change is visible). */
static inline void fm_event_wait(fm_event *e, uint32_t seen) {
    const uint64_t t0 = fm_ticks_();
    const uint32_t budget = atomic_load_explicit(&e->spin, memory_order_relaxed);
    for (unsigned i = 0;; ++i) {
        if (atomic_load_explicit(&e->v, memory_order_acquire) != seen) {
            if (budget < FM_SPIN_MAX_TICKS)          /* caught by the spin: spin longer */
                atomic_store_explicit(&e->spin, fm_spin_more_(budget), memory_order_relaxed);
            return;
        }
        fm_pause_();
        /* without a time-stamp counter (t0 == 0): a fixed count of pauses */
        if (t0 ? (i & 7) == 7 && fm_ticks_() - t0 > budget : i > budget / 16) break;
    }
    const int cpu = fm_this_cpu();
    /* sleepers before the re-check, the changer's store before its sleepers check (both
       sequentially consistent): either this thread sees the change or the changer sees it */
    atomic_fetch_add_explicit(&e->sleepers, 1, memory_order_seq_cst);
    int slept = 0;
    while (atomic_load_explicit(&e->v, memory_order_seq_cst) == seen) {
        fm_futex_wait(&e->v, seen);
        slept = 1;
    }
    atomic_fetch_sub_explicit(&e->sleepers, 1, memory_order_relaxed);
    /* the next wait's spin (above) */
    const int shared = cpu >= 0 && atomic_load_explicit(&e->cpu, memory_order_relaxed) == cpu;
    const uint64_t after = atomic_load_explicit(&e->tick, memory_order_relaxed) - t0;
    if (slept && (shared || !t0 || after > FM_SPIN_MAX_TICKS)) {
        if (budget > FM_SPIN_MIN_TICKS)
            atomic_store_explicit(&e->spin, budget / 2, memory_order_relaxed);
    } else if (budget < FM_SPIN_MAX_TICKS) {
        atomic_store_explicit(&e->spin, fm_spin_more_(budget), memory_order_relaxed);
    }
}

/* After changing e->v (with a sequentially consistent store or read-modify-write): wake every
   thread sleeping on it, after noting where and when (the sleepers' next spin, above; a waiter
   that sees the change without sleeping does not read them). */
static inline void fm_event_wake(fm_event *e) {
    if (atomic_load_explicit(&e->sleepers, memory_order_seq_cst) > 0) {
        atomic_store_explicit(&e->cpu, fm_this_cpu(), memory_order_relaxed);
        atomic_store_explicit(&e->tick, fm_ticks_(), memory_order_relaxed);
        fm_futex_wake_all(&e->v);
    }
}
/* ---- rounds: work any running thread may take, served by the caller's own helper threads -----
   A round is `count` items (count <= FM_TEAM_MAX) of one job: item(job, k) for k = 0 .. count-1,
   in any order, on any thread. The calling OS thread posts it on its channel (fm_rounds) and
   runs items itself -- first its own share, then every item nobody has taken -- while the
   channel's helper threads, woken by the post, take the others one at a time. The caller goes
   on once every item is done: it waits only for items a helper took and has not finished, never
   for a helper that has not started (one the system has not scheduled yet takes nothing), and
   never for helpers to join -- they serve the next round, or sleep, on their own. So a call
   on a machine whose other cores are busy runs at about one thread's speed, not at the speed
   of the slowest wake-up. Which thread runs an item never changes a bit.

   The helpers are the caller's (started at its first round that wants them, kept for its later
   calls, stopped when the calling thread exits); a thread that cannot be started is a smaller
   team (fm_thread_shortfalls). Helpers block every signal. In rounds.c. */
typedef void (*fm_item_fn)(const void *job, int k);
typedef struct fm_rounds_ fm_rounds;
/* The calling thread's channel with up to `want` helpers: *have is how many it has (fewer
   where the system cannot start more; 0 in a forked child, or without OpenMP's threads). */
fm_rounds *fm_rounds_get(int want, int *have);
/* Items 0..count-1 of job on the calling thread and up to `helpers` of ch's helpers (ch may
   be NULL, or helpers 0: all on the calling thread, in order). Returns when all are done. */
void fm_rounds_run(fm_rounds *ch, int helpers, int count, fm_item_fn item, const void *job);

/* The calling thread has helper threads and every one is awake (spinning or running an item):
   a round posted now reaches them without a wake-up. */
int fm_rounds_awake(void);

/* team.c, for rounds.c: the process has started threads of its own (p: a team's size, for
   fm_widest_team; a forked child runs single-threaded), a thread could not be started, and
   the stack size its threads get (OMP_STACKSIZE, as OpenMP's; 0: the system's default) */
void fm_threads_started(int p);
void fm_thread_shortfall(void);
size_t fm_thread_stack_size(void);

/* What a team's threads share; only bodies that synchronise need one. */
typedef struct {
    /* a counting barrier (spin briefly, then sleep: fm_event): libgomp's costs ~0.5 us
       here, and a step needs ~10 of them */
    _Alignas(64) _Atomic int arrived;
    fm_event generation;
    _Alignas(64) double slot[FM_TEAM_MAX][2 * FM_MAX_LAYERS + 2];   /* per thread: reductions */
    int flag[FM_TEAM_MAX];
    /* the rounds a team of one posts for helper threads (fm_rounds_get), and how many serve */
    fm_rounds *rounds;
    int helpers;
} fm_team_shared;

typedef struct {
    int t, p;
    fm_team_shared *sh;
    int gemm_threads;   /* p == 1: threads each GEMM may open on its own (fork/join per call) */
} fm_team;

static inline void fm_team_init(fm_team_shared *sh) {
    atomic_init(&sh->arrived, 0);
    fm_event_init(&sh->generation, 0);
    sh->rounds = NULL;
    sh->helpers = 0;
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
