"""The csim testbenches' self-tests (``hls/<kernel>/<kernel>_tb.cpp`` with no
arguments), built with g++ as ``make -C hls csim`` does, and again under
AddressSanitizer/UBSan: there any access outside the kernel's buffers fails
the run -- e.g. mmio_rowsum's two memories are heap arrays of exactly 8192
and 128 words in its testbench.

(cnn_classifier's testbench runs in tests/classifier/test_kernel.py.)
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.needs_gxx

TESTBENCHES = ("mmio_rowsum", "pp_load_compute", "pp_store", "ddr_rowsum")


def assert_self_test_passes(result) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s)" in result.stdout


@pytest.mark.parametrize("kernel", TESTBENCHES)
def test_testbench_passes(build_testbench, run_testbench, kernel):
    assert_self_test_passes(run_testbench(build_testbench(kernel)))


@pytest.mark.parametrize("kernel", TESTBENCHES)
def test_testbench_passes_under_sanitizers(build_testbench, run_testbench, sanitizers, kernel):
    assert_self_test_passes(run_testbench(build_testbench(kernel, sanitize=True)))
