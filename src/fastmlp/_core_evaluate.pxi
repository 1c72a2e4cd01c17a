# _core_evaluate.pxi -- part of layer 3 of _core.pyx (included there, not compiled on its own).
# Engine.evaluate: the engine's loss on a whole set, in chunks, without gradients.


cdef object _evaluate(Engine eng, object X, object Y, object n_threads, int chunk,
                      object sample_weight):
    """Engine.evaluate (a shared call: it runs in a workspace of the engine's pool; sparse X
    in a workspace of its own, _core_sparse.pxi)."""
    cdef CSR Xc = None
    if is_sparse(X) or isinstance(X, CSR):
        X = Xc = csr_input(X, eng.dtype, eng.net.sizes[0])
    else:
        X = eng._X(X)
    cdef int n = X.shape[0]
    if n < 1:
        raise ValueError("X must have at least one row")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    Y = eng._Y(Y, n)
    sw = _sample_weight(sample_weight, n, eng.dtype)
    cdef const double *wd = <const double*>_ptr(sw) if sw is not None else NULL
    cdef const float *wf = <const float*>_ptr(sw) if sw is not None else NULL
    cdef double w8, wsum = 0
    cdef int i
    cdef int L = eng.net.n_layers, m = eng.net.sizes[L]
    out = np.empty((n, m), dtype=eng.dtype)
    cdef int step = min(chunk, n)
    rowloss = np.empty(step, dtype=np.float64)
    cdef double *rp = <double*>_ptr(rowloss)
    cdef double total = 0, value = 0
    cdef int nt = _nt(n_threads)
    cdef int start, nb
    cdef void *yp
    cdef void *th = eng._theta_p
    cdef fm_status st
    cdef const void *alpha = NULL
    cdef Py_ssize_t isz = eng.dtype.itemsize
    cdef _Workspace w
    cdef char *wk
    if eng.net.alpha_off[L] >= 0:
        alpha = <char*>th + eng.net.alpha_off[L] * isz
    cdef fm_packed pk
    eng._guard.begin_shared("evaluate")
    try:
        if Xc is None:
            pbuf = eng._pw.current(&eng.net, eng._theta, eng.dtype, eng._guard.writes, &pk)
        w = eng._pool.take(&eng.net, step) if Xc is None else _csr_workspace(eng, step)
        wk = <char*>w.p
        for start in range(0, n, step):
            if start > 0:
                PyErr_CheckSignals()
            nb = min(step, n - start)
            if Xc is None:
                eng._forward_in(w, X, start, nb, nt, &pk, pbuf)
            else:
                _csr_forward_in(eng, w, Xc, start, nb, nt)
            eng._copy_out(w, out, start, nb)
            yp = <char*>_ptr(Y) + <ptrdiff_t>start * m * isz
            with nogil:
                if eng.dbl:
                    st = fm_loss_d(eng.net.loss, eng.net.acts[L], nb, m, <double*>yp,
                                   <double*>wk + w.ws.z_off[L], <double*>wk + w.ws.a_off[L],
                                   NULL, eng.net.leaky, <const double*>alpha, rp, &value, nt)
                else:
                    st = fm_loss_s(eng.net.loss, eng.net.acts[L], nb, m, <float*>yp,
                                   <float*>wk + w.ws.z_off[L], <float*>wk + w.ws.a_off[L],
                                   NULL, eng.net.leaky, <const float*>alpha, rp, &value, nt)
            _check_status(st, "evaluate")
            if sw is None:
                total += value * nb
                continue
            for i in range(nb):   # as a weighted training step: a weight-0 row is absent
                w8 = wd[start + i] if eng.dbl else <double>wf[start + i]
                wsum += w8
                if w8 != 0:
                    total += w8 * rp[i]
        if Xc is None:
            eng._pool.give(w)
    finally:
        eng._guard.end_shared()
    if sw is None:
        return total / n, out
    return (total / wsum if wsum > 0 else np.nan), out
