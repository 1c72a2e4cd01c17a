# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The boundary between Python and the C engine (csrc/fastmlp.h).

Its layers, in order, each in a file of its own included below (src/fastmlp/_core_*.pxi):

1. argument checks (_core_checks.pxi): every array is checked once there -- type, dtype,
   dimensions, shape, C-contiguity, writeability -- and a TypeError/ValueError names what
   was wrong. The C layer trusts what passes.
2. element-wise kernels (_core_kernels.pxi): ``act_forward``, ``act_deriv``, ``loss``
   (value and delta^L), ``gemm`` and ``permutation``, for float32 and float64 (the C
   function is picked by dtype).
3. ``Engine`` (_core_engine.pxi): one network's plan, its flat parameter and gradient
   vectors and its workspaces, with forward/backward/train_step/train_epochs/evaluate (its
   workspace pool and the guard that keeps its calls apart: _core_pool.pxi; the optimiser
   spec: _core_opt.pxi; evaluate: _core_evaluate.pxi); the
   helper that runs a train_epochs call in another thread (_core_epochs.pxi); and what lets
   threads and forked processes share models (_core_sync.pxi: ``ModelLock``, ``StopFlag``);
   sparse input and the whole-set objective (_core_sparse.pxi: ``CSR``, ``csr_input``,
   ``objective``: the loss, L2 term and gradient of L-BFGS in one call); the correction
   pairs of L-BFGS and their two-loop recursion (_core_lbfgs.pxi: ``LbfgsMemory``).
   Every C call releases the GIL.
4. configuration (_core_config.pxi): ``config()``, ``set_num_threads``,
   ``get_num_threads`` and the engine's tunables.

C status codes become exceptions in ``_check_status``; FM_ERR_NONFINITE is a
``FloatingPointError`` (parameters were not changed).
"""
import numpy as np

from . import _names
from ._workers import StopOnCtrlC
cimport numpy as cnp
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memcpy, memset
from libc.float cimport DBL_MAX, DBL_EPSILON
from libc.math cimport sqrt, fabs, isfinite
from libc.limits cimport INT_MAX
from cpython.exc cimport PyErr_CheckSignals

cnp.import_array()

# canonical name -> code, read from the C enums (fastmlp.h): every Python module takes its
# codes from these three tables
ACTIVATION_CODES = {
    "step": FM_ACT_STEP, "sign": FM_ACT_SIGN, "linear": FM_ACT_LINEAR,
    "piecewise_linear": FM_ACT_PIECEWISE, "sigmoid": FM_ACT_SIGMOID, "tanh": FM_ACT_TANH,
    "relu": FM_ACT_RELU, "leaky_relu": FM_ACT_LEAKY, "prelu": FM_ACT_PRELU,
    "softmax": FM_ACT_SOFTMAX, "exp": FM_ACT_EXP,
}
LOSS_CODES = {"square": FM_LOSS_SQUARE, "hinge": FM_LOSS_HINGE, "logistic": FM_LOSS_LOGISTIC,
              "cross_entropy": FM_LOSS_CROSS_ENTROPY, "margin": FM_LOSS_MARGIN,
              "poisson": FM_LOSS_POISSON}
OPT_CODES = {"sgd": FM_OPT_SGD, "adam": FM_OPT_ADAM, "adam_efficient": FM_OPT_ADAM_EFFICIENT}
_ACT_NAME = {code: name for name, code in ACTIVATION_CODES.items()}
_LOSS_NAME = {code: name for name, code in LOSS_CODES.items()}
MAX_LAYERS = FM_MAX_LAYERS
LEAKY_ALPHA = FM_LEAKY_ALPHA   # the default slope of leaky_relu (equal to _names.LEAKY_ALPHA)
MAX_THREADS = FM_MAX_THREADS    # the most threads any call or setting may ask for
_MAX_SIZE = 2 ** 31 - 1     # the largest layer size (a C int)
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)

include "_core_checks.pxi"
include "_core_kernels.pxi"
include "_core_sync.pxi"
include "_core_pool.pxi"
include "_core_opt.pxi"
include "_core_sparse.pxi"
include "_core_packed.pxi"
include "_core_engine.pxi"
include "_core_evaluate.pxi"
include "_core_epochs.pxi"
include "_core_config.pxi"
include "_core_linear.pxi"
include "_core_lbfgs.pxi"
