/* scratch.c -- per-thread scratch buffers (see fm_scratch in fm_internal.h).

   Each use keeps one _Thread_local fm_scratch in its own module (the GEMM's packing buffer,
   the data-parallel step's gradient vectors). A buffer is 64-byte aligned, grown to a whole
   number of pages when a call needs more and otherwise reused, so after warm-up no call
   allocates. When a thread exits (an OpenMP worker the runtime lets go, a caller's thread),
   one pthread key's destructor frees every buffer that thread grew. */
#include "fm_internal.h"

#include <pthread.h>
#include <stdlib.h>

#define FM_SCRATCH_USES 8   /* distinct fm_scratch per thread (two today) */

static _Thread_local fm_scratch *grown[FM_SCRATCH_USES];
static _Thread_local int n_grown;

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static int exit_key_ok;

static void fm_scratch_release(void *unused) {
    (void)unused;
    for (int i = 0; i < n_grown; ++i) {
        free(grown[i]->p);
        grown[i]->p = NULL;
        grown[i]->cap = 0;
    }
    n_grown = 0;
}

static void fm_scratch_key_init(void) {
    exit_key_ok = pthread_key_create(&exit_key, fm_scratch_release) == 0;
}

void *fm_scratch_grow(fm_scratch *s, size_t bytes) {
    size_t cap = (bytes + 4095) & ~(size_t)4095;
    void *p = aligned_alloc(64, cap);
    if (!p) return NULL;   /* the caller has a way without the buffer; s is unchanged */
    if (!s->p && n_grown < FM_SCRATCH_USES) {   /* this thread's first buffer of this use */
        grown[n_grown++] = s;
        pthread_once(&exit_key_once, fm_scratch_key_init);
        if (exit_key_ok) pthread_setspecific(exit_key, (void *)1);   /* non-NULL: run at exit */
    }
    free(s->p);
    s->p = p;
    s->cap = cap;
    return p;
}
