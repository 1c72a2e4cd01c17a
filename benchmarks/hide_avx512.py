"""Hide AVX-512 from this process's CPUID (see hide_avx512.c), for the benchmarks' AVX2 mode.

``hide()`` compiles hide_avx512.c once (into a cache folder, with the C compiler on PATH),
loads it and switches this thread to the masked CPUID; threads started afterwards inherit it.
Call it before importing the libraries that should see an AVX2-only CPU: fastmlp then
reports ``cpu_features: sse4.2 avx avx2 fma`` and runs what an AVX2-only host runs (its GEMM
and vector kernel sets, and the AVX2 clones of its element-wise loops, which FASTMLP_ISA does
not reach), OpenBLAS picks its Haswell kernels, onnxruntime's MLAS its FMA3 ones. Returns
None on success, else a sentence saying why it could not (no compiler, not x86-64 Linux, no
CPUID faulting on this CPU or hypervisor).

``hide_if_asked()`` does it when ``FASTMLP_BENCH_HIDE_AVX512=1`` (what the benchmarks'
``--isa avx2`` sets for their workers: the mask ends at exec, so each process asks anew).
"""
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile

ENV = "FASTMLP_BENCH_HIDE_AVX512"
_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hide_avx512.c")
_REASONS = {-1: "no SIGSEGV handler could be installed",
            -2: "this CPU or hypervisor has no CPUID faulting (arch_prctl ARCH_SET_CPUID)",
            -3: "CPUID still reported AVX-512 after masking"}


def _library():
    with open(_SRC, "rb") as f:
        tag = hashlib.sha256(f.read()).hexdigest()[:16]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or tempfile.gettempdir(),
                         f"fastmlp-bench-{os.getuid()}")
    os.makedirs(cache, exist_ok=True)
    lib = os.path.join(cache, f"hide_avx512-{tag}.so")
    if not os.path.exists(lib):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise OSError("no C compiler on PATH")
        tmp = f"{lib}.{os.getpid()}.tmp"
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", tmp, _SRC], check=True,
                       capture_output=True)
        os.replace(tmp, lib)
    return ctypes.CDLL(lib)


def hide():
    """Mask AVX-512 out of CPUID for this thread and its future threads; None if done, else
    why not."""
    if not sys.platform.startswith("linux") or platform.machine() not in ("x86_64", "AMD64"):
        return "only on x86-64 Linux"
    try:
        rc = _library().fm_bench_hide_avx512()
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"could not build the CPUID mask ({exc})"
    return None if rc == 0 else _REASONS.get(rc, f"error {rc}")


def hide_if_asked():
    """hide() if the environment asks for it (ENV=1): a sentence for the benchmark's header
    saying whether CPUID hides AVX-512 in this process, or None when not asked."""
    if os.environ.get(ENV) != "1":
        return None
    if "fastmlp._core" in sys.modules:
        return "AVX-512 not hidden (fastmlp was imported first)"
    why = hide()
    return "AVX-512 hidden from CPUID" if why is None else f"AVX-512 not hidden ({why})"
