/* losses.c -- value and delta^L of every loss, stable for logits of any size. */
#include "fm_internal.h"
#include "vecmath.h"

#define T float
#define F(name) name##_s
#define VM(name) name##_s
#include "losses.inc"
#undef T
#undef F
#undef VM

#define T double
#define F(name) name##_d
#define VM(name) name##_d
#include "losses.inc"
#undef T
#undef F
#undef VM
