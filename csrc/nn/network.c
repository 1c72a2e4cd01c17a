/* network.c -- the chapter's network in C: plan and workspace layout, forward pass,
   backward pass, one training step and whole epochs (bodies in network.inc). */
#include "fm_internal.h"
#include "gemm/gemm.h"
#include <stdlib.h>
#include <string.h>

fm_status fm_net_init(fm_net *net) {
    const int L = net->n_layers;
    if (L < 1 || L > FM_MAX_LAYERS) return FM_ERR_ARG;
    for (int l = 0; l <= L; ++l) if (net->sizes[l] < 1) return FM_ERR_ARG;
    for (int l = 1; l <= L; ++l) {
        if (net->acts[l] < 0 || net->acts[l] >= FM_N_ACT) return FM_ERR_ARG;
        if (net->acts[l] == FM_ACT_SOFTMAX && l != L) return FM_ERR_ARG;
    }
    if (net->loss < 0 || net->loss >= FM_N_LOSS) return FM_ERR_ARG;
    if (net->loss == FM_LOSS_CROSS_ENTROPY && net->acts[L] != FM_ACT_SOFTMAX) return FM_ERR_ARG;
    if (net->loss == FM_LOSS_POISSON && net->acts[L] != FM_ACT_EXP) return FM_ERR_ARG;
    ptrdiff_t off = 0;
    net->w_off[0] = net->b_off[0] = net->alpha_off[0] = -1;
    for (int l = 1; l <= L; ++l) { net->w_off[l] = off; off += (ptrdiff_t)net->sizes[l - 1] * net->sizes[l]; }
    net->n_weights = off;
    for (int l = 1; l <= L; ++l) { net->b_off[l] = off; off += net->sizes[l]; }
    for (int l = 1; l <= L; ++l) {
        if (net->acts[l] == FM_ACT_PRELU) { net->alpha_off[l] = off; off += net->sizes[l]; }
        else net->alpha_off[l] = -1;
    }
    net->n_params = off;
    return FM_OK;
}

/* blocks start on 64-byte boundaries (relative to a 64-byte aligned base) */
static ptrdiff_t fm_round_up(ptrdiff_t n, ptrdiff_t elems_per_line) {
    return (n + elems_per_line - 1) / elems_per_line * elems_per_line;
}

fm_status fm_workspace_init(const fm_net *net, int max_batch, size_t elem_size, fm_workspace *ws) {
    if (max_batch < 1 || (elem_size != 4 && elem_size != 8)) return FM_ERR_ARG;
    const ptrdiff_t line = 64 / (ptrdiff_t)elem_size, B = max_batch;
    ptrdiff_t off = 0;
    memset(ws, 0, sizeof *ws);
    ws->max_batch = max_batch;
    for (int l = 1; l <= net->n_layers; ++l) {
        ptrdiff_t blk = fm_round_up(B * net->sizes[l], line);
        ws->z_off[l] = off; off += blk;
        ws->a_off[l] = off; off += blk;
        ws->d_off[l] = off; off += blk;
    }
    ws->x_off = off; off += fm_round_up(B * net->sizes[0], line);
    ws->y_off = off; off += fm_round_up(B * net->sizes[net->n_layers], line);
    ws->grest_off = off; off += fm_round_up(net->n_params - net->n_weights, line);
    ws->rowloss_off = off; off += fm_round_up((B * 8 + (ptrdiff_t)elem_size - 1) / (ptrdiff_t)elem_size, line);
    ws->sw_off = off; off += fm_round_up(B, line);
    ws->size = off;
    return FM_OK;
}

fm_status fm_packed_plan(const fm_net *net, size_t elem_size, fm_packed *pk) {
    if (elem_size != 4 && elem_size != 8) return FM_ERR_ARG;
    const ptrdiff_t line = 64 / (ptrdiff_t)elem_size;
    ptrdiff_t off = 0;
    memset(pk, 0, sizeof *pk);
    for (int l = 0; l <= FM_MAX_LAYERS; ++l) pk->off[l] = -1;
    for (int l = 1; l <= net->n_layers; ++l) {
        const int K = net->sizes[l - 1], N = net->sizes[l];
        const size_t e = elem_size == 4 ? fm_sgemm_packed_size(K, N, &pk->key)
                                        : fm_dgemm_packed_size(K, N, &pk->key);
        if (e == 0) continue;
        pk->off[l] = off;
        off += fm_round_up((ptrdiff_t)e, line);
    }
    pk->size = off;
    return FM_OK;
}

