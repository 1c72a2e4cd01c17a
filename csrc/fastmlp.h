/*
 * fastmlp.h -- the C API of the fastmlp engine (C11 + OpenMP, no Python headers).
 *
 * Map of the engine, from the bottom up (csrc/; the per-dtype code of each module is a body
 * file *.inc compiled for float and double by fm_dtypes.h):
 *
 *   1. gemm/             -- C = alpha*op(A)*op(B) + beta*C, packed BLIS-style, with an
 *                           epilogue callback run on each finished block of C (bias + sigma,
 *                           or the sigma' mask), CPU-specific kernels (gemm_ukr_<isa>.c)
 *                           chosen at run time.
 *   2. nn/activations.c  -- sigma and sigma' of the chapter's nine activations (+ softmax for the
 *                           output layer), element-wise over a (rows x cols) block; used both as
 *                           stand-alone kernels and as GEMM epilogues. Sigmoid, tanh and
 *                           softmax's exp run on vecmath/: own vectorised exp per ISA
 *                           (AVX-512, AVX2; libm when portable), chosen at run time.
 *   3. nn/losses.c       -- value of each loss and delta^L = dC/dz^L, numerically stable.
 *   4. nn/network.c      -- forward pass, backward pass (chapter 5), one training step, and whole
 *                           epochs (batches gathered from a shuffled order) over a workspace.
 *   5. nn/optim.c        -- fused parameter updates (SGD, momentum/Nesterov, Adam, weight decay);
 *      nn/lbfgs.c        -- the vector work of the engine's L-BFGS (two-loop recursion).
 *   6. rng.c             -- a counter-based generator: the same permutation on any thread count.
 *   team.h / team.c      -- how every parallel region is opened: a team of threads splitting
 *                           each phase by outputs, with a spin barrier between phases.
 *   config.c             -- build facts, the thread count and the tunables (below).
 *
 * Conventions
 *   - Every matrix is row-major; samples are rows. Layer l (1..L) maps N_{l-1} inputs to N_l
 *     outputs with W^l stored (N_{l-1} x N_l) -- the transpose of the chapter's W^l -- so a batch
 *     forward pass is Z^l = A^{l-1} W^l + b^l.
 *   - Every function exists for float (suffix _s) and double (suffix _d); one source body is
 *     compiled twice (fm_dtypes.h).
 *   - Functions return an fm_status and never print, abort or allocate inside a training step.
 *     The caller (the Cython layer) has checked every pointer, shape and dtype.
 *   - nthreads <= 0 means the default, fm_max_threads(); results never depend on nthreads:
 *     work is split over outputs, never over a sum.
 */
#ifndef FASTMLP_H
#define FASTMLP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FM_OK = 0,
    FM_ERR_ALLOC = 1,     /* out of memory (only at workspace creation) */
    FM_ERR_ARG = 2,       /* an argument the boundary should have rejected */
    FM_ERR_NONFINITE = 3, /* loss or gradient became NaN/inf: parameters were NOT updated */
    FM_ERR_INTERRUPT = 4  /* the caller's stop flag was raised (between epochs) */
} fm_status;

/* Activation codes (the chapter's table, in its order; softmax is output-only; exp is the
   log link of Poisson regression). */
typedef enum {
    FM_ACT_STEP = 0,      /* 0 (z<0), 0.5 (z=0), 1 (z>0); sigma' = 0 */
    FM_ACT_SIGN = 1,      /* -1, 0, 1; sigma' = 0 */
    FM_ACT_LINEAR = 2,    /* z */
    FM_ACT_PIECEWISE = 3, /* 1 (z>=1/2), z+1/2 (-1/2<z<1/2), 0 (z<=-1/2); sigma'=1 inside (-1/2,1/2) */
    FM_ACT_SIGMOID = 4,   /* 1/(1+e^-z); sigma' = a(1-a) */
    FM_ACT_TANH = 5,      /* sigma' = 1 - a^2 */
    FM_ACT_RELU = 6,      /* max(0,z); sigma' = [z>0] */
    FM_ACT_LEAKY = 7,     /* z (z>=0), alpha z (z<0), alpha fixed; sigma' = 1 or alpha */
    FM_ACT_PRELU = 8,     /* as leaky, one learned alpha per neuron (column) */
    FM_ACT_SOFTMAX = 9,   /* row-wise softmax, output layer only */
    FM_ACT_EXP = 10,      /* e^z; sigma' = a */
    FM_N_ACT = 11
} fm_activation;

