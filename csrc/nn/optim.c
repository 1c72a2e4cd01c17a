/* optim.c -- fused parameter updates: SGD (momentum, Nesterov), Adam, L2 weight decay. */
#include "fm_internal.h"

#define FM_BODY "nn/optim.inc"
#include "fm_dtypes.h"
