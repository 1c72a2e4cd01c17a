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
 * fewer than fm_get_gemm_par_flops() flops (2MNK, see fastmlp.h) always run on the calling
 * thread alone. Results are bitwise identical for every thread count (threads split M and N,
 * never K).
 *
 * Safe to call concurrently from several OS threads (packing buffers are thread-local).
 */
#ifndef FASTMLP_GEMM_H
#define FASTMLP_GEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*fm_epilogue_s)(const void *ctx, float *C, ptrdiff_t ldc, int i0, int j0, int m, int n);
typedef void (*fm_epilogue_d)(const void *ctx, double *C, ptrdiff_t ldc, int i0, int j0, int m, int n);

void fm_sgemm(int transA, int transB, int M, int N, int K, float alpha,
              const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
              float beta, float *C, ptrdiff_t ldc, fm_epilogue_s epi, const void *ctx, int nthreads);
void fm_dgemm(int transA, int transB, int M, int N, int K, double alpha,
              const double *A, ptrdiff_t lda, const double *B, ptrdiff_t ldb,
              double beta, double *C, ptrdiff_t ldc, fm_epilogue_d epi, const void *ctx, int nthreads);

/* Work sharing for the team entry points: C is cut into blocks (by shape and p only), and each
   thread takes blocks until none is left, so a thread that the system has descheduled holds
   up only the block it is computing. The blocks of one call are counted in one 64-bit word
   shared by the team, tagged with the call's sequence number: every thread of the team
   passes the same word and seq for the same call (a team numbers its calls 0, 1, 2, ...
   on every thread and uses word seq % n of an array of n words; a word is reused only after
   every thread has left the call that used it last). The word needs no reset between calls. */
typedef struct {
    _Alignas(64) _Atomic uint64_t w;
} fm_gemm_claim_word;
typedef struct {
    fm_gemm_claim_word *word;
    uint32_t seq;
} fm_gemm_claim;

/* The same product computed by a team of p threads that the caller has already opened (an
   OpenMP parallel region): every thread calls it with its t = 0..p-1 and the same claim, and
   computes blocks of C until none is left (small products: thread 0 alone). No barrier
   inside; results are bitwise those of fm_?gemm. */
void fm_sgemm_team(fm_gemm_claim claim, int t, int p, int transA, int transB, int M, int N, int K, float alpha,
                   const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                   float *C, ptrdiff_t ldc, fm_epilogue_s epi, const void *ctx);
void fm_dgemm_team(fm_gemm_claim claim, int t, int p, int transA, int transB, int M, int N, int K, double alpha,
                   const double *A, ptrdiff_t lda, const double *B, ptrdiff_t ldb, double beta,
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
