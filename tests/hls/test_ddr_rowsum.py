"""ddr_rowsum: the C++ testbench's vector mode and the bridge against the
numpy twin, including address decoding against a simulated DDR window (the
testbench's self-test: test_testbenches.py)."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.kernels import _bridge, ddr_rowsum as k

pytestmark = pytest.mark.needs_gxx

U32 = 2**32
DDR_BASE = 0x1000_0000          # physical address of the simulated DDR's first byte
DDR_WORDS = 1 << 16             # 256 KiB is plenty for these tests
DDR_BYTES = DDR_WORDS * 4
FORUM_ROWS, FORUM_COLS = 70, 80


def fresh_ddr(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, U32, size=DDR_WORDS, dtype=np.uint64).astype(np.uint32)


def phys(word_index: int) -> int:
    return DDR_BASE + 4 * word_index


def test_vectors_equal_numpy_twin(build_testbench, run_vectors):
    rng = np.random.default_rng(5)
    shapes = [(3, 5), (FORUM_ROWS, FORUM_COLS), (1, 49), (100, 1), (0, 7), (7, 0), (1, 1)]
    shapes += [(int(rng.integers(1, 60)), int(rng.integers(1, 300))) for _ in range(8)]
    mats = [rng.integers(0, U32, size=s, dtype=np.uint64).astype(np.uint32) for s in shapes]
    mats.append(np.full((8, 300), U32 - 1, dtype=np.uint32))  # every sum wraps
    records = [[m.shape[0], m.shape[1], *m.reshape(-1).tolist()] for m in mats]
    outputs = run_vectors(build_testbench("ddr_rowsum"), records)
    assert len(outputs) == len(mats)
    for m, got in zip(mats, outputs):
        np.testing.assert_array_equal(np.array(got, dtype=np.uint32).reshape(-1),
                                      k.rowsums(m), err_msg=f"shape {m.shape}")


# (src word, dst word, rows, cols): aligned, unaligned to bursts, edges, overlap
RUNS = [
    (0, 40000, FORUM_ROWS, FORUM_COLS),
    (1, 40003, FORUM_ROWS, FORUM_COLS),          # not on a 64-byte boundary
    (17, 50001, 1, 3 * k.BURST_BEATS + 1),
    (0, DDR_WORDS - 128, 128, 300),              # dst ends on the last word
    (DDR_WORDS - 300, 0, 1, 300),                # src ends on the last word
    (100, 200, 0, 50),                           # rows == 0: nothing
    (100, 200, 16, 0),                           # cols == 0: zeros
    (100, 108, 10, 8),                           # dst overlaps src's next rows
    (100, 95, 10, 8),                            # dst overlaps src's first row
]


@pytest.mark.parametrize("src, dst, rows, cols", RUNS)
def test_bridge_equals_numpy_twin(hls_lib, src, dst, rows, cols):
    got = fresh_ddr(seed=src + dst)
    want = got.copy()
    assert hls_lib.ddr_rowsum(got, DDR_BASE, phys(src), phys(dst), rows, cols) == 0
    assert k.model(want, DDR_BASE, phys(src), phys(dst), rows, cols) == 0
    np.testing.assert_array_equal(got, want)  # the whole DDR: nothing else written


def test_numpy_twin_against_the_definition():
    ddr = fresh_ddr(seed=9)
    src = ddr[10:10 + FORUM_ROWS * FORUM_COLS].reshape(FORUM_ROWS, FORUM_COLS).copy()
    k.model(ddr, DDR_BASE, phys(10), phys(30000), FORUM_ROWS, FORUM_COLS)
    want = [sum(int(v) for v in row) % U32 for row in src]
    assert ddr[30000:30000 + FORUM_ROWS].tolist() == want


DECODE_ERRORS = [
    (phys(0) - 4, phys(1000), 2, 4),                 # src starts below DDR
    (phys(DDR_WORDS - 7), phys(1000), 2, 4),         # src runs past the end
    (phys(DDR_WORDS), phys(1000), 1, 1),             # src just past the end
    (phys(0), phys(DDR_WORDS - 1), 2, 4),            # dst runs past the end
    (phys(0), phys(0) - 8, 2, 4),                    # dst below DDR
    (phys(0) + 2, phys(1000), 2, 4),                 # src misaligned
    (phys(0), phys(1000) + 1, 2, 4),                 # dst misaligned
    (0, phys(1000), 2, 4),                           # a virtual-looking address
    (phys(0), 2**64 - 4, 1, 1),                      # dst at the top of 64 bits
    (phys(0), phys(1000), 2**32 - 1, 2**32 - 1),     # src range larger than 2**64 bytes
]


@pytest.mark.parametrize("src_phys, dst_phys, rows, cols", DECODE_ERRORS)
def test_decode_error_touches_nothing(hls_lib, src_phys, dst_phys, rows, cols):
    ddr = fresh_ddr(seed=3)
    before = ddr.copy()
    assert hls_lib.ddr_rowsum(ddr, DDR_BASE, src_phys, dst_phys, rows, cols) == _bridge.LAB_DECODE_ERROR
    assert k.check_args(DDR_BASE, DDR_BYTES, src_phys, dst_phys, rows, cols) == _bridge.LAB_DECODE_ERROR
    assert k.model(ddr.copy(), DDR_BASE, src_phys, dst_phys, rows, cols) == _bridge.LAB_DECODE_ERROR
    np.testing.assert_array_equal(ddr, before)


def test_empty_ranges_are_not_decoded(hls_lib):
    """rows == 0 never touches memory; cols == 0 never reads src."""
    ddr = fresh_ddr(seed=4)
    before = ddr.copy()
    assert hls_lib.ddr_rowsum(ddr, DDR_BASE, 3, 5, 0, 10) == _bridge.LAB_OK
    np.testing.assert_array_equal(ddr, before)
    assert hls_lib.ddr_rowsum(ddr, DDR_BASE, 3, phys(8), 4, 0) == _bridge.LAB_OK
    assert ddr[8:12].tolist() == [0, 0, 0, 0]


def test_bad_window(hls_lib):
    ddr = fresh_ddr(seed=6)
    lib = hls_lib.lib
    args = (phys(0), phys(100), 2, 2)
    assert lib.lab_ddr_rowsum(ddr.ctypes.data, DDR_BASE + 2, DDR_BYTES, *args) == _bridge.LAB_ERR_BAD_WINDOW
    assert lib.lab_ddr_rowsum(ddr.ctypes.data, DDR_BASE, DDR_BYTES - 1, *args) == _bridge.LAB_ERR_BAD_WINDOW
    assert lib.lab_ddr_rowsum(ddr.ctypes.data, 2**64 - 4, 8, *args) == _bridge.LAB_ERR_BAD_WINDOW
    assert lib.lab_ddr_rowsum(None, DDR_BASE, DDR_BYTES, *args) == _bridge.LAB_ERR_NULL
    assert k.check_args(DDR_BASE + 2, DDR_BYTES, *args) == _bridge.LAB_ERR_BAD_WINDOW


def test_bridge_accepts_a_byte_view_of_ddr(hls_lib):
    """The simulator's DDR may be a uint8 array; the bridge only needs its address."""
    words = fresh_ddr(seed=8)
    as_bytes = words.view(np.uint8)
    want = words.copy()
    assert hls_lib.ddr_rowsum(as_bytes, DDR_BASE, phys(0), phys(5000), 10, 10) == 0
    assert k.model(want.view(np.uint8), DDR_BASE, phys(0), phys(5000), 10, 10) == 0
    np.testing.assert_array_equal(words, want)


def test_cycles_and_traffic():
    per_row = (k.M_AXI_READ_LATENCY + (FORUM_COLS - 1) * k.II_COLS + k.COLS_PIPELINE_DEPTH
               + k.M_AXI_WRITE_LATENCY + k.ROW_OVERHEAD)
    assert k.cycles(FORUM_ROWS, FORUM_COLS) == k.CALL_OVERHEAD + FORUM_ROWS * per_row == 14772
    assert k.cycles(0, 100) == k.CALL_OVERHEAD
    assert k.cycles(3, 0) == k.CALL_OVERHEAD + 3 * (k.M_AXI_WRITE_LATENCY + k.ROW_OVERHEAD)
    assert k.traffic(FORUM_ROWS, FORUM_COLS) == {
        "read_bytes": 22400, "write_bytes": 280, "read_bursts": 350, "write_bursts": 70}
