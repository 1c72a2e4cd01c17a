/* optim.c -- fused parameter updates: SGD (momentum, Nesterov), Adam, L2 weight decay. */
#include "fm_internal.h"

#define T float
#define F(name) name##_s
#define SQRT sqrtf
#include "optim.inc"
#undef T
#undef F
#undef SQRT

#define T double
#define F(name) name##_d
#define SQRT sqrt
#include "optim.inc"
#undef T
#undef F
#undef SQRT
