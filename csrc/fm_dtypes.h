/* fm_dtypes.h -- the engine's one way to write code once for float and double.

   The idiom. Code that exists per dtype (kernels, engine bodies, kernel-table types) is written
   ONCE, generic in T, in a body file (*.inc, no include guard). The file that needs it defines
   FM_BODY as the body's path (relative to csrc/) and includes this header, which compiles the
   body twice, for float and then for double:

       #define FM_BODY "nn/losses.inc"
       #include "fm_dtypes.h"

   Inside a body, per dtype:
     T                float / double
     F(name)          name##_s / name##_d: the name of everything the body defines (functions,
                      types, tables), and of every per-dtype parameter it reads (see below)
     IS_DOUBLE        0 / 1, for #if
     SQRT EXP TANH FMA   the libm function of that dtype (FMA is fused: use it only where the
                      file is compiled with an FMA instruction set)
     UINT, SINT       same-width integers; EXPMASK, SIGNBIT: the exponent / sign bits
     GEMM, GEMM_NBLOCKS, GEMM_BLOCK, GEMM_PB, GEMM_BLOCK_PB, GEMM_PACK_B, GEMM_PACKED_SIZE
                      fm_sgemm, fm_sgemm_nblocks, ... / fm_dgemm, ... (BLAS-style names)
     EPI_BIAS_ACT     fm_sepi_bias_act / fm_depi_bias_act (gemm.h)

   Parameters of a body that differ per dtype (a register tile, a vector type, an intrinsic)
   are defined by the includer as NAME_s and NAME_d before the include, and read by the body
   as F(NAME), which becomes NAME_s or NAME_d. A body that reads many of them aliases them
   once at its top (#define VT F(VT)) and #undefs the aliases at its end. This is also how a
   body serves several instruction sets: a kernel file (*_avx2.c, *_avx512.c, compiled with
   that ISA's flags) defines its vector types and intrinsics as NAME_s / NAME_d and includes
   the shared body; its tables (designated initialisers, one per ISA and dtype) then name the
   functions the body defined. A parameter that does not depend on the dtype is a plain macro
   of the includer (MULADD for gemm_direct.inc). A body #undefs its own helper macros at its
   end, so a file may include several bodies; this header #undefs all of the above after each
   pass. */
#ifndef FM_BODY
#error "define FM_BODY before including fm_dtypes.h"
#endif

#define T float
#define F(name) name##_s
#define IS_DOUBLE 0
#define SQRT sqrtf
#define EXP expf
#define TANH tanhf
#define FMA __builtin_fmaf
#define UINT uint32_t
#define SINT int32_t
#define EXPMASK 0x7f800000u
#define SIGNBIT 0x80000000u
#define GEMM fm_sgemm
#define GEMM_NBLOCKS fm_sgemm_nblocks
#define GEMM_NBLOCKS_PB fm_sgemm_nblocks_pb
#define GEMM_BLOCK fm_sgemm_block
#define GEMM_PB fm_sgemm_pb
#define GEMM_BLOCK_PB fm_sgemm_block_pb
#define GEMM_PACK_B fm_sgemm_pack_b
#define GEMM_PACKED_SIZE fm_sgemm_packed_size
#define EPI_BIAS_ACT fm_sepi_bias_act
#include FM_BODY
#undef T
#undef F
#undef IS_DOUBLE
#undef SQRT
#undef EXP
#undef TANH
#undef FMA
#undef UINT
#undef SINT
#undef EXPMASK
#undef SIGNBIT
#undef GEMM
#undef GEMM_NBLOCKS
#undef GEMM_NBLOCKS_PB
#undef GEMM_BLOCK
#undef GEMM_PB
#undef GEMM_BLOCK_PB
#undef GEMM_PACK_B
#undef GEMM_PACKED_SIZE
#undef EPI_BIAS_ACT

#define T double
#define F(name) name##_d
#define IS_DOUBLE 1
#define SQRT sqrt
#define EXP exp
#define TANH tanh
#define FMA __builtin_fma
#define UINT uint64_t
#define SINT int64_t
#define EXPMASK 0x7ff0000000000000ull
#define SIGNBIT 0x8000000000000000ull
#define GEMM fm_dgemm
#define GEMM_NBLOCKS fm_dgemm_nblocks
#define GEMM_NBLOCKS_PB fm_dgemm_nblocks_pb
#define GEMM_BLOCK fm_dgemm_block
#define GEMM_PB fm_dgemm_pb
#define GEMM_BLOCK_PB fm_dgemm_block_pb
#define GEMM_PACK_B fm_dgemm_pack_b
#define GEMM_PACKED_SIZE fm_dgemm_packed_size
#define EPI_BIAS_ACT fm_depi_bias_act
#include FM_BODY
#undef T
#undef F
#undef IS_DOUBLE
#undef SQRT
#undef EXP
#undef TANH
#undef FMA
#undef UINT
#undef SINT
#undef EXPMASK
#undef SIGNBIT
#undef GEMM
#undef GEMM_NBLOCKS
#undef GEMM_NBLOCKS_PB
#undef GEMM_BLOCK
#undef GEMM_PB
#undef GEMM_BLOCK_PB
#undef GEMM_PACK_B
#undef GEMM_PACKED_SIZE
#undef EPI_BIAS_ACT

#undef FM_BODY
