# _core_packed.pxi -- part of layer 3 of _core.pyx (included there, before the engine): the
# inference weights an engine packs once per version of its parameters, and the leases that
# tell it when a version ends.
#
# Versions. The parameters change through the engine's exclusive calls (training: a version
# ends when one begins) and through the writable views of theta it hands out (Engine.theta,
# weights(), biases(), alphas()). Each such view is an array over a _Lease, which NumPy keeps
# alive as long as that view or any view derived from it: while one lives, Python may write
# the parameters at any time, so predictions pack per call as before; handing one out and its
# end each start a new version. The packed copy is used only for the version it was made
# from, and only while no lease lives: a prediction can never read stale weights.


cdef class _PackedWeights


cdef inline const void *_kernel_key(Py_ssize_t isz) noexcept nogil:
    """The key of the GEMM's current kernel set for this element size (what a plan is for)."""
    cdef const void *key = NULL
    if isz == 8:
        fm_dgemm_packed_size(1, 1, &key)
    else:
        fm_sgemm_packed_size(1, 1, &key)
    return key


cdef class _Lease:
    """The owner of one writable view of an engine's parameters (see the top of this file)."""
    cdef _PackedWeights owner
    cdef object arr

    @property
    def __array_interface__(self):
        return self.arr.__array_interface__

    def __dealloc__(self):
        if self.owner is not None:
            self.owner.lease_ended()


cdef class _PackedWeights:
    """An engine's W^l packed once for the GEMM's current kernel set (fm_pack_weights), with
    the version of the parameters they were packed from."""
    cdef unsigned long long version      # of the parameters; bumped on every possible change
    cdef int leases                      # writable views alive
    cdef object buf                      # the packed weights (None: none yet)
    cdef fm_packed pk
    cdef unsigned long long pk_version
    cdef const void *unpacked_key        # a kernel set for which no layer is packed, or NULL

    cdef object lease(self, object arr):
        """A view of ``arr`` (the parameter vector) that Python may write."""
        cdef _Lease l = _Lease.__new__(_Lease)
        l.owner = self
        l.arr = arr
        self.leases += 1
        self.version += 1
        return np.asarray(l)

    cdef void lease_ended(self):
        self.leases -= 1
        self.version += 1

    cdef object current(self, const fm_net *net, object theta, object dtype,
                        unsigned long long writes, fm_packed *out):
        """The packed weights of the parameters' current version (packed now if need be), with
        their plan in *out; None where none can be used (a writable view is alive, or no layer
        of this network is ever packed). writes: the engine's exclusive calls so far (each
        may have changed the parameters: part of the version)."""
        if self.leases:
            return None
        cdef Py_ssize_t isz = dtype.itemsize
        cdef unsigned long long ver = self.version + writes
        cdef const void *key = _kernel_key(isz)
        # the plan depends on the network and the kernel set only: kept with the weights
        if self.buf is not None and self.pk_version == ver and self.pk.key == key:
            out[0] = self.pk
            return self.buf
        if key == self.unpacked_key:
            return None
        cdef fm_packed plan
        _check_status(fm_packed_plan(net, isz, &plan), "packed weights")
        if plan.size == 0:
            self.unpacked_key = plan.key
            return None
        buf = _zeros_aligned(plan.size, dtype)
        cdef void *bp = _ptr(buf)
        cdef void *th = _ptr(theta)
        with nogil:
            if isz == 8:
                fm_pack_weights_d(net, <double*>th, &plan, <double*>bp)
            else:
                fm_pack_weights_s(net, <float*>th, &plan, <float*>bp)
        if self.version + writes != ver or self.leases:   # a view was handed out meanwhile
            return None
        self.buf = buf
        self.pk = plan
        self.pk_version = ver
        out[0] = plan
        return buf

    cdef Py_ssize_t plan_nbytes(self, const fm_net *net, Py_ssize_t isz) except -1:
        cdef fm_packed plan
        _check_status(fm_packed_plan(net, isz, &plan), "packed weights")
        return plan.size * isz

    cdef Py_ssize_t nbytes(self):
        return 0 if self.buf is None else self.buf.nbytes
