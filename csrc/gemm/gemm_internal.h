/* gemm_internal.h - the contract between the GEMM framework (gemm.c) and the per-ISA
 * kernel files (gemm_ukr_portable.c, gemm_ukr_avx2.c, gemm_ukr_avx512.c). Not installed.
 *
 * Each kernel file exports one table per dtype: block sizes plus four functions.
 *
 *   ukr(k, Ap, Bp, C, ldc, m, n, alpha, beta, fz)
 *       Microkernel. Ap: one packed micro-panel of A (k columns of MR values),
 *       Bp: one packed micro-panel of B (k rows of NR values), both zero-padded to MR/NR.
 *       Accumulates acc = sum_{p<k} Ap[p] (x) Bp[p] over the full MR x NR tile, one
 *       accumulator per element, p in increasing order, then stores only the top-left
 *       m x n part: C = alpha*acc              if beta == 0 (C is not read)
 *                   C = alpha*acc + beta*C     otherwise (fused where the ISA has FMA).
 *       The arithmetic of an element never depends on m, n or its place in the tile, which
 *       is what makes results independent of how work is split between threads.
 *       fz (NULL: none; given only on a product's last K slice): the epilogue
 *       fm_?epi_bias_act applied in the store, to the value just computed (z = that + bias,
 *       stored to C; then to fz->A as the act says): bitwise that epilogue run after it.
 *   ukr_ai(k, A, lda, Bp, C, ldc, m, n, alpha, beta, fz)  (may be NULL)
 *       ukr with op(A) read in place in the NN form (row r of the tile at A + r*lda, its k
 *       values contiguous; rows r >= m are not read): bitwise ukr's result. Used where B
 *       was packed once (GEMM_PACK_B) and A need not be packed at all.
 *   ukr_ai_few(k, A, lda, Bp, bstride, C, ldc, m, n, alpha, beta)   (may be NULL)
 *       ukr_ai for m = 1 or 2 rows over several consecutive micro-panels of a packed B at
 *       once (panel q at Bp + q*bstride; n >= 1: the columns from the first panel to the
 *       product's edge), so that enough independent accumulators hide the FMA latency;
 *       returns the columns it did (whole panels, or the last one). Bitwise ukr_ai's result.
 *   pack_a(trans, mc, kc, A, lda, Ap)
 *       Packs op(A)[0:mc, 0:kc] into ceil(mc/MR) micro-panels of MR*kc (zero-padded rows).
 *   pack_b(trans, kc, nc, B, ldb, Bp)
 *       Packs op(B)[0:kc, 0:nc] into ceil(nc/NR) micro-panels of kc*NR (zero-padded cols).
 *   rank1(M, N, alpha, A, rsa, b, beta, C, ldc)   (may be NULL)
 *       The product for K = 1: C[i, :] = alpha * (A[i*rsa] b) (+ beta * C[i, :]), b the
 *       single row of op(B) (N contiguous values): bitwise ukr's result with k = 1, for any
 *       sub-block of C (a thread's block as well as the whole product).
 *   direct(..., work)
 *       Direct, unpacked product, used for shapes the framework picks by FM_GEMM_DIRECT
 *       (all dimensions small, or few rows or columns); full fm_?gemm semantics except
 *       epilogue and threading (done by the caller). K >= 1. work: 64-byte aligned scratch of
 *       (transB ? K*N : 0) + N elements (op(B) may be copied there first, then a row of
 *       accumulators); NULL when !transB and N <= FM_SMALL_DIM.
 */
#ifndef FASTMLP_GEMM_INTERNAL_H
#define FASTMLP_GEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gemm.h"   /* FM_EPI_* */

/* Direct (unpacked) path, chosen by shape and kernel set only: every dimension <= 64,
   or few rows (M <= direct_m), or few columns (N <= direct_n). */
#define FM_SMALL_DIM 64
#define FM_GEMM_DIRECT(kt, M, N, K)                                                  \
    (((M) <= FM_SMALL_DIM && (N) <= FM_SMALL_DIM && (K) <= FM_SMALL_DIM) ||          \
     (M) <= (kt)->direct_m || (N) <= (kt)->direct_n)

/* fm_gemm_kernels_s / _d: one table per kernel set and dtype (fields as above), and the
   tables fm_gemm_{portable,avx2,avx512}_{s,d} */
#define FM_BODY "gemm/gemm_table.inc"
#include "fm_dtypes.h"

/* gemm_config.c: a table's cache blocks (given: those measured on the reference caches)
   fitted to this CPU's caches */
void fm_gemm_tune_blocks(int mr, int nr, int *mc, int *kc, int *nc);

#endif /* FASTMLP_GEMM_INTERNAL_H */
