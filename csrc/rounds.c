/* rounds.c -- the rounds of team.h: the helper threads of a calling thread, and the channel on
   which it posts rounds of items for them.

   Protocol. The owner posts round r (1, 2, ... never reused) as the word r << 16 | count,
   after the job it describes; item k is taken in round r by whoever moves taken[k] to r first
   (taken only grows, so a helper that read an old word takes nothing of a later round). The
   owner returns once `done` counts every item: it never waits for a helper that took nothing.
   The job lives in the owner's frame; a helper reads it only while it holds an item of the
   round, which the owner cannot finish before that item is done. */
#define _GNU_SOURCE 1
#include "team.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* When helpers cost more than they give, the owner runs its rounds alone for a while (a solo
   period, measured in time: a round lasts 10 us to milliseconds). Two signs:
   - late: the owner waited longer than it worked (plus a wake-up's slack, FM_LATE_TICKS) for
     its helpers' items: a helper was descheduled in the middle of one. Beside a busy process
     on 2 cores such a wait is a scheduler slice (1-4 ms), on a quiet machine ~0.1-0.3 ms. The
     period is 4x the wait, so late rounds cost at most a fifth of the time.
   - absent: in at least an eighth of a window of FM_WINDOW posted rounds the owner did every
     item itself: its helpers were not running, although awake when the round was posted or
     woken at least FM_WAKE_TICKS before the owner finished (measured: 0.5 % of the rounds of
     a quiet 2-core machine, 20-40 % beside one busy process). A round shorter than a
     wake-up whose helper was asleep is not counted: a quiet machine misses those too (the
     last, small product of a prediction). Helpers awake that
     seldom share their cores, and what they take comes out of the owner's time: measured
     beside one busy process, posted rounds ran at ~0.8x one thread's speed. The period is
     solo_ns: FM_SOLO_MIN_NS, doubled at every such window up to FM_SOLO_MAX_NS (a machine
     that becomes quiet gets its threads back within 0.1 s), back to the minimum after a
     clean window (at most one absent round).
   During a period the helpers sleep and the owner has its core to itself: one thread's
   speed, which is what a second thread can give, at best, beside a busy process on 2 cores.
   Measured (mnist, 2-core Zen 4, one busy process): 2 threads at 0.91-0.95x one thread, where
   a rule that only counted late rounds gave 0.81-0.86x; quiet, 1.55-1.67x as before. */
#define FM_LATE_TICKS 50000u
#define FM_WAKE_TICKS 260000u   /* ~100 us: a futex wake-up on a quiet VM, with slack */
#define FM_WINDOW 32
#define FM_SOLO_MIN_NS 8000000ll
#define FM_SOLO_MAX_NS 100000000ll
#define FM_TICKS_PER_NS 3u   /* time-stamp counters tick at 1-5 GHz: a rough conversion */

struct fm_rounds_ {
    _Alignas(64) _Atomic uint64_t claim;  /* the current round: round << 16 | count */
    fm_event posted;                      /* bumped after every post: idle helpers sleep on it */
    fm_event done;                        /* items of the current round finished */
    fm_item_fn item;                      /* the current round's job (set before its post) */
    const void *job;
    _Atomic int p;                        /* threads of the current round: owner + helpers */
    _Atomic int quit;                     /* the owner has exited: helpers end */
    struct { _Alignas(64) _Atomic uint64_t r; } taken[FM_TEAM_MAX];
    /* the CPU each helper last went to wait on (a hint: -1 unknown); one whose every helper
       waits on the owner's own CPU has none that can run while it does */
    _Atomic int hcpu[FM_TEAM_MAX];
    /* the owner's alone: rounds alone until solo_until (ns, CLOCK_MONOTONIC); the next period's
       length; the current window's posted rounds and those the owner did alone */
    long long solo_until, solo_ns;
    int win_rounds, win_absent;
    int n, cap;                           /* helpers started; most the system allowed */
    pthread_t th[FM_TEAM_MAX];
};

typedef struct {
    fm_rounds *ch;
    int t;
} fm_helper_arg;

static inline int fm_take(fm_rounds *ch, int k, uint64_t r) {
    uint64_t old = atomic_load_explicit(&ch->taken[k].r, memory_order_relaxed);
    while (old < r)
        if (atomic_compare_exchange_weak_explicit(&ch->taken[k].r, &old, r,
                                                  memory_order_acq_rel, memory_order_relaxed))
            return 1;
    return 0;
}

/* Items of the round `word` as thread t of p: first t's own share (the same one every round,
   so a chunk's rows or a block's parameters stay in one core's cache), then whatever the others
   have not taken. Returns how many it ran. */
static int fm_claim_run(fm_rounds *ch, uint64_t word, int t, int p) {
    int did = 0;
    const uint64_t r = word >> 16;
    const int count = (int)(word & 0xffff), k0 = count * t / p, k1 = count * (t + 1) / p;
    for (int pass = 0; pass < 2; ++pass)
        for (int k = pass ? 0 : k0; k < (pass ? count : k1); ++k) {
            if (!fm_take(ch, k, r)) continue;
            ++did;
            ch->item(ch->job, k);   /* the round's job: it stays put until every item is done */
            if (atomic_fetch_add_explicit(&ch->done.v, 1, memory_order_seq_cst) + 1 ==
                (uint32_t)count)
                fm_event_wake(&ch->done);      /* the round's last item: the owner may sleep */
        }
    return did;
}

static void *fm_helper_main(void *arg_) {
    const fm_helper_arg a = *(fm_helper_arg *)arg_;
    free(arg_);
    fm_rounds *ch = a.ch;
    uint64_t seen = atomic_load_explicit(&ch->claim, memory_order_acquire) >> 16;
    for (;;) {
        uint64_t word;
        for (;;) {
            /* the event before the word: a round posted after this read changes the event */
            const uint32_t ev = atomic_load_explicit(&ch->posted.v, memory_order_acquire);
            if (atomic_load_explicit(&ch->quit, memory_order_acquire)) return NULL;
            word = atomic_load_explicit(&ch->claim, memory_order_acquire);
            if (word >> 16 != seen) break;
            atomic_store_explicit(&ch->hcpu[a.t], fm_this_cpu(), memory_order_relaxed);
            fm_event_wait(&ch->posted, ev);
        }
        seen = word >> 16;
        const int p = atomic_load_explicit(&ch->p, memory_order_relaxed);
        if (a.t < p) fm_claim_run(ch, word, a.t, p);   /* else: not asked this round */
    }
}

/* ---- the calling thread's channel: made at its first round with helpers, ended with it ---- */
static pthread_key_t fm_rounds_key;
static pthread_once_t fm_rounds_once = PTHREAD_ONCE_INIT;
static _Thread_local fm_rounds *fm_my_rounds;

static void fm_rounds_end(void *ch_) {
    fm_rounds *ch = ch_;
    atomic_store_explicit(&ch->quit, 1, memory_order_release);
    atomic_fetch_add_explicit(&ch->posted.v, 1, memory_order_seq_cst);
    fm_futex_wake_all(&ch->posted.v);
    for (int i = 0; i < ch->n; ++i) pthread_join(ch->th[i], NULL);
    free(ch);
}

static void fm_rounds_key_init(void) { pthread_key_create(&fm_rounds_key, fm_rounds_end); }

/* a forked child has none of the helpers: the forking thread forgets its channel (left
   unfreed: its helpers are not there to join), and the child runs single-threaded anyway
   (fm_single_threaded_child) */
static void fm_rounds_after_fork_in_child(void) {
    if (fm_my_rounds) {
        fm_my_rounds = NULL;
        pthread_setspecific(fm_rounds_key, NULL);
    }
}

__attribute__((constructor)) static void fm_rounds_register_fork_handler(void) {
    pthread_atfork(NULL, NULL, fm_rounds_after_fork_in_child);
}

static fm_rounds *fm_rounds_new(void) {
    fm_rounds *ch = aligned_alloc(64, (sizeof(fm_rounds) + 63) / 64 * 64);
    if (!ch) return NULL;
    memset(ch, 0, sizeof *ch);
    atomic_init(&ch->claim, 0);
    fm_event_init(&ch->posted, 0);
    fm_event_init(&ch->done, 0);
    atomic_init(&ch->p, 1);
    atomic_init(&ch->quit, 0);
    for (int k = 0; k < FM_TEAM_MAX; ++k) {
        atomic_init(&ch->taken[k].r, 0);
        atomic_init(&ch->hcpu[k], -1);
    }
    ch->solo_ns = FM_SOLO_MIN_NS;
    ch->cap = FM_TEAM_MAX - 1;
    pthread_once(&fm_rounds_once, fm_rounds_key_init);
    if (pthread_setspecific(fm_rounds_key, ch) != 0) {
        free(ch);
        return NULL;
    }
    return ch;
}

/* start helpers up to `want` (signals blocked in them: a signal goes to the process's own
   threads); a thread the system refuses caps the channel for good, counted as a shortfall */
static void fm_rounds_grow(fm_rounds *ch, int want) {
    if (want > ch->cap) want = ch->cap;
    if (ch->n >= want) return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    const int have_attr = pthread_attr_init(&attr) == 0;
    const size_t stack = fm_thread_stack_size();
    if (have_attr && stack) pthread_attr_setstacksize(&attr, stack);
    while (ch->n < want) {
        fm_helper_arg *a = malloc(sizeof *a);
        int rc = a ? 0 : 1;
        if (a) {
            a->ch = ch;
            a->t = ch->n + 1;
            rc = pthread_create(&ch->th[ch->n], have_attr ? &attr : NULL, fm_helper_main, a);
            if (rc != 0) free(a);
        }
        if (rc != 0) {
            ch->cap = ch->n;
            fm_thread_shortfall();
            break;
        }
        ch->n += 1;
    }
    if (have_attr) pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

fm_rounds *fm_rounds_get(int want, int *have) {
    *have = 0;
    if (want <= 0 || atomic_load_explicit(&fm_single_threaded_child, memory_order_relaxed))
        return NULL;
    if (want > FM_TEAM_MAX - 1) want = FM_TEAM_MAX - 1;
    fm_rounds *ch = fm_my_rounds;
    if (!ch) {
        ch = fm_rounds_new();
        if (!ch) return NULL;
        fm_my_rounds = ch;
    }
    fm_rounds_grow(ch, want);
    *have = ch->n < want ? ch->n : want;
    if (*have) fm_threads_started(*have + 1);
    return ch;
}

/* the calling thread has helpers and none of them sleeps: a round posted now needs no wake-up */
int fm_rounds_awake(void) {
    fm_rounds *ch = fm_my_rounds;
    return ch && ch->n > 0 && atomic_load_explicit(&ch->posted.sleepers, memory_order_relaxed) == 0;
}

/* process-wide counts (relaxed: statistics): rounds posted to helpers, rounds run alone while
   helpers were there (a solo period), solo periods started */
static _Atomic long fm_posted_rounds, fm_solo_rounds, fm_solo_periods;

void fm_rounds_counts(long out[3]) {
    out[0] = atomic_load_explicit(&fm_posted_rounds, memory_order_relaxed);
    out[1] = atomic_load_explicit(&fm_solo_rounds, memory_order_relaxed);
    out[2] = atomic_load_explicit(&fm_solo_periods, memory_order_relaxed);
}

static long long fm_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* a sign that the helpers cost more than they give (above): a solo period, each longer than
   the last while the signs persist */
static void fm_rounds_go_solo(fm_rounds *ch, long long ns) {
    ch->solo_until = fm_now_ns() + (ns < FM_SOLO_MAX_NS ? ns : FM_SOLO_MAX_NS);
    atomic_fetch_add_explicit(&fm_solo_periods, 1, memory_order_relaxed);
    ch->win_rounds = ch->win_absent = 0;
}

/* Every one of the first `helpers` helpers waits on this thread's own CPU (the process pinned
   to one core, or the scheduler put them here): none can run while this thread does, so
   their missing a round says what an awake helper's missing it says, however short the
   round. Asked only of a round its helpers slept through. */
static int fm_helpers_wait_here(fm_rounds *ch, int helpers) {
    const int here = fm_this_cpu();
    if (here < 0) return 0;
    for (int t = 1; t <= helpers; ++t)
        if (atomic_load_explicit(&ch->hcpu[t], memory_order_relaxed) != here) return 0;
    return 1;
}

void fm_rounds_run(fm_rounds *ch, int helpers, int count, fm_item_fn item, const void *job) {
    if (ch && helpers > ch->n) helpers = ch->n;
    if (!ch || helpers <= 0 || count <= 1 || (ch->solo_until && fm_now_ns() < ch->solo_until)) {
        if (ch && helpers > 0 && count > 1)
            atomic_fetch_add_explicit(&fm_solo_rounds, 1, memory_order_relaxed);
        for (int k = 0; k < count; ++k) item(job, k);
        return;
    }
    ch->solo_until = 0;
    atomic_fetch_add_explicit(&fm_posted_rounds, 1, memory_order_relaxed);
    const uint64_t t0 = fm_ticks_();
    const uint64_t word =
        ((atomic_load_explicit(&ch->claim, memory_order_relaxed) >> 16) + 1) << 16 |
        (uint64_t)count;
    ch->item = item;
    ch->job = job;
    atomic_store_explicit(&ch->p, helpers + 1, memory_order_relaxed);
    atomic_store_explicit(&ch->done.v, 0, memory_order_relaxed);
    atomic_store_explicit(&ch->claim, word, memory_order_release);
    atomic_fetch_add_explicit(&ch->posted.v, 1, memory_order_seq_cst);
    /* a helper asleep is woken (tens of microseconds on a quiet machine, ~100 on a VM): it
       missing a round shorter than that says nothing about the machine's load; one awake
       that misses a round was descheduled */
    const int asleep = atomic_load_explicit(&ch->posted.sleepers, memory_order_seq_cst) > 0;
    fm_event_wake(&ch->posted);
    const int did_all = fm_claim_run(ch, word, 0, helpers + 1) == count;
    const uint64_t t1 = fm_ticks_();
    const int alone = did_all && (!asleep || t1 - t0 > FM_WAKE_TICKS ||
                                  fm_helpers_wait_here(ch, helpers));
    for (uint32_t d; (d = atomic_load_explicit(&ch->done.v, memory_order_acquire)) <
                     (uint32_t)count;)
        fm_event_wait(&ch->done, d);
    const uint64_t waited = fm_ticks_() - t1;
    if (waited > (t1 - t0) + FM_LATE_TICKS) {
        fm_rounds_go_solo(ch, (long long)(waited / FM_TICKS_PER_NS) * 4);
        return;
    }
    ch->win_absent += alone;
    if (++ch->win_rounds < FM_WINDOW) return;
    if (ch->win_absent * 8 >= FM_WINDOW) {
        fm_rounds_go_solo(ch, ch->solo_ns);
        if (ch->solo_ns < FM_SOLO_MAX_NS) ch->solo_ns *= 2;
    } else {
        if (ch->win_absent <= 1) ch->solo_ns = FM_SOLO_MIN_NS;   /* a clean window */
        ch->win_rounds = ch->win_absent = 0;
    }
}
