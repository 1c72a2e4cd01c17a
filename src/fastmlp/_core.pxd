# _core.pxd -- the C API of csrc/fastmlp.h, declared for Cython.
from libc.stdint cimport int64_t, uint64_t

cdef extern from "fastmlp.h" nogil:
    ctypedef enum fm_status:
        FM_OK
        FM_ERR_ALLOC
        FM_ERR_ARG
        FM_ERR_NONFINITE
        FM_ERR_INTERRUPT

    enum: FM_MAX_LAYERS
    const double FM_LEAKY_ALPHA
    enum: FM_N_ACT
    enum: FM_N_LOSS
    # the codes of fm_activation, fm_loss and fm_opt_kind: the one source of every code
    enum: FM_ACT_STEP
    enum: FM_ACT_SIGN
    enum: FM_ACT_LINEAR
    enum: FM_ACT_PIECEWISE
    enum: FM_ACT_SIGMOID
    enum: FM_ACT_TANH
    enum: FM_ACT_RELU
    enum: FM_ACT_LEAKY
    enum: FM_ACT_PRELU
    enum: FM_ACT_SOFTMAX
    enum: FM_ACT_EXP
    enum: FM_LOSS_SQUARE
    enum: FM_LOSS_HINGE
    enum: FM_LOSS_LOGISTIC
    enum: FM_LOSS_CROSS_ENTROPY
    enum: FM_LOSS_MARGIN
    enum: FM_LOSS_POISSON
    enum: FM_OPT_SGD
    enum: FM_OPT_ADAM
    enum: FM_OPT_ADAM_EFFICIENT

    int fm_act_needs_z(int act)
    fm_status fm_act_forward_s(int act, int rows, int cols, const float *z, ptrdiff_t ldz,
                               float *a, ptrdiff_t lda, double leaky, const float *prelu, int nthreads)
    fm_status fm_act_forward_d(int act, int rows, int cols, const double *z, ptrdiff_t ldz,
                               double *a, ptrdiff_t lda, double leaky, const double *prelu, int nthreads)
    fm_status fm_act_deriv_s(int act, int rows, int cols, const float *z, ptrdiff_t ldz,
                             const float *a, ptrdiff_t lda, float *d, ptrdiff_t ldd,
                             double leaky, const float *prelu, int nthreads)
    fm_status fm_act_deriv_d(int act, int rows, int cols, const double *z, ptrdiff_t ldz,
                             const double *a, ptrdiff_t lda, double *d, ptrdiff_t ldd,
                             double leaky, const double *prelu, int nthreads)

cdef extern from "fm_internal.h" nogil:
    int fm_all_finite_s(const float *x, ptrdiff_t n)
    int fm_all_finite_d(const double *x, ptrdiff_t n)

