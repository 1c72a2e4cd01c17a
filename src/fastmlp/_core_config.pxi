# _core_config.pxi -- layer 4 of _core.pyx (included there, not compiled on its own).
# Configuration: config(), the default thread count and the engine's tunables.


def gemm_blocking():
    """The GEMM's blocking for the current kernel set: per dtype the register tile (mr, nr)
    and the cache blocks (mc, kc, nc) fitted to this CPU's caches, and the caches as read
    (bytes; l3 is the share per core) with where they were read from."""
    cdef int mr, nr, mc, kc, nc
    cdef long l1, l2, l3
    cdef const char *src
    fm_gemm_caches(&l1, &l2, &l3, &src)
    out = {"caches": {"l1d": l1, "l2": l2, "l3_per_core": l3, "source": src.decode()}}
    for name, size in (("float32", 4), ("float64", 8)):
        fm_gemm_blocks(size, &mr, &nr, &mc, &kc, &nc)
        out[name] = {"mr": mr, "nr": nr, "mc": mc, "kc": kc, "nc": nc}
    return out


def config():
    """What this build is: compiler, OpenMP, threads, CPU features, GEMM kernels."""
    return {
        "compiler": fm_compiler().decode(),
        "openmp": bool(fm_openmp_enabled()),
        "max_threads": fm_max_threads(),
        "cpu_features": fm_cpu_features().decode(),
        "gemm_kernels": fm_gemm_isa().decode(),
        "gemm_blocking": gemm_blocking(),
        "vecmath_kernels": fm_vecmath_isa().decode(),
        "elementwise_clones": fm_clones_level().decode(),
        "parallel_threshold": fm_get_parallel_threshold(),
        "fused_sgd_max_batch": fm_get_fused_sgd_max_batch(),
        "team_min_flops": fm_get_team_min_flops(),
        "max_threads_cap": FM_MAX_THREADS,
        "fork_child_single_threaded": bool(fm_fork_child_single_threaded()),
        "thread_shortfalls": fm_thread_shortfalls(),
        "gemm_par_flops": fm_get_gemm_par_flops(),
        "dp_chunks": fm_get_dp_chunks(),
        "dp_min_flops": fm_get_dp_min_flops(),
        "dp_max_flops": fm_get_dp_max_flops(),
    }


def rounds_counts():
    """Process-wide counts of the work that calls shared with their helper threads, as a dict:
    ``posted`` (rounds of blocks offered to helpers), ``solo`` (rounds a calling thread ran
    alone although it had helpers, because they kept arriving late or not at all -- a machine
    shared with busy processes) and ``solo_periods`` (how often that started)."""
    cdef long out[3]
    fm_rounds_counts(out)
    return {"posted": out[0], "solo": out[1], "solo_periods": out[2]}


def widest_team(reset=False):
    """The most threads one engine call has run on since the last ``widest_team(reset=True)``
    (1 when none used several); ``reset=True`` returns that value and starts counting
    again. For checking that concurrent fits do not oversubscribe the machine."""
    return fm_widest_team(1 if reset else 0)


def set_num_threads(n):
    """Set the number of OpenMP threads the engine uses by default (1..MAX_THREADS).

    The system must be able to start that many threads now: fastmlp starts them once to
    check, and raises RuntimeError (the setting unchanged) when it cannot -- e.g. under a
    memory or process limit -- instead of letting OpenMP end the process later. (Should the
    limit tighten afterwards, a call simply runs on fewer threads: see ``config()``'s
    ``thread_shortfalls``.)"""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"n must be >= 1 and <= {MAX_THREADS} (the most threads fastmlp "
                         f"runs), got {n}")
    cdef int err = 0, m = n, can
    with nogil:
        can = fm_probe_threads(m, &err)
    if can < m:
        raise RuntimeError(f"set_num_threads({m}): the system could start only {can} threads "
                           f"({os.strerror(err) if err else 'unknown reason'}); the setting "
                           f"is unchanged ({fm_max_threads()})")
    fm_set_max_threads(m)


def get_num_threads():
    return fm_max_threads()


def set_parallel_threshold(Py_ssize_t n):
    """Element count above which element-wise kernels use threads (for tuning and tests)."""
    if n < 0:
        raise ValueError(f"threshold must be >= 0, got {n}")
    fm_set_parallel_threshold(n)


def set_fused_sgd_max_batch(int n):
    """Largest batch for which a plain-SGD step is fused into the weight-gradient GEMM
    (0 turns fusion off). Results agree with the unfused step to rounding."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    fm_set_fused_sgd_max_batch(n)


def get_fused_sgd_max_batch():
    return fm_get_fused_sgd_max_batch()


def all_finite(arr):
    """True if every entry of a float32/float64 C-contiguous array is finite (one vectorised
    pass, no temporary array)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"arr must be a numpy.ndarray, got {type(arr).__name__}")
    cdef int dbl = _is_double(arr.dtype)
    if not arr.flags.c_contiguous:
        raise ValueError("arr must be C-contiguous")
    cdef void *p = _ptr(arr)
    cdef ptrdiff_t n = arr.size
    cdef int ok
    with nogil:
        ok = _finite(dbl, p, n)
    return bool(ok)


def set_team_min_flops(double flops):
    """Smallest training step (6 x weights x rows flops) that runs on a team of threads in
    one parallel region; smaller steps run on one thread, whose large products may still
    use threads of their own. For tuning and benchmarks."""
    if not flops >= 0:
        raise ValueError(f"flops must be >= 0, got {flops}")
    fm_set_team_min_flops(flops)


def get_team_min_flops():
    return fm_get_team_min_flops()


def set_gemm_par_flops(double flops):
    """Smallest product (2MNK flops) that the GEMM splits over threads (for tuning)."""
    if not flops >= 0:
        raise ValueError(f"flops must be >= 0, got {flops}")
    fm_set_gemm_par_flops(flops)


def get_gemm_par_flops():
    return fm_get_gemm_par_flops()


def set_data_parallel(chunks=None, min_flops=None, max_flops=None):
    """When a training step is data parallel: the batch cut into `chunks` fixed chunks (fewer
    where a chunk would hold under 8 rows; < 2 turns it off), each chunk's forward and
    backward pass on one thread, the chunks' gradients summed in chunk order. Used for steps
    of min_flops <= 6 x weights x rows < max_flops. The chunks never depend on the thread
    count, so results are the same for every thread count; changing these settings changes
    the rounding of the gradient sums (as a different batch split would). None: unchanged."""
    if chunks is not None:
        if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)):
            raise TypeError(f"chunks must be an int, got {type(chunks).__name__}")
        if not 0 <= chunks <= 64:
            raise ValueError(f"chunks must be in [0, 64], got {chunks}")
    for name, v in (("min_flops", min_flops), ("max_flops", max_flops)):
        if v is not None and not (isinstance(v, (int, float, np.integer, np.floating))
                                  and not isinstance(v, bool)):
            raise TypeError(f"{name} must be a number, got {type(v).__name__}")
        if v is not None and not v >= 0:
            raise ValueError(f"{name} must be >= 0, got {v}")
    if chunks is not None:
        fm_set_dp_chunks(int(chunks))
    if min_flops is not None:
        fm_set_dp_min_flops(float(min_flops))
    if max_flops is not None:
        fm_set_dp_max_flops(float(max_flops))


def get_data_parallel():
    """(chunks, min_flops, max_flops): see set_data_parallel."""
    return fm_get_dp_chunks(), fm_get_dp_min_flops(), fm_get_dp_max_flops()
