"""The skip mark of the tests that mask CPUID (benchmarks/hide_avx512.py): CPUID faulting is
an x86-64 Linux feature."""
import platform
import sys

import pytest

only_x86_64_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() != "x86_64",
    reason="CPUID faulting is an x86-64 Linux feature")
