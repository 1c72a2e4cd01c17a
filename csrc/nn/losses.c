/* losses.c -- value and delta^L of every loss, stable for logits of any size. */
#include "fm_internal.h"
#include "vecmath/vecmath.h"

#define FM_BODY "nn/losses.inc"
#include "fm_dtypes.h"
