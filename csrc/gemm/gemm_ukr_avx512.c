/* gemm_ukr_avx512.c - AVX-512 microkernels (compiled with -mavx512f -mavx512dq -mavx512vl
 * -mavx512bw -mfma; only called after the dispatcher checked all of these).
 *
 * Tile: MR rows x two zmm vectors (float 8 x 32, double 8 x 16). Per k: load the two
 * vectors of the packed B row, broadcast each of the MR packed A values, 2*MR FMAs into
 * 2*MR accumulators. Stores use masks, so edge tiles run exactly the same arithmetic. */
#include "gemm_internal.h"

#include <immintrin.h>

/* Block sizes, one row per dtype. */
#define S_MR 8
#define S_NR 32
#define S_MC 128
#define S_KC 256
#define S_NC 2048
#define D_MR 8
#define D_NR 16
#define D_MC 96
#define D_KC 256
#define D_NC 1024

/* One zmm-pair microkernel. V: vector type, W: lanes, MASK: mask type, SFX: ps/pd. */
#define FM_DEFINE_AVX512_UKR(NAME, T, V, W, MASK, SFX, MR)                                    \
    static void NAME(int k, const T *restrict a, const T *restrict b, T *restrict C,         \
                     ptrdiff_t ldc, int m, int n, T alpha, T beta)                            \
    {                                                                                         \
        V acc0[MR], acc1[MR];                                                                 \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                 \
        {                                                                                     \
            acc0[r] = _mm512_setzero_##SFX();                                                 \
            acc1[r] = _mm512_setzero_##SFX();                                                 \
        }                                                                                     \
        _Pragma("GCC unroll 4") for (int p = 0; p < k; p++)                                   \
        {                                                                                     \
            V b0 = _mm512_load_##SFX(b), b1 = _mm512_load_##SFX(b + W);                       \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                             \
            {                                                                                 \
                V ar = _mm512_set1_##SFX(a[r]);                                               \
                acc0[r] = _mm512_fmadd_##SFX(ar, b0, acc0[r]);                                \
                acc1[r] = _mm512_fmadd_##SFX(ar, b1, acc1[r]);                                \
            }                                                                                 \
            a += MR;                                                                          \
            b += 2 * W;                                                                       \
        }                                                                                     \
        MASK m0 = (MASK)(n >= W ? (MASK)~0 : (MASK)((1u << n) - 1u));                         \
        MASK m1 = (MASK)(n >= 2 * W ? (MASK)~0 : n <= W ? 0 : (MASK)((1u << (n - W)) - 1u));   \
        V va = _mm512_set1_##SFX(alpha), vb = _mm512_set1_##SFX(beta);                       \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                 \
        {                                                                                     \
            if (r < m) {                                                                      \
                T *cr = C + (ptrdiff_t)r * ldc;                                               \
                V x0, x1;                                                                     \
                if (beta == (T)0) {                                                           \
                    x0 = _mm512_mul_##SFX(va, acc0[r]);                                       \
                    x1 = _mm512_mul_##SFX(va, acc1[r]);                                       \
                } else {                                                                      \
                    x0 = _mm512_fmadd_##SFX(va, acc0[r],                                      \
                                            _mm512_mul_##SFX(vb, _mm512_maskz_loadu_##SFX(m0, cr))); \
                    x1 = _mm512_fmadd_##SFX(va, acc1[r],                                      \
                                            _mm512_mul_##SFX(vb, _mm512_maskz_loadu_##SFX(m1, cr + W))); \
                }                                                                             \
                _mm512_mask_storeu_##SFX(cr, m0, x0);                                         \
                _mm512_mask_storeu_##SFX(cr + W, m1, x1);                                     \
            }                                                                                 \
        }                                                                                     \
    }

FM_DEFINE_AVX512_UKR(fm_sgemm_avx512_8x32, float, __m512, 16, __mmask16, ps, S_MR)
FM_DEFINE_AVX512_UKR(fm_dgemm_avx512_8x16, double, __m512d, 8, __mmask8, pd, D_MR)

/* Direct (unpacked) product for the shapes FM_GEMM_DIRECT picks: C is cut into tiles of NV
 * vectors (1..4) x up to DR(NV) rows (8 for one vector, else 6; measured: taller tiles
 * thrash L1 with the 4 KB-strided rows of A); each tile runs over all of K with broadcasts of op(A) read in
 * place through (rsa, csa) and masked loads of the rows of op(B) (transB: op(B) is copied to
 * work first). Per element: acc = 0, acc = fma(a, b, acc) for k = 0..K-1, then the same
 * alpha/beta store as the microkernel. R rows x NV vectors are compile-time constants of
 * each specialisation (always_inline + switch). */