/* Loss codes. Targets Y are always the canonical float matrix (n x N_L):
   square: real targets; hinge/logistic: +-1; cross_entropy: one-hot or probabilities
   (with a softmax output); margin: one-hot; poisson: counts or rates y >= 0 (with an exp
   output: the half Poisson deviance y log(y/a) - y + a, computed from z = log a). The cost
   is the MEAN over the batch of the per-sample cost, which is the SUM over output units. */
typedef enum {
    FM_LOSS_SQUARE = 0,
    FM_LOSS_HINGE = 1,
    FM_LOSS_LOGISTIC = 2,
    FM_LOSS_CROSS_ENTROPY = 3,
    FM_LOSS_MARGIN = 4,
    FM_LOSS_POISSON = 5,
    FM_N_LOSS = 6
} fm_loss;

/* Does sigma' of this activation need z (1), or is the output a enough (0)? */
int fm_act_needs_z(int act);

/* ---- 2. element-wise activations --------------------------------------------------------------
   a = sigma(z) over a rows x cols block (ldz, lda: row strides in elements). `leaky` is the fixed
   Leaky-ReLU alpha; `prelu` the per-column alpha vector (PReLU only, else may be NULL).
   Softmax works row-wise. z and a may be the same buffer. */
fm_status fm_act_forward_s(int act, int rows, int cols, const float *z, ptrdiff_t ldz,
                           float *a, ptrdiff_t lda, double leaky, const float *prelu, int nthreads);
fm_status fm_act_forward_d(int act, int rows, int cols, const double *z, ptrdiff_t ldz,
                           double *a, ptrdiff_t lda, double leaky, const double *prelu, int nthreads);
/* d = sigma'(z) element-wise (from z, or from a where fm_act_needs_z is 0; pass both when you
   have them). Not defined for softmax (FM_ERR_ARG). */
fm_status fm_act_deriv_s(int act, int rows, int cols, const float *z, ptrdiff_t ldz,
                         const float *a, ptrdiff_t lda, float *d, ptrdiff_t ldd,
                         double leaky, const float *prelu, int nthreads);
fm_status fm_act_deriv_d(int act, int rows, int cols, const double *z, ptrdiff_t ldz,
                         const double *a, ptrdiff_t lda, double *d, ptrdiff_t ldd,
                         double leaky, const double *prelu, int nthreads);

/* Vector maths behind sigmoid, tanh and softmax (vecmath/): y = f(x) over n contiguous
   elements, serial, y == x allowed. Kernel sets: "avx512", "avx2" (own exp with a polynomial;
   about 1-3 ulp, see vecmath_body.inc) or "portable" (libm); chosen like the GEMM's (best the
   CPU supports, capped by the environment variable FASTMLP_ISA) on first use.
   fm_vecmath_set_isa forces one (0; -1 if unknown or not supported by this CPU). */
typedef enum { FM_VEC_EXP = 0, FM_VEC_SIGMOID = 1, FM_VEC_TANH = 2, FM_N_VEC = 3 } fm_vec_func;
fm_status fm_vec_eval_s(int func, ptrdiff_t n, const float *x, float *y);
fm_status fm_vec_eval_d(int func, ptrdiff_t n, const double *x, double *y);
const char *fm_vecmath_isa(void);
int fm_vecmath_set_isa(const char *name);

