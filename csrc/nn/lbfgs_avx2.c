/* lbfgs_avx2.c -- the L-BFGS vector kernels (nn/lbfgs_body.inc) built with -mavx2 -mfma
   (the file-name suffix; CMakeLists.txt); called only where fm_isa_supported allows. The same
   source as the portable set, so the same bits. */
#include "nn/lbfgs.h"

#include <math.h>

#define LBFGS_TABLE fm_lbfgs_avx2
#include "nn/lbfgs_body.inc"
