/* optim.c -- fused parameter updates: SGD (momentum, Nesterov), Adam, L2 weight decay. */
#include "fm_internal.h"

#define T float
#define F(name) name##_s
#define SQRT sqrtf
#define UINT uint32_t
#define EXPMASK 0x7f800000u
#define SIGNBIT 0x80000000u
#include "optim.inc"
#undef T
#undef F
#undef SQRT
#undef UINT
#undef EXPMASK
#undef SIGNBIT

#define T double
#define F(name) name##_d
#define SQRT sqrt
#define UINT uint64_t
#define EXPMASK 0x7ff0000000000000ull
#define SIGNBIT 0x8000000000000000ull
#include "optim.inc"
#undef T
#undef F
#undef SQRT
#undef UINT
#undef EXPMASK
#undef SIGNBIT