#define DR_MAX 8
#define DR(nv) ((nv) == 1 ? 8 : 6)
#define FM_DEFINE_AVX512_DIRECT(NAME, T, V, W, MASK, SFX)                                     \
    static inline __attribute__((always_inline)) void NAME##_tile(                           \
        const int R, const int NV, int K, const T *restrict A, ptrdiff_t rsa, ptrdiff_t csa, \
        const T *restrict B, ptrdiff_t ldb, T *restrict C, ptrdiff_t ldc, const MASK *mk,    \
        T alpha, T beta)                                                                      \
    {                                                                                         \
        V acc[DR_MAX][4];                                                                         \
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)                                   \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
                acc[r][v] = _mm512_setzero_##SFX();                                           \
        for (int k = 0; k < K; k++) {                                                         \
            V b[4];                                                                           \
            const T *bk = B + (ptrdiff_t)k * ldb;                                             \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
                b[v] = _mm512_maskz_loadu_##SFX(mk[v], bk + v * W);                           \
            const T *ak = A + (ptrdiff_t)k * csa;                                             \
            _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)                               \
            {                                                                                 \
                V ar = _mm512_set1_##SFX(ak[r * rsa]);                                        \
                _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                          \
                    acc[r][v] = _mm512_fmadd_##SFX(ar, b[v], acc[r][v]);                      \
            }                                                                                 \
        }                                                                                     \
        V va = _mm512_set1_##SFX(alpha), vb = _mm512_set1_##SFX(beta);                        \
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)                                   \
        {                                                                                     \
            T *cr = C + (ptrdiff_t)r * ldc;                                                   \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
            {                                                                                 \
                V x;                                                                          \
                if (beta == (T)0)                                                             \
                    x = _mm512_mul_##SFX(va, acc[r][v]);                                      \
                else                                                                          \
                    x = _mm512_fmadd_##SFX(va, acc[r][v],                                     \
                            _mm512_mul_##SFX(vb, _mm512_maskz_loadu_##SFX(mk[v], cr + v * W))); \
                _mm512_mask_storeu_##SFX(cr + v * W, mk[v], x);                               \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    static void NAME(int transA, int transB, int M, int N, int K, T alpha,                   \
                     const T *restrict A, ptrdiff_t lda, const T *restrict B, ptrdiff_t ldb,  \
                     T beta, T *restrict C, ptrdiff_t ldc, T *restrict work)                  \
    {                                                                                         \
        if (transB) {                                                                         \
            for (int k = 0; k < K; k++)                                                       \
                for (int j = 0; j < N; j++) work[(ptrdiff_t)k * N + j] = B[(ptrdiff_t)j * ldb + k]; \
            B = work;                                                                         \
            ldb = N;                                                                          \
        }                                                                                     \
        ptrdiff_t rsa = transA ? 1 : lda, csa = transA ? lda : 1;                             \
        for (int j0 = 0; j0 < N; j0 += 4 * W) {                                               \
            int nn = N - j0 < 4 * W ? N - j0 : 4 * W, nv = (nn + W - 1) / W;                  \
            MASK mk[4];                                                                       \
            for (int v = 0; v < 4; v++) {                                                     \
                int left = nn - v * W;                                                        \
                mk[v] = left >= W ? (MASK)~0 : left <= 0 ? (MASK)0 : (MASK)((1u << left) - 1u); \
            }                                                                                 \
            for (int i0 = 0; i0 < M; i0 += DR(nv)) {                                          \
                int R = M - i0 < DR(nv) ? M - i0 : DR(nv);                                    \
                const T *a = A + i0 * rsa;                                                    \
                const T *b = B + j0;                                                          \
                T *c = C + (ptrdiff_t)i0 * ldc + j0;                                          \
                switch (R * 8 + nv - 1) {                                                     \
                FM_DIRECT_CASES(NAME##_tile, K, a, rsa, csa, b, ldb, c, ldc, mk, alpha, beta) \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

#define FM_DIRECT_CASE(F, R, NV, ...) case R * 8 + NV - 1: F(R, NV, __VA_ARGS__); break;
#define FM_DIRECT_R6(F, NV, ...)                                                             \
    FM_DIRECT_CASE(F, 1, NV, __VA_ARGS__) FM_DIRECT_CASE(F, 2, NV, __VA_ARGS__)              \
    FM_DIRECT_CASE(F, 3, NV, __VA_ARGS__) FM_DIRECT_CASE(F, 4, NV, __VA_ARGS__)              \
    FM_DIRECT_CASE(F, 5, NV, __VA_ARGS__) FM_DIRECT_CASE(F, 6, NV, __VA_ARGS__)
#define FM_DIRECT_R8(F, NV, ...) FM_DIRECT_R6(F, NV, __VA_ARGS__)                            \
    FM_DIRECT_CASE(F, 7, NV, __VA_ARGS__) FM_DIRECT_CASE(F, 8, NV, __VA_ARGS__)
#define FM_DIRECT_CASES(F, ...)                                                              \
    FM_DIRECT_R8(F, 1, __VA_ARGS__) FM_DIRECT_R6(F, 2, __VA_ARGS__)                          \
    FM_DIRECT_R6(F, 3, __VA_ARGS__) FM_DIRECT_R6(F, 4, __VA_ARGS__)

FM_DEFINE_AVX512_DIRECT(direct_s, float, __m512, 16, __mmask16, ps)
FM_DEFINE_AVX512_DIRECT(direct_d, double, __m512d, 8, __mmask8, pd)

#define FM_T float
#define FM_MR S_MR
#define FM_NR S_NR
#define FM_PACK_A pack_a_s
#define FM_PACK_B pack_b_s
#define FM_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#include "gemm_pack.inc"

#define FM_T double
#define FM_MR D_MR
#define FM_NR D_NR
#define FM_PACK_A pack_a_d
#define FM_PACK_B pack_b_d
#define FM_FMA(a, b, c) __builtin_fma((a), (b), (c))
#include "gemm_pack.inc"

const fm_gemm_kernels_s fm_gemm_avx512_s = {
    "avx512", S_MR, S_NR, S_MC, S_KC, S_NC, 6, 16, fm_sgemm_avx512_8x32, pack_a_s, pack_b_s, direct_s};
const fm_gemm_kernels_d fm_gemm_avx512_d = {
    "avx512", D_MR, D_NR, D_MC, D_KC, D_NC, 6, 16, fm_dgemm_avx512_8x16, pack_a_d, pack_b_d, direct_d};