cdef extern from "fastmlp.h" nogil:
    fm_status fm_loss_s(int loss, int act, int n, int m, const float *Y, const float *z,
                        const float *a, float *delta, double leaky, const float *prelu,
                        double *rowloss, double *value_out, int nthreads)
    fm_status fm_loss_d(int loss, int act, int n, int m, const double *Y, const double *z,
                        const double *a, double *delta, double leaky, const double *prelu,
                        double *rowloss, double *value_out, int nthreads)

    ctypedef struct fm_net:
        int n_layers
        int sizes[65]
        int acts[65]
        int loss
        double leaky
        ptrdiff_t w_off[65]
        ptrdiff_t b_off[65]
        ptrdiff_t alpha_off[65]
        ptrdiff_t n_weights
        ptrdiff_t n_params
    fm_status fm_net_init(fm_net *net)

    ctypedef struct fm_workspace:
        int max_batch
        ptrdiff_t z_off[65]
        ptrdiff_t a_off[65]
        ptrdiff_t d_off[65]
        ptrdiff_t x_off
        ptrdiff_t y_off
        ptrdiff_t size
        ptrdiff_t rowloss_off
        ptrdiff_t grest_off
        ptrdiff_t sw_off
    fm_status fm_workspace_init(const fm_net *net, int max_batch, size_t elem_size, fm_workspace *ws)

    ctypedef struct fm_packed:
        const void *key
        ptrdiff_t off[65]
        ptrdiff_t size
    fm_status fm_packed_plan(const fm_net *net, size_t elem_size, fm_packed *pk)
    void fm_pack_weights_s(const fm_net *net, const float *theta, const fm_packed *pk,
                           float *buf)
    void fm_pack_weights_d(const fm_net *net, const double *theta, const fm_packed *pk,
                           double *buf)
    fm_status fm_forward_packed_s(const fm_net *net, const float *theta, const fm_packed *pk,
                                  const float *buf, const float *X, ptrdiff_t ldx, int n,
                                  float *work, const fm_workspace *ws, int nthreads)
    fm_status fm_forward_packed_d(const fm_net *net, const double *theta, const fm_packed *pk,
                                  const double *buf, const double *X, ptrdiff_t ldx, int n,
                                  double *work, const fm_workspace *ws, int nthreads)
    fm_status fm_forward_s(const fm_net *net, const float *theta, const float *X, ptrdiff_t ldx, int n,
                           float *work, const fm_workspace *ws, int nthreads)
    fm_status fm_forward_d(const fm_net *net, const double *theta, const double *X, ptrdiff_t ldx, int n,
                           double *work, const fm_workspace *ws, int nthreads)
    fm_status fm_backward_s(const fm_net *net, const float *theta, const float *X, ptrdiff_t ldx,
                            const float *Y, ptrdiff_t ldy, int n, float *grad, float *work,
                            const fm_workspace *ws, double *loss_out, int nthreads)
    fm_status fm_backward_d(const fm_net *net, const double *theta, const double *X, ptrdiff_t ldx,
                            const double *Y, ptrdiff_t ldy, int n, double *grad, double *work,
                            const fm_workspace *ws, double *loss_out, int nthreads)

    int fm_step_is_fused(const fm_net *net, const fm_opt *opt, int n)
    int fm_step_chunks(const fm_net *net, int n)

    ctypedef struct fm_opt:
        int kind
        double lr
        double momentum
        int nesterov
        double weight_decay
        double beta1
        double beta2
        double eps
        int64_t t
        double l2

    fm_status fm_update_s(const fm_net *net, fm_opt *opt, float *theta, const float *grad,
                          float *state1, float *state2, int nthreads)
    fm_status fm_update_d(const fm_net *net, fm_opt *opt, double *theta, const double *grad,
                          double *state1, double *state2, int nthreads)
    fm_status fm_train_step_s(const fm_net *net, fm_opt *opt, float *theta, float *grad,
                              float *state1, float *state2, const float *X, const float *Y,
                              const float *sw, int n, float *work, const fm_workspace *ws,
                              double *loss_out, int nthreads)
    fm_status fm_train_step_d(const fm_net *net, fm_opt *opt, double *theta, double *grad,
                              double *state1, double *state2, const double *X, const double *Y,
                              const double *sw, int n, double *work, const fm_workspace *ws,
                              double *loss_out, int nthreads)
    fm_status fm_train_epochs_s(const fm_net *net, fm_opt *opt, float *theta, float *grad,
                                float *state1, float *state2, const float *X, const float *Y,
                                const float *sw, int64_t N, int batch, int drop_last, int shuffle, uint64_t seed,
                                int64_t epoch0, int n_epochs, int64_t *perm, float *work,
                                const fm_workspace *ws, double *losses_out, int *epochs_done,
                                volatile int *stop, int nthreads)
    fm_status fm_train_epochs_d(const fm_net *net, fm_opt *opt, double *theta, double *grad,
                                double *state1, double *state2, const double *X, const double *Y,
                                const double *sw, int64_t N, int batch, int drop_last, int shuffle, uint64_t seed,
                                int64_t epoch0, int n_epochs, int64_t *perm, double *work,
                                const fm_workspace *ws, double *losses_out, int *epochs_done,
                                volatile int *stop, int nthreads)

    void fm_permutation(uint64_t seed, uint64_t stream, int64_t N, int64_t *perm)
    uint64_t fm_random_u64(uint64_t seed, uint64_t counter)
    void fm_uniform_fill(const uint64_t *words, int n_seg, const int64_t *off,
                         const int64_t *count, const double *low, const double *high,
                         void *out, int is_double)

    const char *fm_compiler()
    int fm_openmp_enabled()
    int fm_max_threads()
    void fm_set_max_threads(int n)
    enum: FM_MAX_THREADS
    int fm_probe_threads(int n, int *err)
    int fm_fork_child_single_threaded()
    long fm_thread_shortfalls()
    void fm_rounds_counts(long out[3])
    int fm_widest_team(int reset)
    const char *fm_cpu_features()
    const char *fm_clones_level()
    ptrdiff_t fm_get_parallel_threshold()
    void fm_set_parallel_threshold(ptrdiff_t n)
    int fm_get_fused_sgd_max_batch()
    void fm_set_fused_sgd_max_batch(int n)
    double fm_get_team_min_flops()
    void fm_set_team_min_flops(double flops)
    double fm_get_gemm_par_flops()
    void fm_set_gemm_par_flops(double flops)
    int fm_get_dp_chunks()
    void fm_set_dp_chunks(int n)
    double fm_get_dp_min_flops()
    void fm_set_dp_min_flops(double flops)
    double fm_get_dp_max_flops()
    void fm_set_dp_max_flops(double flops)

    fm_status fm_vec_eval_s(int func, ptrdiff_t n, const float *x, float *y)
    fm_status fm_vec_eval_d(int func, ptrdiff_t n, const double *x, double *y)
    const char *fm_vecmath_isa()
    int fm_vecmath_set_isa(const char *name)

