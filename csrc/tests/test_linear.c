/* test_linear.c -- the single-layer linear kernels (csrc/linear) against a plain reference
   of scikit-learn's SGD perceptron written here without the scale factor, the lanes or the
   cached norms; the same result for any thread count; CSR equal to dense; the chapter's
   rule converging on a separable set; a refused step changing nothing. */
#include "linear/linear.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, \
    __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

enum { N = 120, D = 9, K = 3 };
static double X[N * D], Y[K * N], C[K * N];

static double urand(unsigned *s) { *s = *s * 1103515245u + 12345u; return (*s >> 8) / 16777216.0; }

static void make_data(void) {
    unsigned s = 7;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) X[i * D + j] = urand(&s) < 0.4 ? 0.0 : urand(&s) * 2 - 1;
        for (int k = 0; k < K; k++) {
            Y[k * N + i] = (X[i * D + k] + 0.3 * X[i * D + k + 3] > 0) ? 1.0 : -1.0;
            C[k * N + i] = 0.5 + urand(&s);
        }
    }
}

/* scikit-learn's rule, written plainly: l2/l1/elasticnet, no stopping test, given order */
static void reference(int k, int pen, double alpha, double l1r, double eta, int epochs,
                      int shuffle, uint32_t seed, double *w, double *b) {
    double q[D] = {0}, u = 0;
    int32_t order[N];
    for (int i = 0; i < N; i++) order[i] = i;
    memset(w, 0, sizeof(double) * D);
    *b = 0;
    double l1 = pen == FM_PEN_L2 ? 0.0 : (pen == FM_PEN_L1 ? 1.0 : l1r);
    for (int e = 0; e < epochs; e++) {
        if (shuffle) fm_lin_shuffle(order, N, seed);
        for (int t = 0; t < N; t++) {
            const int i = order[t];
            double p = *b;
            for (int j = 0; j < D; j++) p += w[j] * X[i * D + j];
            const double y = Y[k * N + i];
            if (pen >= FM_PEN_L2) {
                const double f = fmax(0.0, 1.0 - (1.0 - l1) * eta * alpha);
                for (int j = 0; j < D; j++) w[j] *= f;
            }
            if (y * p <= 0) {
                const double upd = eta * y * C[k * N + i];
                for (int j = 0; j < D; j++) w[j] += upd * X[i * D + j];
                *b += upd;
            }
            if (pen == FM_PEN_L1 || pen == FM_PEN_ELASTICNET) {
                u += l1 * eta * alpha;
                for (int j = 0; j < D; j++) {
                    const double z = w[j];
                    if (z > 0) w[j] = fmax(0.0, w[j] - (u + q[j]));
                    else if (z < 0) w[j] = fmin(0.0, w[j] + (u - q[j]));
                    q[j] += w[j] - z;
                }
            }
        }
    }
}

typedef struct {
    double w[K * D], q[K * D], ws[K * D], qs[K * D];
    int32_t order[K * N];
    fm_lin_unit u[K];
} units_t;

static void setup(units_t *s, int shuffle) {
    memset(s, 0, sizeof *s);
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < N; i++) s->order[k * N + i] = i;
        fm_lin_unit *u = &s->u[k];
        u->w = s->w + k * D; u->q = s->q + k * D;
        u->w_snap = s->ws + k * D; u->q_snap = s->qs + k * D;
        u->y = Y + k * N; u->c = C + k * N; u->order = s->order + k * N;
        u->seed = 1000u + (uint32_t)k; u->shuffle = shuffle;
        u->wscale = 1.0; u->best = INFINITY; u->fail_at = -1;
    }
}

static double xabs[N];

static fm_lin_data data(int pen, double alpha, double l1r) {
    fm_lin_data d = {0};
    d.X = X; d.n = N; d.d = D; d.xabs = xabs;
    d.rule = FM_LIN_SGD; d.penalty = pen; d.alpha = alpha; d.l1_ratio = l1r; d.eta0 = 0.7;
    d.intercept_decay = 1.0; d.gain = 1.0; d.fit_intercept = 1; d.tol = -INFINITY;
    d.n_iter_no_change = 5;
    fm_lin_row_abs_d(&d, xabs);
    return d;
}

static void test_against_reference(void) {
    const int pens[4] = {FM_PEN_NONE, FM_PEN_L2, FM_PEN_L1, FM_PEN_ELASTICNET};
    for (int pi = 0; pi < 4; pi++)
        for (int shuffle = 0; shuffle < 2; shuffle++) {
            static units_t s;
            setup(&s, shuffle);
            fm_lin_data d = data(pens[pi], 0.01, 0.4);
            fm_lin_epochs_d(&d, s.u, K, 6, 2);
            for (int k = 0; k < K; k++) {
                fm_lin_unscale_d(&s.u[k], D);
                double w[D], b;
                reference(k, pens[pi], 0.01, 0.4, 0.7, 6, shuffle, 1000u + (uint32_t)k, w, &b);
                double err = fabs(b - s.u[k].intercept);
                for (int j = 0; j < D; j++) err = fmax(err, fabs(w[j] - s.w[k * D + j]));
                CHECK(err < 1e-12, "penalty %d shuffle %d unit %d: max error %g", pens[pi],
                      shuffle, k, err);
                CHECK(s.u[k].n_iter == 6, "n_iter %d", s.u[k].n_iter);
            }
        }
}

