"""pp_store: the C++ testbench's vector mode and the bridge against the numpy
twin, and the blog's LB+COM -> SB chain through both bridges (the
testbench's self-test: test_testbenches.py)."""

from __future__ import annotations

from typing import List, Tuple

import numpy as np
import pytest

from labkit.kernels import _bridge, pp_load_compute, pp_store as k

pytestmark = pytest.mark.needs_gxx

BLOG_N = 10240        # the blog's SB size ...
BLOG_LC_N = 1024      # ... collected from 10 LB+COM calls of 1024 words
BLOG_LC_CALLS = BLOG_N // BLOG_LC_N
U32 = 2**32


def words(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, U32, size=count, dtype=np.uint64).astype(np.uint32)


def call_sequence(seed: int) -> List[Tuple[np.ndarray, int, int, int]]:
    """(in_words, num, n, pingpong) calls: lag, pass-through, single beat,
    maximum size, dry inputs in both modes, mode switches."""
    rng = np.random.default_rng(seed)
    calls = [(words(rng, BLOG_N), num, BLOG_N, 1) for num in range(5)]
    calls += [
        (words(rng, BLOG_N), 0, BLOG_N, 0),          # pass-through
        (words(rng, 1), 0, 1, 0),                    # single beat: TLAST on it
        (words(rng, 1), 1, 1, 1),
        (words(rng, k.MAX_N), 2, k.MAX_N, 1),
        (words(rng, k.MAX_N), 3, k.MAX_N, 1),
        (words(rng, k.MAX_N), 3, k.MAX_N, 0),
        (words(rng, BLOG_N - 1), 5, BLOG_N, 1),      # dry, double-buffered
        (words(rng, BLOG_N - 1), 5, BLOG_N, 0),      # dry, pass-through
        (words(rng, BLOG_N), 6, BLOG_N, 1),          # state after dry
    ]
    for num in range(7, 13):
        n = int(rng.integers(1, 5000))
        calls.append((words(rng, n), num, n, int(rng.integers(0, 2))))
    return calls


def test_vectors_equal_numpy_twin(stream_vectors_match_twin):
    stream_vectors_match_twin("pp_store", k.Model(), call_sequence(seed=1))


def test_bridge_equals_numpy_twin(hls_lib, bridge_calls_match_twin):
    bridge_calls_match_twin(hls_lib.pp_store(), k.Model(), call_sequence(seed=2))


def test_lag_and_pass_through_tlast(hls_lib):
    rng = np.random.default_rng(4)
    instance = hls_lib.pp_store()
    first, second = words(rng, 100), words(rng, 100)
    _, out, last = instance.run(first, 0, 100, 1)
    np.testing.assert_array_equal(out, 0)                 # sends OFM_1: still zeros
    _, out, last = instance.run(second, 1, 100, 1)
    np.testing.assert_array_equal(out, first)             # what call 0 collected
    assert last.tolist() == [0] * 99 + [1]
    # Pass-through: the data of this very call, TLAST exactly on beat n-1.
    for n in (1, 2, 100):
        status, out, last = instance.run(second[:n], 0, n, 0)
        assert status == n
        np.testing.assert_array_equal(out, second[:n])
        assert int(np.flatnonzero(last)[0]) == n - 1 and last.sum() == 1


def test_bridge_error_codes(hls_lib):
    instance = hls_lib.pp_store()
    data = np.arange(16, dtype=np.uint32)
    assert instance.run(data[:0], 0, 0, 1)[0] == _bridge.LAB_ERR_ZERO_LENGTH
    assert instance.run(data, 0, k.MAX_N + 1, 1)[0] == _bridge.LAB_ERR_TOO_LARGE
    assert instance.run(data, 0, 16, 0, out_cap=15)[0] == _bridge.LAB_ERR_OUT_CAP
    assert instance.run(data, 0, 15, 0)[0] == _bridge.LAB_ERR_INPUT_EXTRA
    assert instance.run(data, 0, 17, 0)[0] == _bridge.LAB_ERR_INPUT_DRY
    assert instance.run(data, 0, 17, 1)[0] == _bridge.LAB_ERR_INPUT_DRY
    out = np.zeros(4, np.uint32)
    last = np.zeros(4, np.uint8)
    assert hls_lib.lib.lab_pp_store(None, data.ctypes.data, 4, out.ctypes.data,
                                    last.ctypes.data, 4, 0, 4, 1) == _bridge.LAB_ERR_NULL


def test_blog_schedule_through_both_bridges(hls_lib):
    """The blog's PS loop: SB call i collects 10 LB+COM calls (num j = 0..9,
    op = i) and sends what iteration i-1 collected."""
    rng = np.random.default_rng(2018)
    lc, sb = hls_lib.pp_load_compute(), hls_lib.pp_store()
    lc_twin, sb_twin = pp_load_compute.Model(), k.Model()
    for i in range(3):
        collected = []
        for j in range(BLOG_LC_CALLS):
            data = words(rng, BLOG_LC_N)
            status, out, last = lc.run(data, j, i, BLOG_LC_N, 1)
            want, _ = lc_twin.run(data, j, i, BLOG_LC_N, 1)
            assert status == BLOG_LC_N and last[-1] == 1
            np.testing.assert_array_equal(out, want)
            collected.append(out)
        stream = np.concatenate(collected)
        status, out, last = sb.run(stream, i, BLOG_N, 1)
        want, want_last = sb_twin.run(stream, i, BLOG_N, 1)
        assert status == BLOG_N
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(last, want_last)
        if i == 0:
            np.testing.assert_array_equal(out, 0)


def test_stage_cycles():
    both = k.stage_cycles(BLOG_N, 1)
    assert both["read"] == (BLOG_N - 1) * k.II_READ + k.READ_PIPELINE_DEPTH
    assert both["write"] == (BLOG_N - 1) * k.II_WRITE + k.WRITE_PIPELINE_DEPTH
    assert both["latency"] == k.cycles(BLOG_N, 1) == 10244
    through = k.stage_cycles(BLOG_N, 0)
    assert through["read"] == through["write"] == (BLOG_N - 1) + k.PASS_PIPELINE_DEPTH
    assert through["latency"] == k.CALL_OVERHEAD + BLOG_N + 1 == 10243