/* ---- 3. losses ---------------------------------------------------------------------------------
   loss value (mean over the n rows) from the output a (and the logits z, used by cross entropy),
   and delta^L = dC/dz^L of that mean, written to `delta` (n x m, ld m). `act` is the output
   activation; (cross_entropy, softmax) is fused to (P - Y)/n; any other pair is
   sigma'(z^L) (.) grad C(a) (softmax: its Jacobian-vector product). `rowloss` is scratch of n
   doubles (per-sample cost, summed in a fixed order). delta may be NULL (value only). */
fm_status fm_loss_s(int loss, int act, int n, int m, const float *Y, const float *z,
                    const float *a, float *delta, double leaky, const float *prelu,
                    double *rowloss, double *value_out, int nthreads);
fm_status fm_loss_d(int loss, int act, int n, int m, const double *Y, const double *z,
                    const double *a, double *delta, double leaky, const double *prelu,
                    double *rowloss, double *value_out, int nthreads);

/* ---- 4. the network ------------------------------------------------------------------------------
   A plan: layer sizes, activations, loss and where each parameter lives in ONE flat vector theta.
   Layout of theta (and of the gradient vector, same offsets):
     [W^1 | W^2 | ... | W^L | b^1 | ... | b^L | alpha^l for each PReLU layer l]
   so weight decay applies to theta[0 : n_weights] and every optimiser is one pass over theta. */
#define FM_MAX_LAYERS 64
/* the default fixed slope of leaky_relu for z < 0 (fastmlp._names.LEAKY_ALPHA in Python) */
#define FM_LEAKY_ALPHA 0.01
typedef struct {
    int n_layers;                    /* L >= 1 */
    int sizes[FM_MAX_LAYERS + 1];    /* N_0 .. N_L */
    int acts[FM_MAX_LAYERS + 1];     /* acts[l] for l = 1..L (acts[0] unused) */
    int loss;                        /* fm_loss */
    double leaky;                    /* Leaky-ReLU alpha */
    ptrdiff_t w_off[FM_MAX_LAYERS + 1], b_off[FM_MAX_LAYERS + 1], alpha_off[FM_MAX_LAYERS + 1];
    ptrdiff_t n_weights, n_params;   /* alpha_off[l] = -1 where layer l is not PReLU */
} fm_net;

/* Fill the offsets of a plan whose n_layers, sizes, acts, loss and leaky are set. */
fm_status fm_net_init(fm_net *net);

/* The workspace for batches of up to max_batch rows: per layer l = 1..L a Z^l, A^l and delta^l
   block (max_batch x N_l each), a gathered batch X and Y, and per-row scratch. Its size in
   elements, and the offsets of each block (arrays of L+1 entries; index 0 unused), so the
   caller can own the memory (a NumPy array) and view any block. */
typedef struct {
    int max_batch;
    ptrdiff_t z_off[FM_MAX_LAYERS + 1], a_off[FM_MAX_LAYERS + 1], d_off[FM_MAX_LAYERS + 1];
    ptrdiff_t x_off, y_off, size;    /* size in elements of the dtype */
    ptrdiff_t grest_off;             /* bias and alpha gradients of a fused step without `grad` */
    ptrdiff_t rowloss_off;           /* n doubles, stored in the same buffer (aligned) */
    ptrdiff_t sw_off;                /* the gathered sample weights of a shuffled batch */
} fm_workspace;
fm_status fm_workspace_init(const fm_net *net, int max_batch, size_t elem_size, fm_workspace *ws);

/* Forward pass over n <= max_batch rows of X (ld N_0): fills Z^l and A^l in the workspace. */
fm_status fm_forward_s(const fm_net *net, const float *theta, const float *X, ptrdiff_t ldx, int n,
                       float *work, const fm_workspace *ws, int nthreads);
fm_status fm_forward_d(const fm_net *net, const double *theta, const double *X, ptrdiff_t ldx, int n,
                       double *work, const fm_workspace *ws, int nthreads);

