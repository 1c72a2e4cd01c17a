/* gemm.h - fastmlp's matrix-multiply engine (GEMM), C11 + OpenMP.
 *
 * C[M x N] = alpha * op(A) * op(B) + beta * C, all row-major with leading dimensions
 * given in elements.
 *   op(A) is M x K: transA=0 -> A is M x K (lda >= K); transA=1 -> A is K x M (lda >= M).
 *   op(B) is K x N: transB=0 -> B is K x N (ldb >= N); transB=1 -> B is N x K (ldb >= K).
 * beta == 0 means C is write-only (never read, may hold NaN garbage). K == 0 -> C = beta*C.
 *
 * epi (may be NULL) is called exactly once for every finished rectangular block of C,
 * after that block holds its final value, with C pointing at element (i0, j0) of the
 * full matrix; the blocks tile C with no overlap. It is called from the thread that
 * computed the block, while the block is still hot in cache.
 *
 * nthreads <= 0 means the engine's default (fm_max_threads()); 1 means serial; products of
 * fewer than fm_get_gemm_par_flops() flops (2MNK, see fastmlp.h) run on the calling thread
 * alone, but for the band that gemm.c's fm_gemm_band_threads describes (a prepacked B and
 * helpers already awake). Results are bitwise identical for every thread count (threads split
 * M and N, never K).
 *
 * Summation order: each element's sum runs over k in increasing order, in slices of K: as
 * few as the kernel set's KC allows, of equal length rounded up to 8 (the last one no longer),
 * never longer than KC (gemm.c, fm_kslice). With the FMA kernel sets, a slice's sum starts
 * from zero as fused multiply-adds, and is stored as alpha*acc on the first slice without
 * beta, fma(alpha, acc, beta'*C) otherwise (beta' = beta on the first slice, 1 after). So an
 * element's bits depend on K, the kernel set and its KC (the L1 size), never on M, N, the
 * row's position or the thread count.
 *
 * Safe to call concurrently from several OS threads (packing buffers are thread-local).
 */
#ifndef FASTMLP_GEMM_H
#define FASTMLP_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*fm_epilogue_s)(const void *ctx, float *C, ptrdiff_t ldc, int i0, int j0, int m, int n);
typedef void (*fm_epilogue_d)(const void *ctx, double *C, ptrdiff_t ldc, int i0, int j0, int m, int n);

/* A ready-made epilogue that the engine fuses into the store of each output tile: where a
   product's epi is fm_?epi_bias_act, the microkernel applies it to the finished tile while it
   is still in registers (elsewhere, e.g. on the direct path, it runs as an ordinary epilogue on
   blocks of a few rows, while they are in L1). With ctx an fm_bias_act_?, per element of a
   finished block: z = C + bias[j] (one rounded add, after the full sum over K) is stored to C;
   then act FM_EPI_COPY stores z to A as well, FM_EPI_RELU stores (z < 0 ? 0 : z) (NaN and -0
   pass through) to A, FM_EPI_BIAS stores nothing else (A unused). Then, if `then` is not
   NULL, then(then_ctx, C, ldc, i0, j0, m, n) runs on the same block (a row's last pass:
   softmax). The same bits however the block is cut or wherever it runs. */
enum { FM_EPI_BIAS = 0, FM_EPI_COPY = 1, FM_EPI_RELU = 2 };
typedef struct {
    const float *bias;    /* N values */
    float *A;             /* element (i, j) at A[i * lda + j] (full-matrix indices) */
    ptrdiff_t lda;
    int act;
    fm_epilogue_s then;
    const void *then_ctx;
} fm_bias_act_s;
typedef struct {
    const double *bias;
    double *A;
    ptrdiff_t lda;
    int act;
    fm_epilogue_d then;
    const void *then_ctx;
} fm_bias_act_d;
void fm_sepi_bias_act(const void *ctx, float *C, ptrdiff_t ldc, int i0, int j0, int m, int n);
void fm_depi_bias_act(const void *ctx, double *C, ptrdiff_t ldc, int i0, int j0, int m, int n);

void fm_sgemm(int transA, int transB, int M, int N, int K, float alpha,
              const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
              float beta, float *C, ptrdiff_t ldc, fm_epilogue_s epi, const void *ctx, int nthreads);
void fm_dgemm(int transA, int transB, int M, int N, int K, double alpha,
              const double *A, ptrdiff_t lda, const double *B, ptrdiff_t ldb,
              double beta, double *C, ptrdiff_t ldc, fm_epilogue_d epi, const void *ctx, int nthreads);

/* The same product cut into blocks that any threads compute, in any order and on any thread
   (work sharing driven by the caller: a thread that is not running holds up nobody):
   fm_?gemm_nblocks gives the number of blocks for about p threads, at most maxblocks (0: the
   product is too small to share -- call fm_?gemm with nthreads = 1 instead); fm_?gemm_block
   computes block b (0 <= b < that number) with the same arguments. The blocks tile C without
   overlap; each runs the epilogue on its own part of C; together they give bitwise what
   fm_?gemm gives. */
