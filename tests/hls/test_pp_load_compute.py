"""pp_load_compute: the C++ testbench's vector mode and the bridge against the
numpy twin (the testbench's self-test: test_testbenches.py)."""

from __future__ import annotations

from typing import List, Tuple

import numpy as np
import pytest

from labkit.kernels import _bridge, pp_load_compute as k

pytestmark = pytest.mark.needs_gxx

BLOG_N = 1024
U32 = 2**32


def words(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, U32, size=count, dtype=np.uint64).astype(np.uint32)


def call_sequence(seed: int) -> List[Tuple[np.ndarray, int, int, int, int]]:
    """(in_words, num, op, n, pingpong) calls covering the lag, both modes,
    TLAST on a single beat, wrap-around, maximum size and a dry input."""
    rng = np.random.default_rng(seed)
    calls = [(words(rng, BLOG_N), num, num + 1, BLOG_N, 1) for num in range(6)]
    calls += [
        (words(rng, 1000), 0, 7, 1000, 0),                       # sequential
        (np.full(BLOG_N, U32 - 1, np.uint32), 0, 2, BLOG_N, 0),  # op wraps
        (words(rng, 1), 1, 3, 1, 1),                             # one beat: TLAST on it
        (words(rng, k.MAX_N), 2, 5, k.MAX_N, 1),
        (words(rng, k.MAX_N), 3, 5, k.MAX_N, 1),
        (words(rng, BLOG_N - 5), 5, 0, BLOG_N, 1),               # runs dry
        (words(rng, BLOG_N), 6, 0, BLOG_N, 1),                   # state after dry
        (words(rng, 77), 7, 9, 77, 0),                           # switch modes
        (words(rng, 77), 8, 9, 77, 1),
    ]
    for num in range(9, 15):
        n = int(rng.integers(1, 3000))
        calls.append((words(rng, n), num, int(rng.integers(0, U32)), n, int(rng.integers(0, 2))))
    return calls


def test_vectors_equal_numpy_twin(stream_vectors_match_twin):
    stream_vectors_match_twin("pp_load_compute", k.Model(), call_sequence(seed=1))


def test_bridge_equals_numpy_twin(hls_lib, bridge_calls_match_twin):
    bridge_calls_match_twin(hls_lib.pp_load_compute(), k.Model(), call_sequence(seed=2))


def test_pingpong_lag_and_tlast(hls_lib):
    """Call k computes on the data of call k-1; the first call on zeros."""
    rng = np.random.default_rng(3)
    instance = hls_lib.pp_load_compute()
    inputs = [words(rng, BLOG_N) for _ in range(4)]
    for num, data in enumerate(inputs):
        op = 100 + num
        status, out, last = instance.run(data, num, op, BLOG_N, 1)
        assert status == BLOG_N
        previous = inputs[num - 1] if num else np.zeros(BLOG_N, np.uint32)
        np.testing.assert_array_equal(out, previous + np.uint32(op))
        assert last[-1] == 1 and not last[:-1].any()
    # Sequential mode: the same call's data, no lag.
    status, out, _ = instance.run(inputs[0], 0, 1, BLOG_N, 0)
    np.testing.assert_array_equal(out, inputs[0] + np.uint32(1))


def test_instances_do_not_share_buffers(hls_lib):
    first, second = hls_lib.pp_load_compute(), hls_lib.pp_load_compute()
    data = np.arange(1, 9, dtype=np.uint32)
    first.run(data, 0, 0, data.size, 1)           # loads IFM_0 of `first` only
    _, out, _ = second.run(data, 1, 0, data.size, 1)  # computes on IFM_0 of `second`
    np.testing.assert_array_equal(out, 0)
    _, out, _ = first.run(data, 1, 0, data.size, 1)
    np.testing.assert_array_equal(out, data)
    first.close()
    with pytest.raises(ValueError):
        first.run(data, 0, 0, data.size, 1)


def test_bridge_error_codes(hls_lib):
    instance = hls_lib.pp_load_compute()
    data = np.arange(16, dtype=np.uint32)
    assert instance.run(data[:0], 0, 0, 0, 1)[0] == _bridge.LAB_ERR_ZERO_LENGTH
    assert instance.run(data, 0, 0, k.MAX_N + 1, 1)[0] == _bridge.LAB_ERR_TOO_LARGE
    assert instance.run(data, 0, 0, 16, 1, out_cap=15)[0] == _bridge.LAB_ERR_OUT_CAP
    assert instance.run(data, 0, 0, 15, 1)[0] == _bridge.LAB_ERR_INPUT_EXTRA
    assert instance.run(data, 0, 0, 17, 1)[0] == _bridge.LAB_ERR_INPUT_DRY
    for code, (in_len, n, cap) in {
        _bridge.LAB_ERR_ZERO_LENGTH: (0, 0, 1),
        _bridge.LAB_ERR_TOO_LARGE: (16, k.MAX_N + 1, k.MAX_N + 1),
        _bridge.LAB_ERR_OUT_CAP: (16, 16, 15),
        _bridge.LAB_ERR_INPUT_EXTRA: (16, 15, 15),
    }.items():
        assert k.check_args(in_len, n, cap) == code
    out = np.zeros(4, np.uint32)
    last = np.zeros(4, np.uint8)
    assert hls_lib.lib.lab_pp_load_compute(None, data.ctypes.data, 4, out.ctypes.data,
                                           last.ctypes.data, 4, 0, 0, 4, 1) == _bridge.LAB_ERR_NULL


def test_stage_cycles():
    """Trip count x II + depth, overlapped only with pingpong."""
    both = k.stage_cycles(BLOG_N, 1)
    assert both["read"] == (BLOG_N - 1) * k.II_READ + k.READ_PIPELINE_DEPTH == 1025
    assert both["compute"] == (BLOG_N - 1) * k.II_FIRE + k.FIRE_PIPELINE_DEPTH == 1026
    assert both["compute_start"] == 0
    assert both["latency"] == k.CALL_OVERHEAD + 1026 == k.cycles(BLOG_N, 1) == 1028
    seq = k.stage_cycles(BLOG_N, 0)
    assert seq["compute_start"] == seq["read"] == 1025
    assert seq["latency"] == k.CALL_OVERHEAD + 1025 + 1026 == 2053
