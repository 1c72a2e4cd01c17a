"""benchmarks/hide_avx512.py: the AVX2 mode's CPUID mask for onnxruntime's workers."""
import pathlib
import subprocess
import sys

import pytest
from x86_linux import only_x86_64_linux

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"

# in a fresh process (the mask cannot be undone): hide, then ask CPUID from this thread and
# from a thread started afterwards; and a real fault must still kill the process
_CHILD = r"""
import sys, threading
sys.path.insert(0, sys.argv[1])
import hide_avx512
lib = hide_avx512._library()
before = lib.fm_bench_avx512_visible()
why = hide_avx512.hide()
seen = []
t = threading.Thread(target=lambda: seen.append(lib.fm_bench_avx512_visible()))
t.start(); t.join()
print(before, repr(why), lib.fm_bench_avx512_visible(), seen[0])
import numpy as np                      # CPUID-using code still runs
assert float(np.ones(1000) @ np.ones(1000)) == 1000.0
if len(sys.argv) > 2:
    import ctypes
    ctypes.string_at(0)                 # a real SIGSEGV
"""


def _run(*extra):
    return subprocess.run([sys.executable, "-c", _CHILD, str(BENCHMARKS), *extra],
                          capture_output=True, text=True, timeout=120)


@only_x86_64_linux
def test_hide_avx512_masks_cpuid_in_this_thread_and_later_ones():
    out = _run()
    assert out.returncode == 0, out.stderr
    before, why, now, thread = out.stdout.split(maxsplit=3)
    if why != "None":
        # this CPU or hypervisor has no CPUID faulting: hide() must say so, and change nothing
        assert "faulting" in why or "compiler" in why, why
        assert now == before
        return
    assert (now, thread.strip()) == ("0", "0")


@only_x86_64_linux
def test_a_real_segfault_still_ends_the_process_under_the_mask():
    out = _run("crash")
    assert out.returncode == -11, (out.returncode, out.stderr[-500:])