/* Inference weights packed once (a model version predicts many batches with them): each W^l
   that the GEMM would pack for some batch size, laid out as the current kernel set's packed
   path reads it. fm_packed_plan fills the offsets (-1: layer l is read in place) and the
   size in elements for this kernel set (key); fm_pack_weights_? packs theta's W^l into buf
   (64-byte aligned, size elements). fm_forward_packed_? is fm_forward reading the packed W^l
   (bitwise the same outputs); a plan whose key is not the current kernel set's any more is
   ignored (W^l packed per call, as fm_forward does). */
typedef struct {
    const void *key;
    ptrdiff_t off[FM_MAX_LAYERS + 1];
    ptrdiff_t size;
} fm_packed;
fm_status fm_packed_plan(const fm_net *net, size_t elem_size, fm_packed *pk);
void fm_pack_weights_s(const fm_net *net, const float *theta, const fm_packed *pk, float *buf);
void fm_pack_weights_d(const fm_net *net, const double *theta, const fm_packed *pk, double *buf);
fm_status fm_forward_packed_s(const fm_net *net, const float *theta, const fm_packed *pk,
                              const float *buf, const float *X, ptrdiff_t ldx, int n,
                              float *work, const fm_workspace *ws, int nthreads);
fm_status fm_forward_packed_d(const fm_net *net, const double *theta, const fm_packed *pk,
                              const double *buf, const double *X, ptrdiff_t ldx, int n,
                              double *work, const fm_workspace *ws, int nthreads);

/* Loss and backward pass after fm_forward on the same rows: delta^L .. delta^1 in the
   workspace, and every gradient (of the batch mean) in grad (layout of theta). */
fm_status fm_backward_s(const fm_net *net, const float *theta, const float *X, ptrdiff_t ldx,
                        const float *Y, ptrdiff_t ldy, int n, float *grad, float *work,
                        const fm_workspace *ws, double *loss_out, int nthreads);
fm_status fm_backward_d(const fm_net *net, const double *theta, const double *X, ptrdiff_t ldx,
                        const double *Y, ptrdiff_t ldy, int n, double *grad, double *work,
                        const fm_workspace *ws, double *loss_out, int nthreads);

/* ---- 5. optimisers -------------------------------------------------------------------------------- */
/* FM_OPT_ADAM: m_hat / (sqrt(v_hat) + eps). FM_OPT_ADAM_EFFICIENT: Kingma & Ba's "efficient"
   ordering (scikit-learn's): step lr * sqrt(1 - beta2^t) / (1 - beta1^t) times m / (sqrt(v) + eps)
   -- the same update but for where eps enters. */
typedef enum { FM_OPT_SGD = 0, FM_OPT_ADAM = 1, FM_OPT_ADAM_EFFICIENT = 2 } fm_opt_kind;
typedef struct {
    int kind;             /* fm_opt_kind */
    double lr;            /* eta */
    double momentum;      /* SGD: mu (0 = plain SGD) */
    int nesterov;         /* SGD: Nesterov momentum */
    double weight_decay;  /* L2 on the weights W only: g += weight_decay * W */
    double beta1, beta2, eps; /* Adam */
    int64_t t;            /* Adam: steps taken so far (incremented by each update) */
    double l2;            /* L2 per unit of batch weight: a training step on a batch of weight
                             sum S_b (its row count when unweighted) decays W with
                             weight_decay + l2 / S_b -- scikit-learn's alpha. 0: off */
} fm_opt;

/* One update of theta from grad (n_params entries); state1/state2: velocity (SGD with
   momentum) or Adam's m and v, n_params each (NULL when unused). grad is not modified.
   There is no batch here, so opt->l2 must be 0 (FM_ERR_ARG otherwise). */
fm_status fm_update_s(const fm_net *net, fm_opt *opt, float *theta, const float *grad,
                      float *state1, float *state2, int nthreads);
fm_status fm_update_d(const fm_net *net, fm_opt *opt, double *theta, const double *grad,
                      double *state1, double *state2, int nthreads);

