/* team.c -- the size of a team (team.h), and what keeps teams safe in a process: a probe
   before a thread asks for more threads than ever before, and the fork handler. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1   /* syscall(), sched_getcpu() */
#endif
#include "team.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* ---- sleeping on a word (fm_event in team.h) ---------------------------------------------- */
void fm_futex_wait(_Atomic uint32_t *word, uint32_t seen) {
#if defined(__linux__)
    /* returns at once if *word != seen (checked atomically by the kernel), on a wake-up, or
       spuriously: the caller re-checks */
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
    (void)word;
    (void)seen;
    sched_yield();
#endif
}

int fm_this_cpu(void) {
#if defined(__linux__)
    return sched_getcpu();   /* glibc: a load from the thread's rseq area, or the vDSO */
#else
    return -1;
#endif
}

void fm_futex_wake_all(_Atomic uint32_t *word) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
#endif
}

/* Measured on the 2-vCPU Zen 4 (train_epochs, 2 threads; a team with its spin barrier vs one
   thread per step whose large GEMMs fork/join on their own), samples/s:
     mnist  (39 Mflop/step)  368k vs 230k     wide   (2.9 Gflop/step) 19.1k vs 16.8k
     digits (0.9 Mflop/step) 1.51M vs 1.52M   regression (0.9 Mflop)  1.06M vs 1.10M
     online (0.6 Mflop/step) 54k vs 73k       xor: no difference
   so steps of >= 4 Mflop run on a team. */
int fm_team_size(int nthreads, double flops) {
    const double min_flops = fm_get_team_min_flops();
    int nt = fm_nthreads(nthreads);
    if (nt > FM_TEAM_MAX) nt = FM_TEAM_MAX;
    if (flops < min_flops) return 1;
    if (min_flops <= 0) return nt;
    double cap = flops / (min_flops * 0.5);   /* at least half the threshold each */
    return (double)nt < cap ? nt : (cap < 1 ? 1 : (int)cap);
}

/* ---- fork: OpenMP's thread pool does not survive it ----------------------------------------
   libgomp keeps its worker threads' state across fork, but not the threads: a child that opens
   a parallel region after the parent has had one waits forever for workers that do not exist
   (in libgomp's barrier, or in the team barrier of team.h). So the child of a parent that has
   opened a region runs every team on its calling thread; since no result depends on the
   number of threads, it computes bitwise what the parent computes. */
_Atomic int fm_single_threaded_child = 0;
static _Atomic int fm_openmp_used = 0;
static _Atomic long fm_shortfalls = 0;
static _Atomic int fm_widest = 1;

static void fm_after_fork_in_child(void) {
    if (atomic_load_explicit(&fm_openmp_used, memory_order_relaxed))
        atomic_store_explicit(&fm_single_threaded_child, 1, memory_order_relaxed);
}

__attribute__((constructor)) static void fm_register_fork_handler(void) {
    pthread_atfork(NULL, NULL, fm_after_fork_in_child);
}

int fm_fork_child_single_threaded(void) {
    return atomic_load_explicit(&fm_single_threaded_child, memory_order_relaxed);
}

long fm_thread_shortfalls(void) {
    return atomic_load_explicit(&fm_shortfalls, memory_order_relaxed);
}

int fm_widest_team(int reset) {
    return reset ? atomic_exchange_explicit(&fm_widest, 1, memory_order_relaxed)
                 : atomic_load_explicit(&fm_widest, memory_order_relaxed);
}

static void fm_note_widest(int p) {
    int w = atomic_load_explicit(&fm_widest, memory_order_relaxed);
    while (p > w && !atomic_compare_exchange_weak_explicit(&fm_widest, &w, p, memory_order_relaxed,
                                                           memory_order_relaxed)) {
    }
}

void fm_threads_started(int p) {
    if (!atomic_load_explicit(&fm_openmp_used, memory_order_relaxed))
        atomic_store_explicit(&fm_openmp_used, 1, memory_order_relaxed);
    fm_note_widest(p);
}

void fm_thread_shortfall(void) { atomic_fetch_add_explicit(&fm_shortfalls, 1, memory_order_relaxed); }

