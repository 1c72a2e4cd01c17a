"""Hide AVX-512 from this process's CPUID (see hide_avx512.c), for the benchmarks' AVX2 mode.

``hide()`` compiles hide_avx512.c once (into a cache folder, with the C compiler on PATH),
loads it and switches this thread to the masked CPUID; threads started afterwards inherit it.
Call it before importing the library that should see an AVX2-only CPU. Returns None on
success, else a sentence saying why it could not (no compiler, not x86-64 Linux, no CPUID
faulting on this CPU or hypervisor): the caller reports that its peer kept its own kernels.
"""
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile

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
