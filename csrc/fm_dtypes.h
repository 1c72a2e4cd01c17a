/* fm_dtypes.h -- compile one body file for float, then for double.

   A .c file defines FM_BODY (the .inc file to instantiate) and includes this header; the body
   sees, per dtype:
     T            float / double            F(name)   name##_s / name##_d (public suffix)
     VM(name)     vecmath kernel member     SQRT      sqrtf / sqrt
     UINT, SINT   same-width integers       EXPMASK, SIGNBIT   the exponent / sign bits
     GEMM, GEMM_TEAM   fm_?gemm / fm_?gemm_team
   Deliberately no include guard: it is meant to be included once per body. */
#ifndef FM_BODY
#error "define FM_BODY before including fm_dtypes.h"
#endif

#define T float
#define F(name) name##_s
#define VM(name) name##_s
#define SQRT sqrtf
#define UINT uint32_t
#define SINT int32_t
#define EXPMASK 0x7f800000u
#define SIGNBIT 0x80000000u
#define GEMM fm_sgemm
#define GEMM_TEAM fm_sgemm_team
#include FM_BODY
#undef T
#undef F
#undef VM
#undef SQRT
#undef UINT
#undef SINT
#undef EXPMASK
#undef SIGNBIT
#undef GEMM
#undef GEMM_TEAM

#define T double
#define F(name) name##_d
#define VM(name) name##_d
#define SQRT sqrt
#define UINT uint64_t
#define SINT int64_t
#define EXPMASK 0x7ff0000000000000ull
#define SIGNBIT 0x8000000000000000ull
#define GEMM fm_dgemm
#define GEMM_TEAM fm_dgemm_team
#include FM_BODY
#undef T
#undef F
#undef VM
#undef SQRT
#undef UINT
#undef SINT
#undef EXPMASK
#undef SIGNBIT
#undef GEMM
#undef GEMM_TEAM

#undef FM_BODY