cdef extern from "gemm/gemm.h" nogil:
    ctypedef void (*fm_epilogue_s)(const void *ctx, float *C, ptrdiff_t ldc, int i0, int j0, int m, int n)
    ctypedef void (*fm_epilogue_d)(const void *ctx, double *C, ptrdiff_t ldc, int i0, int j0, int m, int n)
    void fm_sgemm(int transA, int transB, int M, int N, int K, float alpha,
                  const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                  float beta, float *C, ptrdiff_t ldc, fm_epilogue_s epi, const void *ctx, int nthreads)
    void fm_dgemm(int transA, int transB, int M, int N, int K, double alpha,
                  const double *A, ptrdiff_t lda, const double *B, ptrdiff_t ldb,
                  double beta, double *C, ptrdiff_t ldc, fm_epilogue_d epi, const void *ctx, int nthreads)
    size_t fm_sgemm_packed_size(int K, int N, const void **key)
    size_t fm_dgemm_packed_size(int K, int N, const void **key)
    const char *fm_gemm_isa()
    int fm_gemm_set_isa(const char *name)
    void fm_gemm_blocks(int dsize, int *mr, int *nr, int *mc, int *kc, int *nc)
    void fm_gemm_caches(long *l1d, long *l2, long *l3_per_core, const char **source)

cdef extern from "fastmlp.h" nogil:
    double fm_lbfgs_dot(ptrdiff_t n, const double *a, const double *b)
    void fm_lbfgs_direction(ptrdiff_t n, int m, int col, int head, const double *S,
                            const double *Y, const double *rho, double theta, const double *g,
                            const double *x, double *z, double *d, double *alpha)
    void fm_lbfgs_trial(ptrdiff_t n, double stp, const double *d, const double *t, double *x)
    double fm_lbfgs_pair(ptrdiff_t n, double stp, const double *d, const double *g,
                         const double *r, double *s_out, double *y_out)
    double fm_lbfgs_amax(ptrdiff_t n, const double *g)
    int fm_lbfgs_equal(ptrdiff_t n, const double *a, const double *b)
    const char *fm_lbfgs_isa()
    int fm_lbfgs_set_isa(const char *name)
    ctypedef struct fm_lbfgs_search:
        double stp
        int brackt, stage
    void fm_lbfgs_search_init(fm_lbfgs_search *ls, double f0, double g0, double stp,
                              double ftol, double gtol, double xtol, double stpmin,
                              double stpmax)
    int fm_lbfgs_search_done(fm_lbfgs_search *ls, double f, double g)
