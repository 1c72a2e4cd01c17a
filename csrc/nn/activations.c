/* activations.c -- sigma and sigma' of every activation, float and double (body:
   activations.inc). Element-wise work from fm_get_parallel_threshold() elements is split over
   rows between threads; below it runs serially, so small layers pay no fork/join. */
#include "fm_internal.h"
#include "vecmath/vecmath.h"

int fm_act_needs_z(int act) {
    switch (act) {
    case FM_ACT_STEP: case FM_ACT_SIGN: case FM_ACT_LINEAR:
    case FM_ACT_SIGMOID: case FM_ACT_TANH: case FM_ACT_RELU: case FM_ACT_SOFTMAX:
    case FM_ACT_EXP:
        return 0;
    default:
        return 1; /* piecewise linear, leaky ReLU, PReLU: the output does not determine sigma' */
    }
}

#define FM_BODY "nn/activations.inc"
#include "fm_dtypes.h"
