# _core_opt.pxi -- part of layer 3 of _core.pyx (included there, not compiled on its own).
# The optimiser as the engine's calls receive it: the spec turned into an fm_opt, and the
# state vectors it needs.


import collections

OptSpec = collections.namedtuple(
    "OptSpec", ["kind", "lr", "momentum", "nesterov", "weight_decay", "beta1", "beta2", "eps",
                "t", "l2"],
    defaults=(0.0, False, 0.0, 0.9, 0.999, 1e-8, 0, 0.0))
OptSpec.__doc__ = """The optimiser as the engine's training calls take it (the fields of fm_opt).

kind: a value of ``OPT_CODES`` (SGD; Adam; Adam in the efficient ordering, eps added to
sqrt(v) as scikit-learn does); lr: eta; momentum, nesterov: SGD's; weight_decay: L2 on the
weights W only (g += weight_decay * W); beta1, beta2, eps: Adam's; t: Adam's steps so far;
l2: L2 per unit of batch weight -- a training step on a batch of weight sum S_b (its row
count when unweighted) decays W with weight_decay + l2 / S_b, which is scikit-learn's alpha.
A plain tuple of the first 9 or all 10 fields, in this order, is taken as well."""

_OPT_KINDS = frozenset(OPT_CODES.values())


cdef int _opt_from_spec(object spec, fm_opt *opt) except -1:
    """Fill ``opt`` from an :data:`OptSpec` (or a tuple of its fields), checked."""
    if type(spec) is not OptSpec:
        if not isinstance(spec, tuple) or len(spec) not in (9, 10):
            got = (f"{len(spec)} entries" if isinstance(spec, tuple)
                   else f"{type(spec).__name__} {spec!r}")
            raise ValueError(f"optimizer spec must be an OptSpec or the tuple (kind, lr, "
                             f"momentum, nesterov, weight_decay, beta1, beta2, eps, t[, l2]), "
                             f"got {got}")
        spec = OptSpec(*spec)
    if not (spec.l2 >= 0 and spec.l2 <= DBL_MAX):
        raise ValueError(f"l2 (the spec's 10th entry) must be a finite number >= 0, "
                         f"got {spec.l2!r}")
    if spec.kind not in _OPT_KINDS:
        raise ValueError(f"optimizer kind must be one of {OPT_CODES}, got {spec.kind!r}")
    opt.kind = spec.kind
    opt.lr = spec.lr
    opt.momentum = spec.momentum
    opt.nesterov = 1 if spec.nesterov else 0
    opt.weight_decay = spec.weight_decay
    opt.beta1 = spec.beta1
    opt.beta2 = spec.beta2
    opt.eps = spec.eps
    opt.t = spec.t
    opt.l2 = spec.l2
    return 0


cdef int _check_opt_state(const fm_opt *opt, object s1, object s2) except -1:
    if opt.kind != FM_OPT_SGD and (s1 is None or s2 is None):
        raise ValueError("Adam needs two state vectors (m and v) of n_params entries")
    if opt.kind == FM_OPT_SGD and opt.momentum != 0 and s1 is None:
        raise ValueError("SGD with momentum needs a velocity vector of n_params entries")
    return 0