/* Plain SGD only. Measured on the 2-core Zen 4: 1.8x on batch 1 (784-128-10), +5-10 % on
   batches of 64-256; slower on tiny networks, where its magnitude checks cost more than the
   dW pass they save -- hence the 4096-weight floor. max_batch: the value of
   fm_get_fused_sgd_max_batch() that a training entry point read once for the whole call. */
static int fm_step_fused(const fm_net *net, const fm_opt *opt, int n, int max_batch) {
    return opt->kind == FM_OPT_SGD && opt->momentum == 0 && n <= max_batch &&
           net->n_weights >= 4096;
}

int fm_step_is_fused(const fm_net *net, const fm_opt *opt, int n) {
    return fm_step_fused(net, opt, n, fm_get_fused_sgd_max_batch());
}

/* ---- the data-parallel step: when, and its gradient buffers --------------------------------
   A step of n rows is cut into C fixed chunks (rows [c n / C, (c+1) n / C)); each chunk's
   forward and backward pass runs on one thread; the chunks' gradients are summed in chunk
   order; the update is split over the parameters. C depends on the network, n and the
   tunables only -- never on the thread count -- so every thread count gives the same bits.
   Used for steps of dp_min_flops <= 6 x weights x n < dp_max_flops (config.c), with chunks of
   at least FM_DP_MIN_ROWS rows. */
#define FM_DP_MIN_ROWS 8
/* the rounds of a data-parallel step (network.inc: F(step_dp)) and their smallest block; and
   the round of a product shared by the threads serving a step (network.inc: F(tgemm)) */
enum { DP_CHUNKS, DP_CHECK, DP_WRITE, DP_GEMM, DP_GATHER, DP_MAXABS };
#define FM_DP_MIN_BLOCK 512

/* chunks for a step of n rows (0: the output-split path) */
static int fm_dp_chunks_of(const fm_net *net, int n, const fm_step_shared *sh) {
    int c = sh->dp_chunks;
    if (c > n / FM_DP_MIN_ROWS) c = n / FM_DP_MIN_ROWS;
    if (c < 2) return 0;
    const double flops = 6.0 * (double)net->n_weights * (double)n;
    return flops >= sh->dp_min_flops && flops < sh->dp_max_flops ? c : 0;
}

int fm_step_chunks(const fm_net *net, int n) {
    fm_step_shared sh;
    fm_step_init(&sh);
    sh.dp_chunks = fm_get_dp_chunks();
    sh.dp_min_flops = fm_get_dp_min_flops();
    sh.dp_max_flops = fm_get_dp_max_flops();
    return fm_dp_chunks_of(net, n, &sh);
}

/* The calling thread's gradient buffers (grown, then reused; freed when the thread exits). */
static _Thread_local fm_scratch dp_buf;

/* threads for a call whose steps are data parallel in C chunks: one per chunk at most */
static int fm_dp_team_size(int nthreads, int C) {
    int nt = fm_nthreads(nthreads);
    if (nt > C) nt = C;
    return nt < FM_TEAM_MAX ? nt : FM_TEAM_MAX;
}

/* Read the tunables once for a training call on batches of up to `batch` rows and get the
   buffers its data-parallel steps need. Returns the chunk count of a `batch`-row step; when
   that is 0 (or no buffer can be had) sh->dp_chunks = 0: every step of the call, a short last
   batch included, takes the output-split path. */
static int fm_dp_setup(fm_step_shared *sh, const fm_net *net, int batch, size_t elem) {
    sh->dp_chunks = fm_get_dp_chunks();
    sh->dp_min_flops = fm_get_dp_min_flops();
    sh->dp_max_flops = fm_get_dp_max_flops();
    const int c = fm_dp_chunks_of(net, batch, sh);   /* no smaller batch gets more */
    sh->dp_stride = (net->n_params + 15) / 16 * 16;
    sh->dp_buf = c ? fm_scratch_get(&dp_buf, (size_t)c * (size_t)sh->dp_stride * elem) : NULL;
    if (!sh->dp_buf) sh->dp_chunks = 0;
    return sh->dp_chunks ? c : 0;
}

#define FM_BODY "nn/network.inc"
#include "fm_dtypes.h"

/* the CSR-input paths and the whole-set objective (fm_sparse.h), on the bodies above */
#include "fm_sparse.h"
#define FM_BODY "nn/sparse.inc"
#include "fm_dtypes.h"