/* ---- 5b. L-BFGS vector work (nn/lbfgs.c; float64 only) ----------------------------------------------
   The engine's L-BFGS (src/fastmlp/training/lbfgs.py) keeps up to m correction pairs
   (s_k, y_k) as the rows of S and Y (m x n, a ring: the oldest of the col stored pairs at row
   head), with rho_k = 1 / (y_k's_k). Every dot product sums in a fixed order (the same bits
   for the same vectors). */
double fm_lbfgs_dot(ptrdiff_t n, const double *a, const double *b);
/* d = -H g by the two-loop recursion, H0 = I / theta (col = 0: d = -g / theta); then the
   trial point z = x + d and d = z - x, the step as it is taken. alpha: m doubles of scratch. */
void fm_lbfgs_direction(ptrdiff_t n, int m, int col, int head, const double *S,
                        const double *Y, const double *rho, double theta, const double *g,
                        const double *x, double *z, double *d, double *alpha);
/* x = stp * d + t */
void fm_lbfgs_trial(ptrdiff_t n, double stp, const double *d, const double *t, double *x);
/* The new pair: s_out = stp * d (d itself when stp is 1), y_out = g - r; returns y'y. */
double fm_lbfgs_pair(ptrdiff_t n, double stp, const double *d, const double *g,
                     const double *r, double *s_out, double *y_out);
/* max |g_i|, or a NaN of g if it has one */
double fm_lbfgs_amax(ptrdiff_t n, const double *g);
/* 1 if a and b hold the same values (a NaN equals nothing), else 0 */
int fm_lbfgs_equal(ptrdiff_t n, const double *a, const double *b);
/* The kernel set these run on ("portable", "avx2", "avx512"; the same bits on each), and the
   choice of another (-1: unknown or not supported here). */
const char *fm_lbfgs_isa(void);
int fm_lbfgs_set_isa(const char *name);
/* Moré and Thuente's line search (nn/lbfgs_search.c), as fastmlp.training.lbfgs.MoreThuente
   runs it: init with phi(0), phi'(0) < 0 and the first trial step; then done(f, g) takes phi
   and phi' at ls->stp and returns 1 if the step is accepted, else 0 with ls->stp the next
   trial step. */
typedef struct {
    double stp, finit, ginit, gtest, gtol, xtol, stpmin, stpmax, width, width1;
    double stx, fx, gx, sty, fy, gy, stmin, stmax;
    int brackt, stage;
} fm_lbfgs_search;
void fm_lbfgs_search_init(fm_lbfgs_search *ls, double f0, double g0, double stp, double ftol,
                          double gtol, double xtol, double stpmin, double stpmax);
int fm_lbfgs_search_done(fm_lbfgs_search *ls, double f, double g);

/* ---- 4b. training --------------------------------------------------------------------------------
   One step: forward, loss, backward, and (if grads are finite) the update. On FM_ERR_NONFINITE
   theta and the optimiser state are untouched. When fm_step_is_fused(net, opt, n) is true the
   weight gradients are applied inside the GEMM and never stored: `grad` may then be NULL (the
   bias/alpha gradients go to the workspace), which saves a parameter-sized vector. A fused
   step whose update could overflow (|A|max |delta|max n lr beyond ~1e30 in float, 1e290 in
   double) is reported as FM_ERR_NONFINITE, with nothing changed.
   Per-sample weights: sw holds one weight per row of X (finite, >= 0), or is NULL
   (unweighted: the unweighted code path and results). A batch of rows i with weight sum
   S_b = sum_i w_i (summed in double) has the loss sum_i w_i c_i / S_b (the weighted mean of
   the per-sample costs c_i) and its gradient: the rows of delta^L are multiplied by
   n_b w_i / S_b before the backward products. A batch with S_b <= 0 is skipped: nothing
   changes (opt->t included) and *loss_out is NaN. */
int fm_step_is_fused(const fm_net *net, const fm_opt *opt, int n);
/* Chunks of the data-parallel step for a batch of n rows under the current tunables (0: the
   step is split by outputs instead); see dp_chunks below. */
