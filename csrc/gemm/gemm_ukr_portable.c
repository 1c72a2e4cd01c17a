/* gemm_ukr_portable.c - the portable kernel set (baseline x86-64 flags: the compiler
 * vectorises it with SSE2). Always available; the fallback when the CPU lacks AVX2/FMA.
 * No FMA here: every product and sum is rounded separately. */
#include "gemm_internal.h"

/* Block sizes per dtype: MR x NR register tile, MC x KC block of A, KC x NC panel of B. */
#define MR_s 4
#define NR_s 8
#define MR_d 4
#define NR_d 4
#define MULADD(a, b, c) ((a) * (b) + (c))

#define FM_BODY "gemm/gemm_ukr_scalar.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_pack.inc"
#include "fm_dtypes.h"
#define FM_BODY "gemm/gemm_direct.inc"
#include "fm_dtypes.h"

const fm_gemm_kernels_s fm_gemm_portable_s = {
    .name = "portable", .mr = MR_s, .nr = NR_s, .mc = 128, .kc = 256, .nc = 2048,
    .direct_m = 4, .direct_n = 0,
    .ukr = ukr_s, .pack_a = pack_a_s, .pack_b = pack_b_s, .direct = direct_s,
};
const fm_gemm_kernels_d fm_gemm_portable_d = {
    .name = "portable", .mr = MR_d, .nr = NR_d, .mc = 96, .kc = 256, .nc = 1024,
    .direct_m = 4, .direct_n = 0,
    .ukr = ukr_d, .pack_a = pack_a_d, .pack_b = pack_b_d, .direct = direct_d,
};
