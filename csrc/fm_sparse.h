/* fm_sparse.h -- the engine's paths for sparse (CSR) input and the whole-set objective of
   full-batch optimisers (bodies in nn/sparse.inc, compiled inside nn/network.c).

   A CSR matrix of n_rows rows: row r's non-zeros are data[k] at column indices[k] for
   k in [indptr[r], indptr[r + 1]). Columns need not be sorted; a repeated column adds (as
   the dense matrix it stands for would). The caller (the Cython boundary) has checked that
   indptr is non-decreasing from 0, that every index is in [0, N_0), and that data holds
   finite values of the network's dtype (float for _s, double for _d).

   Only the first layer sees the CSR rows: z^1 = X W^1 + b^1 is a sparse x dense product
   (rows split over threads), dW^1 = X^T delta^1 runs over the non-zeros only (each thread
   owns a block of W^1's rows and adds the batch's rows in order), and every later layer is
   the dense engine's. Results never depend on the thread count. Memory: the workspace of the
   dense engine and the parameter-sized vectors; nothing of size n_rows x N_0. */
#ifndef FM_SPARSE_H
#define FM_SPARSE_H
#include "fastmlp.h"

typedef struct {
    const int64_t *indptr;   /* n_rows + 1 */
    const int32_t *indices;  /* indptr[n_rows] */
    const void *data;        /* indptr[n_rows] values of the network's dtype */
    int64_t n_rows;
} fm_csr;

/* Forward pass of rows [row0, row0 + n) of X (n <= ws->max_batch): Z^l, A^l in the
   workspace, as fm_forward. */
fm_status fm_csr_forward_s(const fm_net *net, const float *theta, const fm_csr *X, int64_t row0,
                           int n, float *work, const fm_workspace *ws, int nthreads);
fm_status fm_csr_forward_d(const fm_net *net, const double *theta, const fm_csr *X, int64_t row0,
                           int n, double *work, const fm_workspace *ws, int nthreads);

/* fm_train_epochs with the rows of X taken from a CSR matrix (the same batches, order,
   weights, losses, stopping and status; never fused, so grad is required). */
fm_status fm_csr_train_epochs_s(const fm_net *net, fm_opt *opt, float *theta, float *grad,
                                float *state1, float *state2, const fm_csr *X, const float *Y,
                                const float *sw, int batch, int drop_last, int shuffle,
                                uint64_t seed, int64_t epoch0, int n_epochs, int64_t *perm,
                                float *work, const fm_workspace *ws, double *losses_out,
                                int *epochs_done, volatile int *stop, int nthreads);
fm_status fm_csr_train_epochs_d(const fm_net *net, fm_opt *opt, double *theta, double *grad,
                                double *state1, double *state2, const fm_csr *X, const double *Y,
                                const double *sw, int batch, int drop_last, int shuffle,
                                uint64_t seed, int64_t epoch0, int n_epochs, int64_t *perm,
                                double *work, const fm_workspace *ws, double *losses_out,
                                int *epochs_done, volatile int *stop, int nthreads);

/* The objective of a full-batch optimiser (scikit-learn's L-BFGS) over all N rows, in chunks
   of `chunk` rows (<= ws->max_batch; fixed, so the sums never depend on the thread count):
     *loss_out = lscale * (sum_c S_c loss_c) / S + 0.5 * alpha * ||W||^2 / S
     g_out     = lscale * (sum_c S_c grad_c) / S + alpha * W / S     (W: theta[0:n_weights])
   loss_c, grad_c: chunk c's (weighted) mean loss and gradient (as fm_backward, rows of
   delta^L times n_c w_i / S_c with weights), S_c its row count or weight sum (a chunk of
   S_c <= 0 is left out), S = sum of S_c; sums in chunk order, in double. Exactly one of X
   (dense, ld N_0) and Xs (CSR) is given. grad: scratch of n_params entries. g_out: n_params
   doubles (it may be the vector the optimiser works on). */
fm_status fm_objective_s(const fm_net *net, const float *theta, const float *X,
                         const fm_csr *Xs, int64_t N, const float *Y, const float *sw,
                         int chunk, float *grad, float *work, const fm_workspace *ws,
                         double lscale, double alpha, double *g_out, double *loss_out,
                         int nthreads);
fm_status fm_objective_d(const fm_net *net, const double *theta, const double *X,
                         const fm_csr *Xs, int64_t N, const double *Y, const double *sw,
                         int chunk, double *grad, double *work, const fm_workspace *ws,
                         double lscale, double alpha, double *g_out, double *loss_out,
                         int nthreads);
#endif