int fm_step_chunks(const fm_net *net, int n);
fm_status fm_train_step_s(const fm_net *net, fm_opt *opt, float *theta, float *grad,
                          float *state1, float *state2, const float *X, const float *Y,
                          const float *sw, int n, float *work, const fm_workspace *ws,
                          double *loss_out, int nthreads);
fm_status fm_train_step_d(const fm_net *net, fm_opt *opt, double *theta, double *grad,
                          double *state1, double *state2, const double *X, const double *Y,
                          const double *sw, int n, double *work, const fm_workspace *ws,
                          double *loss_out, int nthreads);

/* Whole epochs: for each epoch e (numbered epoch0 + e), the N rows are visited in the order of
   fm_permutation(seed, epoch) (or 0..N-1 if !shuffle), cut into batches of `batch` rows
   (the last short batch kept unless drop_last), each batch gathered into the workspace and
   trained by one step. sw (NULL: unweighted) gives one weight per row of X; each batch's
   weights are gathered with its rows, and a batch of weight sum <= 0 is skipped (see
   fm_train_step). losses_out[e] receives the mean over the epoch's samples of the batch
   losses, each batch weighted by its row count (skipped batches left out). Stops at the first non-finite step (FM_ERR_NONFINITE, *epochs_done says how many
   epochs completed; the failed step changed nothing). If `stop` is not NULL it is read
   before every epoch; once it is non-zero the call returns FM_ERR_INTERRUPT after the
   epochs completed so far (so an interrupt never leaves an epoch half done). */
fm_status fm_train_epochs_s(const fm_net *net, fm_opt *opt, float *theta, float *grad,
                            float *state1, float *state2, const float *X, const float *Y,
                            const float *sw, int64_t N, int batch, int drop_last, int shuffle, uint64_t seed,
                            int64_t epoch0, int n_epochs, int64_t *perm, float *work,
                            const fm_workspace *ws, double *losses_out, int *epochs_done,
                            volatile int *stop, int nthreads);
fm_status fm_train_epochs_d(const fm_net *net, fm_opt *opt, double *theta, double *grad,
                            double *state1, double *state2, const double *X, const double *Y,
                            const double *sw, int64_t N, int batch, int drop_last, int shuffle, uint64_t seed,
                            int64_t epoch0, int n_epochs, int64_t *perm, double *work,
                            const fm_workspace *ws, double *losses_out, int *epochs_done,
                            volatile int *stop, int nthreads);

/* ---- 6. random numbers --------------------------------------------------------------------------
   perm <- a uniformly random permutation of 0..N-1 determined by (seed, stream) only. */
void fm_permutation(uint64_t seed, uint64_t stream, int64_t N, int64_t *perm);
/* A counter-based 64-bit hash (SplitMix64 finaliser) of (seed, counter). */
uint64_t fm_random_u64(uint64_t seed, uint64_t counter);
/* NumPy's Generator(PCG64(seed)).uniform(low[s], high[s], count[s]) for s = 0..n_seg-1 in
   turn, from one generator seeded with SeedSequence(seed).generate_state(4, uint64) (`words`),
   written at out[off[s] ..] (double, or rounded to float when !is_double): bitwise NumPy's
   draws, without a Generator object. */
void fm_uniform_fill(const uint64_t words[4], int n_seg, const int64_t *off,
                     const int64_t *count, const double *low, const double *high, void *out,
                     int is_double);

/* ---- configuration ------------------------------------------------------------------------------ */
const char *fm_compiler(void);
int fm_openmp_enabled(void);
int fm_max_threads(void);
void fm_set_max_threads(int n);
/* The most threads any call or setting uses; larger requests are capped to it. */
#define FM_MAX_THREADS 1024
/* Thread safety and processes (team.c):
   - Every entry point may be called from several OS threads at once on different outputs
     and workspaces; it only reads its inputs. A forked child of a process that has opened a
     parallel region runs single-threaded (OpenMP's thread pool does not survive fork; the
     results are bitwise the same) -- fm_fork_child_single_threaded() is then 1.
   - Before a thread opens a team larger than any it opened so far, the engine checks that
     the system can start that many threads (fm_probe_threads); when it cannot, the team is
     smaller (results do not depend on it) and fm_thread_shortfalls() counts the event, so
     a failed thread creation never ends the process inside OpenMP.
   fm_probe_threads: how many threads, the caller included and at most n, could run at once
   right now (it starts n - 1 short-lived threads and joins them); *err (may be NULL) gets
   the errno of the first failure, 0 if none. */
