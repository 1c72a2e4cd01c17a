/* linear.h -- single-layer linear models trained one sample at a time (chapter 4.1's
   perceptron rule and scikit-learn's SGD perceptron), one output unit per binary problem.

   A unit's weights are w * wscale (a vector and a scale factor), so an L2 shrink of every
   weight is one multiplication of wscale. The units of one call share the data and the
   settings; each has its own weights, order and state, and runs on one thread: the units
   are spread over the threads (claimed one by one), so the result never depends on the
   thread count. Every function exists for float (_s) and double (_d).

   One epoch of unit u (fm_lin_epochs_*), rule FM_LIN_SGD (scikit-learn's Perceptron,
   learning_rate='constant'):
     if shuffle: the order is permuted by scikit-learn's Fisher-Yates (a 32-bit xorshift
       restarted from seed at every epoch);
     for each row i of the order that is not a validation row:
       p = (x_i . w) wscale + b
       the objective gains max(0, -y p) (+ the penalty, from the cached norms)
       if penalty is l2/elasticnet: wscale *= max(0, 1 - eta0 alpha (1 - l1_ratio))
       if y p <= 0: w += x_i (eta0 y c_i / wscale), b += eta0 y c_i decay
       if penalty is l1/elasticnet: the cumulative L1 penalty (Tsuruoka et al., 2009) on
         the row's non-zero features
     then the non-finite test (the failing step is undone: the unit stops, diverged set),
     the validation score (early stopping) and scikit-learn's stopping test.
   Rule FM_LIN_CHAPTER (the chapter's threshold units): z = (x_i . w) + b, the error
   e = gain (y - sign z) (gain 1/2 for step units with 0/1 targets, 1 for sign units);
   w += lr e x_i, b += lr e when e != 0; a row with e != 0 is a mistake (wrong[i] = 1);
   a step that would make a weight, the bias or z non-finite is refused. */
#ifndef FM_LINEAR_H
#define FM_LINEAR_H

#include <stddef.h>
#include <stdint.h>
#include "fastmlp.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { FM_LIN_SGD = 0, FM_LIN_CHAPTER = 1 };
enum { FM_PEN_NONE = 0, FM_PEN_L1 = 1, FM_PEN_L2 = 2, FM_PEN_ELASTICNET = 3 };

/* What every unit of a call shares. X: dense (indptr NULL: n x d row-major) or CSR
   (data X, column indices `indices`, row starts indptr[0..n]); float for _s, double for _d. */
typedef struct {
    const void *X;
    const int32_t *indices;
    const int64_t *indptr;
    ptrdiff_t n, d;
    const uint8_t *val_mask;   /* 1: a validation row (never trained on); NULL: none */
    const double *xabs;        /* dense: sum_j |x_ij| per row (fm_lin_row_abs); CSR: NULL */
    int rule;                  /* FM_LIN_SGD / FM_LIN_CHAPTER */
    int penalty;               /* FM_PEN_* */
    double alpha, l1_ratio, eta0, intercept_decay, gain;
    int fit_intercept;
    int need_loss;             /* accumulate the objective (stopping test or verbose) */
    int early_stopping;        /* stop on the validation score instead of the objective */
    double tol;                /* -INFINITY: no stopping test */
    int n_iter_no_change;
} fm_lin_data;

/* One unit: its weights and state (in/out) and its last epoch's figures (out). */
typedef struct {
    void *w;                   /* d: the vector (times wscale) */
    void *q;                   /* d: the L1 penalty's running sum (l1/elasticnet), else NULL */
    void *w_snap, *q_snap;     /* d each (q_snap only with q): the epoch's starting point */
    const double *y;           /* n: +-1 */
    const void *c;             /* n: the step's factor (class weight x sample weight) */
    const void *sw;            /* n: the validation score's weights, or NULL */
    int32_t *order;            /* n: the visiting order, permuted in place when shuffle */
    uint8_t *wrong;            /* n or NULL: FM_LIN_CHAPTER's mistakes (by row) */
    uint32_t seed;
    int shuffle;
    double wscale, u, intercept, sq_norm, l1_norm;
    /* stopping state (FM_LIN_SGD) */
    double best;               /* best objective (+inf) or best score (-inf) so far */
    int no_improvement, n_iter, done, diverged;   /* diverged: the epoch (from 1), or 0 */
    /* the last epoch */
    double sumloss, objective, score;
    int64_t mistakes, steps;   /* rows that erred, rows trained on */
    ptrdiff_t fail_at;         /* position in the order of a refused step, or -1 */
    double wmax;               /* a bound on max |w| (the vector, without wscale) */
    double snap[6];            /* the epoch's starting wscale, u, intercept, norms, wmax */
} fm_lin_unit;

/* Up to `epochs` epochs of every unit, each on its own until it stops (done = 1: the
   stopping test or divergence); at most nthreads threads (<= 0: the default). */
fm_status fm_lin_epochs_s(const fm_lin_data *D, fm_lin_unit *units, int nunits, int epochs,
                          int nthreads);
fm_status fm_lin_epochs_d(const fm_lin_data *D, fm_lin_unit *units, int nunits, int epochs,
                          int nthreads);

/* Back to the epoch's starting point (its snapshot), then the first `steps` positions of
   the order again (no shuffle): where several units must stop at one refused step. */
fm_status fm_lin_rewind_s(const fm_lin_data *D, fm_lin_unit *units, int nunits,
                          ptrdiff_t steps, int nthreads);
fm_status fm_lin_rewind_d(const fm_lin_data *D, fm_lin_unit *units, int nunits,
                          ptrdiff_t steps, int nthreads);

/* out[i] = sum_j |x_ij| for each row of a dense X (what D->xabs needs) */
void fm_lin_row_abs_s(const fm_lin_data *D, double *out);
void fm_lin_row_abs_d(const fm_lin_data *D, double *out);

/* w *= wscale, wscale = 1 (the weights as plain numbers). */
void fm_lin_unscale_s(fm_lin_unit *u, ptrdiff_t d);
void fm_lin_unscale_d(fm_lin_unit *u, ptrdiff_t d);

/* scikit-learn's SGD shuffle: Fisher-Yates over order[0..n) from `seed`. */
void fm_lin_shuffle(int32_t *order, ptrdiff_t n, uint32_t seed);

#ifdef __cplusplus
}
#endif
#endif
