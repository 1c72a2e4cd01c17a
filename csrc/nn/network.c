/* network.c -- the chapter's network in C: plan and workspace layout, forward pass,
   backward pass, one training step and whole epochs (bodies in network.inc). */
#include "fm_internal.h"
#include "gemm/gemm.h"
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

#define FM_BODY "nn/network.inc"
#include "fm_dtypes.h"