int fm_probe_threads(int n, int *err);
int fm_fork_child_single_threaded(void);
long fm_thread_shortfalls(void);
/* Process-wide counts of the rounds that calls posted to their helper threads (team.h):
   out[0] rounds posted, out[1] rounds run on the calling thread alone although it had helpers
   (its helpers kept arriving late or not at all: a machine shared with busy processes),
   out[2] the solo periods that caused them. In rounds.c. */
void fm_rounds_counts(long out[3]);
/* The widest team (threads of one parallel region) the engine has opened since the last
   fm_widest_team(1) -- 1 when it has opened none; reset: start counting again. Lets a
   program (and the tests) check that concurrent fits do not oversubscribe the machine. */
int fm_widest_team(int reset);
const char *fm_cpu_features(void); /* e.g. "avx512f avx512dq avx512vl avx512bw avx2 fma" */
/* the clone of the element-wise loops the loader picked from CPUID: "x86-64-v4", "x86-64-v3",
   "baseline", or "none (...)" in a build without clones */
const char *fm_clones_level(void);

/* Tunables (defaults measured; see config.c). Safe to set while other threads are inside the
   engine: each call reads each tunable once, so it runs wholly with the old or the new value.
   Setters clamp negative values (and NaN) to 0.
     parallel_threshold   element count from which element-wise kernels (activations, losses,
                          a long optimiser update) use threads
     fused_sgd_max_batch  plain-SGD steps on batches of at most this many rows apply dW to W
                          inside the GEMM instead of materialising the gradient (then `grad`
                          holds only the bias and alpha gradients); 0 turns fusion off
     team_min_flops       steps of fewer flops (6 x weights x rows) run on one thread; larger
                          ones on a team of threads in one parallel region (one per call of
                          fm_train_epochs)
     gemm_par_flops       products of fewer flops (2MNK) run on the calling thread alone; larger
                          ones on at most one thread per half of this many flops. Between 0.4x
                          and 1x it, a product of prepacked weights with K >= 256 (a prediction
                          of a few rows) takes 2 threads when its helpers are awake or in a
                          stream of such calls, never by waking a sleeping helper (gemm.c)
     dp_chunks            a training step of dp_min_flops <= 6 x weights x rows < dp_max_flops
     dp_min_flops         is data parallel: the batch is cut into dp_chunks fixed chunks (fewer
     dp_max_flops         when a chunk would hold under 8 rows), each chunk's whole forward and
                          backward pass runs on one thread, and the chunks' gradients are summed
                          in chunk order. The chunks never depend on the thread count, so
                          results are the same for every thread count; dp_chunks < 2 turns it
                          off (every step then runs the output-split path) */
ptrdiff_t fm_get_parallel_threshold(void);
void fm_set_parallel_threshold(ptrdiff_t n);
int fm_get_fused_sgd_max_batch(void);
void fm_set_fused_sgd_max_batch(int n);
double fm_get_team_min_flops(void);
void fm_set_team_min_flops(double flops);
double fm_get_gemm_par_flops(void);
void fm_set_gemm_par_flops(double flops);
int fm_get_dp_chunks(void);
void fm_set_dp_chunks(int n);
double fm_get_dp_min_flops(void);
void fm_set_dp_min_flops(double flops);
double fm_get_dp_max_flops(void);
void fm_set_dp_max_flops(double flops);

#ifdef __cplusplus
}
#endif
#endif /* FASTMLP_H */
