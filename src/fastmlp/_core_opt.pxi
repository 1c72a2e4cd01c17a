# _core_opt.pxi -- part of layer 3 of _core.pyx (included there, not compiled on its own).
# The optimiser as the engine's calls receive it: the spec turned into an fm_opt, and the
# state vectors it needs.


cdef int _opt_from_spec(object spec, fm_opt *opt) except -1:
    """spec: (kind, lr, momentum, nesterov, weight_decay, beta1, beta2, eps, t[, l2]); kind
    0 SGD, 1 Adam, 2 Adam in the efficient ordering (eps added to sqrt(v), scikit-learn's).
    l2 (default 0): L2 per unit of batch weight -- a training step on a batch of weight
    sum S_b (its row count when unweighted) decays W with weight_decay + l2 / S_b, which
    is scikit-learn's alpha."""
    if len(spec) not in (9, 10):
        raise ValueError(f"optimizer spec must be (kind, lr, momentum, nesterov, "
                         f"weight_decay, beta1, beta2, eps, t) or the same with l2 "
                         f"appended, got {len(spec)} entries")
    kind, lr, mom, nest, wd, b1, b2, eps, t = spec[:9]
    l2 = spec[9] if len(spec) == 10 else 0.0
    if not (l2 >= 0 and l2 <= DBL_MAX):
        raise ValueError(f"l2 (the spec's 10th entry) must be a finite number >= 0, "
                         f"got {l2!r}")
    if kind not in (0, 1, 2):
        raise ValueError(f"optimizer kind must be 0 (sgd), 1 (adam) or 2 (adam, "
                         f"efficient form), got {kind!r}")
    opt.kind = kind
    opt.lr = lr
    opt.momentum = mom
    opt.nesterov = 1 if nest else 0
    opt.weight_decay = wd
    opt.beta1 = b1
    opt.beta2 = b2
    opt.eps = eps
    opt.t = t
    opt.l2 = l2
    return 0


cdef int _check_opt_state(const fm_opt *opt, object s1, object s2) except -1:
    if opt.kind != 0 and (s1 is None or s2 is None):
        raise ValueError("Adam needs two state vectors (m and v) of n_params entries")
    if opt.kind == 0 and opt.momentum != 0 and s1 is None:
        raise ValueError("SGD with momentum needs a velocity vector of n_params entries")
    return 0