/* ---- starting threads: a failure is a smaller team, never the end of the process -----------
   libgomp ends the process when it cannot create a thread (e.g. under a memory or process
   limit). Before an OS thread first opens a team larger than any it opened so far, the
   engine starts that many threads of its own, with the stack size OpenMP's would get, and
   joins them: if the system refuses, the team is as large as it allows instead. */
static void *fm_probe_thread(void *arg) { return arg; }

/* OMP_STACKSIZE / GOMP_STACKSIZE as libgomp reads them: a number and an optional B/K/M/G
   suffix, kilobytes by default; 0 when unset or unreadable (the system's default) */
static size_t fm_omp_stacksize(void) {
    const char *env = getenv("OMP_STACKSIZE");
    if (!env || !*env) env = getenv("GOMP_STACKSIZE");
    if (!env || !*env) return 0;
    char *end;
    unsigned long long v = strtoull(env, &end, 10);
    while (*end == ' ') ++end;
    unsigned long long unit = 1024;
    switch (*end) {
    case 'b': case 'B': unit = 1; break;
    case 'k': case 'K': case '\0': unit = 1024; break;
    case 'm': case 'M': unit = 1024ull * 1024; break;
    case 'g': case 'G': unit = 1024ull * 1024 * 1024; break;
    default: return 0;
    }
    return (size_t)(v * unit);
}

size_t fm_thread_stack_size(void) { return fm_omp_stacksize(); }

int fm_probe_threads(int n, int *err) {
    if (err) *err = 0;
    if (n > FM_MAX_THREADS) n = FM_MAX_THREADS;
    if (n <= 1) return n < 1 ? 1 : n;
    pthread_t *ids = malloc(sizeof *ids * (size_t)(n - 1));
    if (!ids) {
        if (err) *err = ENOMEM;
        return 1;
    }
    pthread_attr_t attr;
    int have_attr = pthread_attr_init(&attr) == 0;
    size_t stack = fm_omp_stacksize();
    if (have_attr && stack) pthread_attr_setstacksize(&attr, stack);
    int started = 0;
    for (; started < n - 1; ++started) {
        int rc = pthread_create(&ids[started], have_attr ? &attr : NULL, fm_probe_thread, NULL);
        if (rc != 0) {
            if (err) *err = rc;
            break;
        }
    }
    for (int i = 0; i < started; ++i) pthread_join(ids[i], NULL);
    if (have_attr) pthread_attr_destroy(&attr);
    free(ids);
    return started + 1;
}

/* Admissions that widen a thread's pool take turns: a probe alone proves nothing while
   another thread's probe has passed and its team's threads are not started yet (six threads
   probing for 48 each under a limit that fits one team all pass, then libgomp cannot start
   the threads and ends the process). So, holding this mutex, a widening admission probes and
   then starts its pool with a region of the admitted width; the threads libgomp keeps are
   in use when the next one probes. */
static pthread_mutex_t fm_admit_mutex = PTHREAD_MUTEX_INITIALIZER;

int fm_team_admit(int p) {
    /* the most threads this OS thread has had in one team so far (OpenMP keeps them) */
    static _Thread_local int granted = 1;
    if (atomic_load_explicit(&fm_single_threaded_child, memory_order_relaxed)) return 1;
    if (!atomic_load_explicit(&fm_openmp_used, memory_order_relaxed))
        atomic_store_explicit(&fm_openmp_used, 1, memory_order_relaxed);
    if (p > FM_MAX_THREADS) p = FM_MAX_THREADS;
    if (p > granted) {
        pthread_mutex_lock(&fm_admit_mutex);
        int can = fm_probe_threads(p, NULL);
        if (can < p) {
            atomic_fetch_add_explicit(&fm_shortfalls, 1, memory_order_relaxed);
            p = can;
        }
        if (p > granted) {
#ifdef _OPENMP
            if (!omp_in_parallel()) {
                /* starts this thread's pool of p - 1 threads, kept for its later teams (a
                   body that does something: an empty region may be compiled away) */
                volatile int started = 0;
#pragma omp parallel num_threads(p)
                {
#pragma omp atomic
                    started += 1;
                }
                (void)started;
            }
#endif
            granted = p;
        }
        pthread_mutex_unlock(&fm_admit_mutex);
    }
    fm_note_widest(p);
    return p;
}