static void test_threads_and_csr(void) {
    static units_t a, b, c;
    fm_lin_data d = data(FM_PEN_ELASTICNET, 0.01, 0.4);
    setup(&a, 1); setup(&b, 1); setup(&c, 1);
    fm_lin_epochs_d(&d, a.u, K, 5, 1);
    fm_lin_epochs_d(&d, b.u, K, 5, 3);
    CHECK(memcmp(a.w, b.w, sizeof a.w) == 0, "1 and 3 threads differ");
    /* CSR of the same rows: without an intercept and with l2 only, the same weights */
    static double data_[N * D];
    static int32_t idx[N * D];
    static int64_t ptr[N + 1];
    int64_t nz = 0;
    for (int i = 0; i < N; i++) {
        ptr[i] = nz;
        for (int j = 0; j < D; j++)
            if (X[i * D + j] != 0) { data_[nz] = X[i * D + j]; idx[nz++] = j; }
    }
    ptr[N] = nz;
    fm_lin_data dd = data(FM_PEN_L2, 0.01, 0.0), ds = dd;
    dd.fit_intercept = ds.fit_intercept = 0;
    ds.X = data_; ds.indices = idx; ds.indptr = ptr; ds.xabs = NULL;
    setup(&a, 1); setup(&c, 1);
    fm_lin_epochs_d(&dd, a.u, K, 5, 2);
    fm_lin_epochs_d(&ds, c.u, K, 5, 2);
    double err = 0;
    for (int k = 0; k < K; k++) {
        fm_lin_unscale_d(&a.u[k], D);
        fm_lin_unscale_d(&c.u[k], D);
    }
    for (int j = 0; j < K * D; j++) err = fmax(err, fabs(a.w[j] - c.w[j]));
    CHECK(err < 1e-12, "CSR and dense differ by %g", err);
}

static void test_stopping_and_divergence(void) {
    static units_t s;
    fm_lin_data d = data(FM_PEN_NONE, 0.0, 0.0);
    d.tol = 1e-3;
    d.need_loss = 1;
    setup(&s, 1);
    fm_lin_epochs_d(&d, s.u, K, 1000, 2);
    for (int k = 0; k < K; k++)
        CHECK(s.u[k].done && s.u[k].n_iter < 1000 && s.u[k].n_iter >= 5,
              "unit %d: stopping test (done %d after %d epochs)", k, s.u[k].done, s.u[k].n_iter);
    /* a step overflowing to infinity: refused, the weights stay finite */
    static double big[N * D];
    for (int i = 0; i < N * D; i++) big[i] = X[i] * 1e308;
    d.X = big;
    d.tol = -INFINITY;
    fm_lin_row_abs_d(&d, xabs);
    setup(&s, 0);
    d.eta0 = 1e10;
    fm_lin_epochs_d(&d, s.u, 1, 3, 1);
    CHECK(s.u[0].diverged == 1 && s.u[0].done, "divergence not seen (%d)", s.u[0].diverged);
    int finite = isfinite(s.u[0].intercept);
    for (int j = 0; j < D; j++) finite &= isfinite(s.w[j]);
    CHECK(finite, "weights not finite after a refused step");
}

static void test_chapter_rule_separates(void) {
    /* a separable set: the chapter's rule (step units) ends an epoch without mistakes */
    static units_t s;
    fm_lin_data d = data(FM_PEN_NONE, 0.0, 0.0);
    d.rule = FM_LIN_CHAPTER;
    d.gain = 0.5;
    d.eta0 = 1.0;
    setup(&s, 0);
    uint8_t wrong[N];
    s.u[0].wrong = wrong;
    s.u[0].q = NULL;
    int clean = 0;
    for (int e = 0; e < 500 && !clean; e++) {
        fm_lin_epochs_d(&d, s.u, 1, 1, 1);
        clean = s.u[0].mistakes == 0;
    }
    CHECK(clean, "the chapter's rule did not converge on a separable set");
    for (int i = 0; i < N; i++) {
        double z = s.u[0].intercept;
        for (int j = 0; j < D; j++) z += s.w[j] * X[i * D + j];
        CHECK((z > 0) == (Y[i] > 0), "row %d misclassified after convergence", i);
        CHECK(!wrong[i], "row %d marked wrong", i);
    }
}

int main(void) {
    make_data();
    test_against_reference();
    test_threads_and_csr();
    test_stopping_and_divergence();
    test_chapter_rule_separates();
    printf("test_linear: %s (%d failures)\n", failures ? "FAILED" : "ok", failures);
    return failures != 0;
}
