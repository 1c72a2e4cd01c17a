/* test_nn.c -- the engine beyond the GEMM: activations, losses, the network's passes and
   training steps, the optimisers, the divergence guards, thread-count invariance, and the
   process-level guarantees (a forked child runs; a failed thread start is a smaller team).
   Each check compares against a plain scalar formula or a finite difference written here.
   Build and run: make -C csrc/tests test (SAN=1: under ASan + UBSan). */
#define _GNU_SOURCE 1   /* pthread_setaffinity_np, CPU_SET */
#include "fastmlp.h"
#include "fm_internal.h"
#include "gemm/gemm.h"
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int g_fail, g_checks;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        ++g_checks;                                                                        \
        if (!(cond)) {                                                                     \
            ++g_fail;                                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                           \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static double urand(void) {   /* uniform in [-1, 1) */
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(g_rng >> 11) / 4503599627370496.0 - 1.0;
}
static void fill(double *x, size_t n, double scale) {
    for (size_t i = 0; i < n; ++i) x[i] = scale * urand();
}
static int close_rel(double a, double b, double tol) {
    return fabs(a - b) <= tol * (1.0 + fabs(a) + fabs(b));
}

/* ---- activations ------------------------------------------------------------------------ */
static double act_ref(int act, double z, double leaky, double alpha) {
    switch (act) {
    case FM_ACT_STEP: return z > 0 ? 1 : (z < 0 ? 0 : (z == 0 ? 0.5 : z));
    case FM_ACT_SIGN: return z > 0 ? 1 : (z < 0 ? -1 : (z == 0 ? 0 : z));
    case FM_ACT_LINEAR: return z;
    case FM_ACT_PIECEWISE: return z >= 0.5 ? 1 : (z <= -0.5 ? 0 : z + 0.5);
    case FM_ACT_SIGMOID: return 1 / (1 + exp(-z));
    case FM_ACT_TANH: return tanh(z);
    case FM_ACT_RELU: return z > 0 ? z : (z != z ? z : 0);
    case FM_ACT_LEAKY: return z >= 0 ? z : leaky * z;
    case FM_ACT_PRELU: return z >= 0 ? z : alpha * z;
    }
    return NAN;
}

static void test_activations(void) {
    enum { R = 6, C = 9 };
    double z[R * C], a[R * C], d[R * C], alpha[C];
    float zf[R * C], af[R * C];
    fill(z, R * C, 3.0);
    fill(alpha, C, 0.5);
    z[0] = 0.0;
    z[1] = 0.5;
    z[2] = -0.5;
    for (int act = 0; act < FM_ACT_SOFTMAX; ++act) {
        CHECK(fm_act_forward_d(act, R, C, z, C, a, C, 0.03, alpha, 1) == FM_OK, "act %d", act);
        for (int i = 0; i < R * C; ++i)
            CHECK(close_rel(a[i], act_ref(act, z[i], 0.03, alpha[i % C]), 1e-14),
                  "act %d z=%g: %g", act, z[i], a[i]);
        for (int i = 0; i < R * C; ++i) zf[i] = (float)z[i];
        float alphaf[C];
        for (int j = 0; j < C; ++j) alphaf[j] = (float)alpha[j];
        CHECK(fm_act_forward_s(act, R, C, zf, C, af, C, 0.03, alphaf, 1) == FM_OK, "act %d", act);
        for (int i = 0; i < R * C; ++i)
            CHECK(close_rel(af[i], act_ref(act, zf[i], 0.03f, alphaf[i % C]), 1e-6),
                  "float act %d z=%g: %g", act, zf[i], af[i]);
        /* NaN in, NaN out (as the reference): relu, leaky, step, sign, piecewise included */
        double zn[3] = {NAN, 1.0, -1.0}, an[3];
        CHECK(fm_act_forward_d(act, 1, 3, zn, 3, an, 3, 0.03, alpha, 1) == FM_OK, "nan");
        CHECK(isnan(an[0]) && !isnan(an[1]) && !isnan(an[2]), "act %d: NaN gives %g", act, an[0]);
        float znf[2] = {NAN, 2.0f}, anf[2];
        CHECK(fm_act_forward_s(act, 1, 2, znf, 2, anf, 2, 0.03, alphaf, 1) == FM_OK, "nan");
        CHECK(isnan(anf[0]) && !isnan(anf[1]), "float act %d: NaN gives %g", act, anf[0]);
        /* sigma' against a central difference, away from the kinks */
        if (act == FM_ACT_STEP || act == FM_ACT_SIGN) continue;
        CHECK(fm_act_deriv_d(act, R, C, z, C, a, C, d, C, 0.03, alpha, 1) == FM_OK, "deriv");
        for (int i = 3; i < R * C; ++i) {
            const double h = 1e-6;
            if (fabs(z[i]) < 1e-3 || fabs(fabs(z[i]) - 0.5) < 1e-3) continue;
            double fd = (act_ref(act, z[i] + h, 0.03, alpha[i % C]) -
                         act_ref(act, z[i] - h, 0.03, alpha[i % C])) / (2 * h);
            CHECK(close_rel(d[i], fd, 1e-6), "act %d deriv at %g: %g vs %g", act, z[i], d[i], fd);
        }
    }
    /* softmax: rows sum to 1, a NaN poisons its row only, 0 columns touch nothing */
    CHECK(fm_act_forward_d(FM_ACT_SOFTMAX, R, C, z, C, a, C, 0, NULL, 1) == FM_OK, "softmax");
    for (int i = 0; i < R; ++i) {
        double s = 0;
        for (int j = 0; j < C; ++j) s += a[i * C + j];
        CHECK(close_rel(s, 1.0, 1e-14), "softmax row %d sums to %g", i, s);
    }
    double zs[4] = {1, NAN, 2, 3}, as[4];
    fm_act_forward_d(FM_ACT_SOFTMAX, 2, 2, zs, 2, as, 2, 0, NULL, 1);
    CHECK(isnan(as[0]) && isnan(as[1]) && !isnan(as[2]) && !isnan(as[3]), "softmax NaN row");
    double one = 7;
    CHECK(fm_act_forward_d(FM_ACT_SOFTMAX, 1, 0, &one, 0, &one, 0, 0, NULL, 1) == FM_OK &&
          one == 7, "softmax over 0 columns");
}

/* the element-wise kernels split rows over threads: every thread count, the same bits */
static void test_threads_elementwise(void) {
    enum { R = 300, C = 70 };
    double *z = malloc(sizeof(double) * R * C), *a1 = malloc(sizeof(double) * R * C),
           *a4 = malloc(sizeof(double) * R * C);
    fill(z, R * C, 4.0);
    ptrdiff_t thr = fm_get_parallel_threshold();
    fm_set_parallel_threshold(0);
    for (int act = 0; act <= FM_ACT_SOFTMAX; ++act) {
        if (act == FM_ACT_PRELU) continue;
        fm_act_forward_d(act, R, C, z, C, a1, C, FM_LEAKY_ALPHA, NULL, 1);
        fm_act_forward_d(act, R, C, z, C, a4, C, FM_LEAKY_ALPHA, NULL, 4);
        CHECK(memcmp(a1, a4, sizeof(double) * R * C) == 0, "act %d: 1 vs 4 threads", act);
    }
    fm_set_parallel_threshold(thr);
    free(z);
    free(a1);
    free(a4);
}

/* ---- losses -------------------------------------------------------------------------------- */
static double loss_value(int loss, int act, int n, int m, const double *Y, const double *z) {
    double *a = malloc(sizeof(double) * n * m), *rl = malloc(sizeof(double) * n), v = NAN;
    fm_act_forward_d(act, n, m, z, m, a, m, FM_LEAKY_ALPHA, NULL, 1);
    fm_loss_d(loss, act, n, m, Y, z, a, NULL, FM_LEAKY_ALPHA, NULL, rl, &v, 1);
    free(a);
    free(rl);
    return v;
}

static void test_losses(void) {
    enum { N = 5, M = 4 };
    const int cases[][2] = {{FM_LOSS_SQUARE, FM_ACT_LINEAR}, {FM_LOSS_SQUARE, FM_ACT_TANH},
                            {FM_LOSS_SQUARE, FM_ACT_SIGMOID}, {FM_LOSS_LOGISTIC, FM_ACT_LINEAR},
                            {FM_LOSS_CROSS_ENTROPY, FM_ACT_SOFTMAX},
                            {FM_LOSS_SQUARE, FM_ACT_SOFTMAX}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        const int loss = cases[c][0], act = cases[c][1];
        double z[N * M], Y[N * M], a[N * M], delta[N * M], rl[N], v;
        fill(z, N * M, 2.0);
        for (int i = 0; i < N; ++i)
            for (int j = 0; j < M; ++j) {
                double r = urand();
                if (loss == FM_LOSS_LOGISTIC) Y[i * M + j] = r < 0 ? -1 : 1;
                else if (loss == FM_LOSS_CROSS_ENTROPY) Y[i * M + j] = j == i % M;
                else Y[i * M + j] = r;
            }
        fm_act_forward_d(act, N, M, z, M, a, M, FM_LEAKY_ALPHA, NULL, 1);
        CHECK(fm_loss_d(loss, act, N, M, Y, z, a, delta, FM_LEAKY_ALPHA, NULL, rl, &v, 1) == FM_OK, "loss");
        /* the value: the mean over rows of the per-sample cost */
        double ref = 0;
        for (int i = 0; i < N; ++i)
            for (int j = 0; j < M; ++j) {
                double y = Y[i * M + j], aa = a[i * M + j];
                if (loss == FM_LOSS_SQUARE) ref += (y - aa) * (y - aa);
                else if (loss == FM_LOSS_LOGISTIC) ref += log1p(exp(-y * aa));
                else ref -= y * log(aa);
            }
        ref /= N;
        CHECK(close_rel(v, ref, 1e-12), "loss %d/%d value %.17g vs %.17g", loss, act, v, ref);
        /* delta^L = dC/dz^L, against a central difference of the value */
        for (int k = 0; k < N * M; ++k) {
            const double h = 1e-6, z0 = z[k];
            z[k] = z0 + h;
            double up = loss_value(loss, act, N, M, Y, z);
            z[k] = z0 - h;
            double dn = loss_value(loss, act, N, M, Y, z);
            z[k] = z0;
            CHECK(close_rel(delta[k], (up - dn) / (2 * h), 1e-6), "loss %d/%d delta[%d] %g vs %g",
                  loss, act, k, delta[k], (up - dn) / (2 * h));
        }
    }
    /* hinge: max(0, 1 - y a) summed over units, its subgradient -y/n where the margin is < 1 */
    double z[2] = {0.3, 2.0}, Y[2] = {1, 1}, a[2], delta[2], rl[1], v;
    fm_act_forward_d(FM_ACT_LINEAR, 1, 2, z, 2, a, 2, 0, NULL, 1);
    fm_loss_d(FM_LOSS_HINGE, FM_ACT_LINEAR, 1, 2, Y, z, a, delta, 0, NULL, rl, &v, 1);
    CHECK(close_rel(v, 0.7, 1e-15) && delta[0] == -1 && delta[1] == 0, "hinge %g %g %g", v,
          delta[0], delta[1]);
}

/* ---- the network ------------------------------------------------------------------------- */
typedef struct {
    fm_net net;
    fm_workspace ws;
    double *theta, *grad, *work;
} netbox;

static void make_net(netbox *b, int L, const int *sizes, const int *acts, int loss, int batch) {
    memset(b, 0, sizeof *b);
    b->net.n_layers = L;
    for (int l = 0; l <= L; ++l) b->net.sizes[l] = sizes[l];
    for (int l = 1; l <= L; ++l) b->net.acts[l] = acts[l - 1];
    b->net.loss = loss;
    b->net.leaky = FM_LEAKY_ALPHA;
    CHECK(fm_net_init(&b->net) == FM_OK, "net_init");
    CHECK(fm_workspace_init(&b->net, batch, sizeof(double), &b->ws) == FM_OK, "workspace_init");
    b->theta = calloc((size_t)b->net.n_params, sizeof(double));
    b->grad = calloc((size_t)b->net.n_params, sizeof(double));
    b->work = calloc((size_t)b->ws.size, sizeof(double));
    fill(b->theta, (size_t)b->net.n_params, 0.7);
    for (int l = 1; l <= L; ++l)
        if (b->net.alpha_off[l] >= 0)
            for (int j = 0; j < sizes[l]; ++j) b->theta[b->net.alpha_off[l] + j] = 0.25;
}
static void free_net(netbox *b) {
    free(b->theta);
    free(b->grad);
    free(b->work);
}

static double net_loss(netbox *b, const double *X, const double *Y, int n) {
    double v = NAN;
    double *g = calloc((size_t)b->net.n_params, sizeof(double));
    fm_forward_d(&b->net, b->theta, X, b->net.sizes[0], n, b->work, &b->ws, 1);
    fm_backward_d(&b->net, b->theta, X, b->net.sizes[0], Y, b->net.sizes[b->net.n_layers], n, g,
                  b->work, &b->ws, &v, 1);
    free(g);
    return v;
}

static void test_network(void) {
    enum { N = 7 };
    const int sizes[] = {3, 6, 5, 2};
    const int acts[] = {FM_ACT_TANH, FM_ACT_PRELU, FM_ACT_LINEAR};
    netbox b;
    make_net(&b, 3, sizes, acts, FM_LOSS_SQUARE, N);
    double X[N * 3], Y[N * 2];
    fill(X, N * 3, 1.0);
    fill(Y, N * 2, 1.0);
    /* forward against plain loops */
    CHECK(fm_forward_d(&b.net, b.theta, X, 3, N, b.work, &b.ws, 1) == FM_OK, "forward");
    double prev[N * 6], cur[N * 6];
    memcpy(prev, X, sizeof X);
    for (int l = 1; l <= 3; ++l) {
        const int nin = sizes[l - 1], nout = sizes[l];
        for (int i = 0; i < N; ++i)
            for (int j = 0; j < nout; ++j) {
                double s = b.theta[b.net.b_off[l] + j];
                for (int k = 0; k < nin; ++k) s += prev[i * nin + k] * b.theta[b.net.w_off[l] + k * nout + j];
                double al = b.net.alpha_off[l] >= 0 ? b.theta[b.net.alpha_off[l] + j] : 0;
                cur[i * nout + j] = act_ref(acts[l - 1], s, FM_LEAKY_ALPHA, al);
            }
        for (int i = 0; i < N * nout; ++i)
            CHECK(close_rel(b.work[b.ws.a_off[l] + i], cur[i], 1e-13), "a^%d[%d]", l, i);
        memcpy(prev, cur, sizeof(double) * N * nout);
    }
    /* every gradient against a central difference of the loss */
    double v;
    CHECK(fm_backward_d(&b.net, b.theta, X, 3, Y, 2, N, b.grad, b.work, &b.ws, &v, 1) == FM_OK,
          "backward");
    for (ptrdiff_t k = 0; k < b.net.n_params; ++k) {
        const double h = 1e-6, t0 = b.theta[k];
        b.theta[k] = t0 + h;
        double up = net_loss(&b, X, Y, N);
        b.theta[k] = t0 - h;
        double dn = net_loss(&b, X, Y, N);
        b.theta[k] = t0;
        CHECK(close_rel(b.grad[k], (up - dn) / (2 * h), 1e-6), "grad[%td] %g vs %g", k,
              b.grad[k], (up - dn) / (2 * h));
    }
    free_net(&b);
}

/* a team of threads, one region per call: bitwise the result of one thread */
static void test_threads_network(void) {
    enum { N = 64, E = 3 };
    const int sizes[] = {20, 64, 32, 4};
    const int acts[] = {FM_ACT_RELU, FM_ACT_SIGMOID, FM_ACT_SOFTMAX};
    double X[N * 20], Y[N * 4] = {0};
    fill(X, N * 20, 1.0);
    for (int i = 0; i < N; ++i) Y[i * 4 + i % 4] = 1;
    double tmf = fm_get_team_min_flops();
    fm_set_team_min_flops(0);
    double *result[2];
    for (int r = 0; r < 2; ++r) {
        g_rng = 99;
        netbox b;
        make_net(&b, 3, sizes, acts, FM_LOSS_CROSS_ENTROPY, 16);
        fm_opt opt = {.kind = FM_OPT_ADAM, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
        double *s1 = calloc((size_t)b.net.n_params, sizeof(double));
        double *s2 = calloc((size_t)b.net.n_params, sizeof(double));
        int64_t perm[N];
        double losses[E];
        int done = 0;
        fm_status st = fm_train_epochs_d(&b.net, &opt, b.theta, b.grad, s1, s2, X, Y, NULL, N, 16,
                                         0, 1, 7, 0, E, perm, b.work, &b.ws, losses, &done, NULL,
                                         r == 0 ? 1 : 3);
        CHECK(st == FM_OK && done == E, "train_epochs: status %d, %d epochs", st, done);
        result[r] = malloc(sizeof(double) * (size_t)b.net.n_params);
        memcpy(result[r], b.theta, sizeof(double) * (size_t)b.net.n_params);
        free(s1);
        free(s2);
        free_net(&b);
        if (r == 1) {
            CHECK(memcmp(result[0], result[1], sizeof(double) * (size_t)b.net.n_params) == 0,
                  "1 thread vs 3 threads differ");
        }
    }
    free(result[0]);
    free(result[1]);
    fm_set_team_min_flops(tmf);
}

/* inference weights packed once: the forward pass reads them and gives bitwise fm_forward's
   outputs, for 1 and 3 threads and batches that take the direct and the packed paths; a layer
   with few outputs (read in place for every batch) is not packed by the vector kernel sets */
static void test_packed_forward(void) {
    enum { NMAX = 300 };
    const int sizes[] = {70, 130, 290, 5};
    const int acts[] = {FM_ACT_RELU, FM_ACT_TANH, FM_ACT_SOFTMAX};
    netbox b;
    make_net(&b, 3, sizes, acts, FM_LOSS_CROSS_ENTROPY, NMAX);
    fill(b.theta, (size_t)b.net.n_params, 0.2);
    fm_packed pk;
    CHECK(fm_packed_plan(&b.net, sizeof(double), &pk) == FM_OK, "packed_plan");
    CHECK(fm_packed_plan(&b.net, 3, &pk) == FM_ERR_ARG, "packed_plan: bad element size");
    CHECK(fm_packed_plan(&b.net, sizeof(double), &pk) == FM_OK && pk.key != NULL, "key");
    /* a layer is packed exactly where the kernel set packs its product (the portable set
       packs every one, the vector sets none with few outputs) */
    for (int l = 1; l <= 3; ++l)
        CHECK((pk.off[l] >= 0) == (fm_dgemm_packed_size(sizes[l - 1], sizes[l], NULL) > 0),
              "packed layer %d: offset %td", l, pk.off[l]);
    CHECK(pk.off[1] >= 0 && pk.off[2] > pk.off[1] && pk.size > 0,
          "packed layers: %td %td %td", pk.off[1], pk.off[2], pk.off[3]);
    double *buf = aligned_alloc(64, ((size_t)pk.size * sizeof(double) + 63) / 64 * 64);
    fm_pack_weights_d(&b.net, b.theta, &pk, buf);
    double *X = malloc(sizeof(double) * NMAX * 70), *ref = malloc(sizeof(double) * NMAX * 5);
    fill(X, (size_t)NMAX * 70, 1.0);
    const int ns[] = {1, 3, 17, NMAX};
    const double tmf = fm_get_team_min_flops();
    fm_set_team_min_flops(0);
    for (int q = 0; q < 4; ++q)
        for (int nt = 1; nt <= 3; nt += 2) {
            const int n = ns[q];
            CHECK(fm_forward_d(&b.net, b.theta, X, 70, n, b.work, &b.ws, 1) == FM_OK, "fwd");
            memcpy(ref, b.work + b.ws.a_off[3], sizeof(double) * (size_t)n * 5);
            memset(b.work, 0, sizeof(double) * (size_t)b.ws.size);
            CHECK(fm_forward_packed_d(&b.net, b.theta, &pk, buf, X, 70, n, b.work, &b.ws, nt) ==
                      FM_OK, "forward_packed");
            CHECK(memcmp(ref, b.work + b.ws.a_off[3], sizeof(double) * (size_t)n * 5) == 0,
                  "packed forward differs bitwise: n=%d threads=%d", n, nt);
        }
    /* the packed copy is what the pass reads: other packed weights, other outputs */
    for (ptrdiff_t i = 0; i < pk.size; ++i) buf[i] *= 0.5;
    fm_forward_packed_d(&b.net, b.theta, &pk, buf, X, 70, NMAX, b.work, &b.ws, 1);
    CHECK(memcmp(ref, b.work + b.ws.a_off[3], sizeof(double) * NMAX * 5) != 0,
          "the packed weights were not read");
    fm_set_team_min_flops(tmf);
    free(buf);
    free(X);
    free(ref);
    free_net(&b);
}

#include "test_nn_forward.inc"

/* ---- optimisers ------------------------------------------------------------------------------ */
static void test_optim(void) {
    /* a one-layer net (2 -> 3) is just a 9-parameter vector here */
    const int sizes[] = {2, 3};
    const int acts[] = {FM_ACT_LINEAR};
    netbox b;
    make_net(&b, 1, sizes, acts, FM_LOSS_SQUARE, 1);
    const int P = (int)b.net.n_params, W = (int)b.net.n_weights;
    double th0[9], g[9], s1[9], s2[9], m[9] = {0}, v[9] = {0};
    fill(th0, 9, 1.0);
    fill(g, 9, 1.0);
    for (int kind = 0; kind < 5; ++kind) {   /* sgd, momentum, nesterov, adam, adam efficient */
        fm_opt o = {.kind = kind < 3 ? FM_OPT_SGD : (kind == 3 ? FM_OPT_ADAM : FM_OPT_ADAM_EFFICIENT),
                    .lr = 0.1, .momentum = kind == 1 || kind == 2 ? 0.9 : 0, .nesterov = kind == 2,
                    .weight_decay = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
        memcpy(b.theta, th0, sizeof th0);
        fill(s1, 9, 0.1);
        for (int i = 0; i < 9; ++i) s2[i] = fabs(s1[i]);
        memcpy(m, s1, sizeof m);
        memcpy(v, s2, sizeof v);
        CHECK(fm_update_d(&b.net, &o, b.theta, g, s1, s2, 1) == FM_OK && o.t == 1, "update %d", kind);
        for (int i = 0; i < P; ++i) {
            double gi = g[i] + (i < W ? 0.01 * th0[i] : 0), ref;
            if (kind == 0) ref = th0[i] - 0.1 * gi;
            else if (kind < 3) {
                double vel = 0.9 * m[i] + gi;
                ref = th0[i] - 0.1 * (kind == 2 ? gi + 0.9 * vel : vel);
            } else {
                double mm = 0.9 * m[i] + 0.1 * gi, vv = 0.999 * v[i] + 0.001 * gi * gi;
                ref = kind == 3 ? th0[i] - 0.1 * (mm / 0.1) / (sqrt(vv / 0.001) + 1e-8)
                                : th0[i] - 0.1 * sqrt(0.001) / 0.1 * mm / (sqrt(vv) + 1e-8);
            }
            CHECK(close_rel(b.theta[i], ref, 1e-12), "update %d [%d]: %.17g vs %.17g", kind, i,
                  b.theta[i], ref);
        }
    }
    free_net(&b);
    /* float32: lr * grad overflows although both are finite; Adam's grad^2 overflows: the
       update is refused and nothing changes (parameters, state, step count) */
    fm_net net = {.n_layers = 1, .sizes = {2, 3}, .acts = {0, FM_ACT_LINEAR}, .loss = 0};
    fm_net_init(&net);
    for (int kind = 0; kind < 3; ++kind) {
        float th[9], gr[9], a1[9], a2[9], th_b[9], a1_b[9], a2_b[9];
        for (int i = 0; i < 9; ++i) { th[i] = 1; gr[i] = i == 4 ? 1e30f : 0.5f; a1[i] = a2[i] = 0; }
        memcpy(th_b, th, sizeof th);
        memcpy(a1_b, a1, sizeof a1);
        memcpy(a2_b, a2, sizeof a2);
        fm_opt o = {.kind = kind == 2 ? FM_OPT_ADAM : FM_OPT_SGD, .lr = kind == 2 ? 1e-3 : 1e10,
                    .momentum = kind == 1 ? 0.9 : 0, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
        fm_status st = fm_update_s(&net, &o, th, gr, a1, a2, 1);
        CHECK(st == FM_ERR_NONFINITE, "float overflow %d: status %d", kind, st);
        CHECK(memcmp(th, th_b, sizeof th) == 0 && memcmp(a1, a1_b, sizeof a1) == 0 &&
              memcmp(a2, a2_b, sizeof a2) == 0 && o.t == 0, "float overflow %d changed state", kind);
    }
}

/* a training step whose update would overflow changes nothing, fused or not */
static void test_divergence_guard(void) {
    enum { N = 8 };
    for (int fused = 0; fused < 2; ++fused) {
        const int sizes[] = {fused ? 80 : 3, fused ? 64 : 8, 1};   /* >= 4096 weights: fused */
        const int acts[] = {FM_ACT_RELU, FM_ACT_LINEAR};
        netbox b;
        make_net(&b, 2, sizes, acts, FM_LOSS_SQUARE, N);
        float *th = malloc(sizeof(float) * (size_t)b.net.n_params);
        float *gr = calloc((size_t)b.net.n_params, sizeof(float));
        for (ptrdiff_t i = 0; i < b.net.n_params; ++i) th[i] = (float)b.theta[i];
        fm_workspace ws;
        fm_workspace_init(&b.net, N, sizeof(float), &ws);
        float *work = calloc((size_t)ws.size, sizeof(float));
        float X[N * 80], Y[N];
        for (int i = 0; i < N * 80; ++i) X[i] = (float)(100 * urand());
        for (int i = 0; i < N; ++i) Y[i] = (float)urand();
        for (int e = 0; e < 40; ++e) {   /* lr 1e3, then ever larger: it must diverge */
            fm_opt o = {.kind = FM_OPT_SGD, .lr = 1e3 * pow(10, e), .weight_decay = 0};
            CHECK(fm_step_is_fused(&b.net, &o, N) == fused, "fused %d", fused);
            float *before = malloc(sizeof(float) * (size_t)b.net.n_params);
            memcpy(before, th, sizeof(float) * (size_t)b.net.n_params);
            double loss;
            fm_status st = fm_train_step_s(&b.net, &o, th, gr, NULL, NULL, X, Y, NULL, N, work, &ws,
                                           &loss, 1);
            int finite = fm_all_finite_s(th, b.net.n_params);
            CHECK(finite, "fused %d: step %d left non-finite parameters", fused, e);
            if (st == FM_ERR_NONFINITE) {
                CHECK(memcmp(before, th, sizeof(float) * (size_t)b.net.n_params) == 0 && o.t == 0,
                      "fused %d: the refused step changed the parameters", fused);
                free(before);
                break;
            }
            CHECK(st == FM_OK, "status %d", st);
            free(before);
        }
        free(th);
        free(gr);
        free(work);
        free_net(&b);
    }
}

/* ---- processes: fork, thread-start failure, the spin of a wait ------------------------------ */
#include "test_nn_process.inc"

/* Cross-entropy (softmax) rows: a row's cost is bitwise the same in any batch and at any place
   in it (the exponentials of up to 256 rows are taken by one vector call), and delta is
   (P - Y) / n exactly; every class count around the batched form's limit (128) */
static void test_cross_entropy_rows(void) {
    enum { N = 260, MMAX = 300 };   /* 260 rows: past a 256-row chunk of one class */
    static const int ms[] = {1, 2, 3, 10, 17, 127, 128, 129, 300};
    static double z[N * MMAX], a[N * MMAX], Y[N * MMAX], d[N * MMAX], rl[N], rlf[N], d1[MMAX];
    static float zf[N * MMAX], af[N * MMAX], Yf[N * MMAX], df[N * MMAX], d1f[MMAX];
    for (size_t t = 0; t < sizeof ms / sizeof ms[0]; ++t) {
        const int m = ms[t];
        fill(z, (size_t)N * m, 8.0);
        for (int i = 0; i < N * m; ++i) { Y[i] = 0; zf[i] = (float)z[i]; }
        for (int i = 0; i < N; ++i) Y[i * m + (i * 7) % m] = 1;
        for (int i = 0; i < N * m; ++i) Yf[i] = (float)Y[i];
        double v, v1, rl1;
        CHECK(fm_act_forward_d(FM_ACT_SOFTMAX, N, m, z, m, a, m, 0, NULL, 1) == FM_OK, "sm");
        CHECK(fm_act_forward_s(FM_ACT_SOFTMAX, N, m, zf, m, af, m, 0, NULL, 1) == FM_OK, "sm");
        CHECK(fm_loss_d(FM_LOSS_CROSS_ENTROPY, FM_ACT_SOFTMAX, N, m, Y, z, a, d, 0, NULL, rl, &v,
                        1) == FM_OK, "ce");
        int same = 1;
        for (int i = 0; i < N; ++i) {
            CHECK(fm_loss_d(FM_LOSS_CROSS_ENTROPY, FM_ACT_SOFTMAX, 1, m, Y + i * m, z + i * m,
                            a + i * m, d1, 0, NULL, &rl1, &v1, 1) == FM_OK, "ce row");
            same &= memcmp(&rl1, &rl[i], sizeof rl1) == 0;
            for (int j = 0; j < m; ++j)
                same &= d[i * m + j] == (a[i * m + j] - Y[i * m + j]) * (1.0 / N);
        }
        CHECK(same, "cross-entropy m=%d: a row alone and in a batch differ", m);
        CHECK(fm_loss_s(FM_LOSS_CROSS_ENTROPY, FM_ACT_SOFTMAX, N, m, Yf, zf, af, df, 0, NULL, rlf,
                        &v, 1) == FM_OK, "ce f32");
        same = 1;
        for (int i = 0; i < N; ++i) {
            CHECK(fm_loss_s(FM_LOSS_CROSS_ENTROPY, FM_ACT_SOFTMAX, 1, m, Yf + i * m, zf + i * m,
                            af + i * m, d1f, 0, NULL, &rl1, &v1, 1) == FM_OK, "ce row f32");
            same &= memcmp(&rl1, &rlf[i], sizeof rl1) == 0;
            for (int j = 0; j < m; ++j)
                same &= df[i * m + j] ==
                        (float)(((double)af[i * m + j] - (double)Yf[i * m + j]) * (1.0 / N));
        }
        CHECK(same, "float cross-entropy m=%d: a row alone and in a batch differ", m);
        /* against the definition: lse(z) - z_y */
        double mx = z[0], s = 0;
        for (int j = 1; j < m; ++j) mx = z[j] > mx ? z[j] : mx;
        for (int j = 0; j < m; ++j) s += exp(z[j] - mx);
        CHECK(close_rel(rl[0], mx + log(s) - z[0], 1e-13), "ce m=%d row 0: %.17g", m, rl[0]);
    }
}

/* fm_maxabs_?: max |x_i| (+inf where any x_i is NaN or infinite) for every length around its
   lane blocks (32 / 64 lanes), the maximum in every position class */
static void test_maxabs(void) {
    enum { NMAX = 300 };
    double x[NMAX];
    float xf[NMAX];
    for (int n = 0; n <= NMAX; ++n) {
        fill(x, (size_t)n, 1.0);
        for (int i = 0; i < n; ++i) xf[i] = (float)x[i];
        const int at = n ? (int)((unsigned)(n * 7 + 3) % (unsigned)n) : 0;
        if (n) { x[at] = -5.0 - n; xf[at] = (float)x[at]; }   /* the largest, negative */
        double want = 0;
        for (int i = 0; i < n; ++i) want = fabs(x[i]) > want ? fabs(x[i]) : want;
        double wantf = 0;
        for (int i = 0; i < n; ++i) wantf = fabsf(xf[i]) > wantf ? fabsf(xf[i]) : wantf;
        CHECK(fm_maxabs_d(x, n) == want, "maxabs_d n=%d: %g vs %g", n, fm_maxabs_d(x, n), want);
        CHECK(fm_maxabs_s(xf, n) == wantf, "maxabs_s n=%d: %g vs %g", n, fm_maxabs_s(xf, n),
              wantf);
        if (!n) continue;
        const int bad = (int)((unsigned)(n * 13 + 1) % (unsigned)n);
        x[bad] = (n & 1) ? NAN : -INFINITY;
        xf[bad] = (float)x[bad];
        CHECK(isinf(fm_maxabs_d(x, n)), "maxabs_d n=%d with a non-finite entry", n);
        CHECK(isinf(fm_maxabs_s(xf, n)), "maxabs_s n=%d with a non-finite entry", n);
    }
    const double sub[3] = {-0.0, 4.9e-324, -0.0};
    CHECK(fm_maxabs_d(sub, 3) == 4.9e-324 && fm_maxabs_d(sub, 1) == 0, "maxabs_d subnormal/-0");
}

int main(void) {
    test_thread_start_failure();   /* first: before this process opens a parallel region */
    test_activations();
    test_threads_elementwise();
    test_losses();
    test_cross_entropy_rows();
    test_network();
    test_threads_network();
    test_packed_forward();
    test_act_rows();
    test_forward_fused();
    test_optim();
    test_maxabs();
    test_divergence_guard();
    test_fork_after_openmp();
    test_event_spin();
    printf("test_nn: %d checks, %d failed\n", g_checks, g_fail);
    return g_fail != 0;
}