int fm_sgemm_nblocks(int p, int maxblocks, int transA, int transB, int M, int N, int K,
                     float alpha);
void fm_sgemm_block(int b, int p, int maxblocks, int transA, int transB, int M, int N, int K,
                    float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                    float beta, float *C, ptrdiff_t ldc, fm_epilogue_s epi, const void *ctx);
int fm_dgemm_nblocks(int p, int maxblocks, int transA, int transB, int M, int N, int K,
                     double alpha);
void fm_dgemm_block(int b, int p, int maxblocks, int transA, int transB, int M, int N, int K,
                    double alpha, const double *A, ptrdiff_t lda, const double *B,
                    ptrdiff_t ldb, double beta, double *C, ptrdiff_t ldc, fm_epilogue_d epi,
                    const void *ctx);

/* Weights packed once (inference: one W for many products). fm_?gemm_packed_size gives the
   elements of op(B) (K x N) packed for the current kernel set (0: a shape whose B is never
   packed, read in place for every M), and that set's key;
   fm_?gemm_pack_b packs op(B) into Bp (64-byte aligned, that many elements) and returns the
   key it packed for. fm_?gemm_pb / fm_?gemm_block_pb are fm_?gemm / fm_?gemm_block that read
   op(B) from Bp wherever they would pack it (bitwise the same result); with Bp NULL, or a key
   that is not the current kernel set's (fm_gemm_set_isa since), they pack as usual. B, ldb
   and transB are still given: the direct path reads op(B) in place. */
size_t fm_sgemm_packed_size(int K, int N, const void **key);
size_t fm_dgemm_packed_size(int K, int N, const void **key);
const void *fm_sgemm_pack_b(int transB, int K, int N, const float *B, ptrdiff_t ldb, float *Bp);
const void *fm_dgemm_pack_b(int transB, int K, int N, const double *B, ptrdiff_t ldb,
                            double *Bp);
void fm_sgemm_pb(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                 ptrdiff_t lda, const float *B, ptrdiff_t ldb, const float *Bp, const void *key,
                 float beta, float *C, ptrdiff_t ldc, fm_epilogue_s epi, const void *ctx,
                 int nthreads);
void fm_dgemm_pb(int transA, int transB, int M, int N, int K, double alpha, const double *A,
                 ptrdiff_t lda, const double *B, ptrdiff_t ldb, const double *Bp,
                 const void *key, double beta, double *C, ptrdiff_t ldc, fm_epilogue_d epi,
                 const void *ctx, int nthreads);
/* fm_?gemm_nblocks for blocks that fm_?gemm_block_pb computes with this Bp and key: with op(B)
   packed already, more blocks are cheap, and fm_?gemm_block_pb cuts C the same way */
int fm_sgemm_nblocks_pb(int p, int maxblocks, int transA, int transB, int M, int N, int K,
                        float alpha, const float *Bp, const void *key);
int fm_dgemm_nblocks_pb(int p, int maxblocks, int transA, int transB, int M, int N, int K,
                        double alpha, const double *Bp, const void *key);
void fm_sgemm_block_pb(int b, int p, int maxblocks, int transA, int transB, int M, int N, int K,
                       float alpha, const float *A, ptrdiff_t lda, const float *B,
                       ptrdiff_t ldb, const float *Bp, const void *key, float beta, float *C,
                       ptrdiff_t ldc, fm_epilogue_s epi, const void *ctx);
void fm_dgemm_block_pb(int b, int p, int maxblocks, int transA, int transB, int M, int N, int K,
                       double alpha, const double *A, ptrdiff_t lda, const double *B,
                       ptrdiff_t ldb, const double *Bp, const void *key, double beta,
                       double *C, ptrdiff_t ldc, fm_epilogue_d epi, const void *ctx);

/* "avx512", "avx2" or "portable": the kernel set chosen (at first use: the best one this
   CPU supports, or the one named by the environment variable FASTMLP_ISA if that is lower). */
const char *fm_gemm_isa(void);
/* Force a kernel set (for tests): returns 0 if set, -1 if the name is unknown or this CPU
   does not support it. Not meant to be called while other threads are inside a GEMM. */
int fm_gemm_set_isa(const char *name);

/* The blocking of the current kernel set for a dtype of dsize bytes (4: float, 8: double):
   register tile MR x NR and cache blocks MC, KC, NC (fitted to this CPU's caches). */
void fm_gemm_blocks(int dsize, int *mr, int *nr, int *mc, int *kc, int *nc);
/* This CPU's caches as the GEMM's configuration layer sees them (bytes; L3: its share per
   core) and where they were read ("sysfs", "cpuid", "FASTMLP_GEMM_CACHES", ...). */
void fm_gemm_caches(long *l1d, long *l2, long *l3_per_core, const char **source);

#ifdef __cplusplus
}
#endif

#endif /* FASTMLP_GEMM_H */
