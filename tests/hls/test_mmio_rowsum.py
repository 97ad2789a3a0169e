"""mmio_rowsum: the C++ testbench's vector mode and the bridge against the
numpy twin (the testbench's self-test: test_testbenches.py)."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.kernels import _bridge, mmio_rowsum as k

pytestmark = pytest.mark.needs_gxx

SENTINEL = 0xA5A5A5A5
FORUM_ROWS, FORUM_COLS = 70, 80


def random_image(rng: np.random.Generator, high: int = 2**32) -> np.ndarray:
    return rng.integers(0, high, size=k.MAX_WORDS, dtype=np.uint64).astype(np.uint32)


def sentinel_rowsum() -> np.ndarray:
    return np.full(k.MAX_ROWS, SENTINEL, dtype=np.uint32)


# (rows, cols, pack16, image kind): valid edges, wrap-around, and refused sizes
CASES = [
    (FORUM_ROWS, FORUM_COLS, 0, "random"),
    (FORUM_ROWS, FORUM_COLS, 1, "random"),
    (k.MAX_ROWS, k.MAX_WORDS // k.MAX_ROWS, 0, "near_max"),        # 8192 words, wraps
    (k.MAX_ROWS, 2 * k.MAX_WORDS // k.MAX_ROWS, 1, "near_max"),    # 16384 packed pixels
    (1, k.MAX_WORDS, 0, "near_max"),
    (1, 2 * k.MAX_WORDS, 1, "random"),
    (1, 1, 0, "random"),
    (3, 5, 1, "random"),                                           # odd pixel count
    (0, 5, 0, "random"),
    (5, 0, 1, "random"),
    (k.MAX_ROWS + 1, 1, 0, "random"),
    (k.MAX_ROWS, k.MAX_WORDS // k.MAX_ROWS + 1, 0, "random"),      # 8320 words
    (k.MAX_ROWS, 2 * k.MAX_WORDS // k.MAX_ROWS + 1, 1, "random"),
    (1, k.MAX_WORDS + 1, 0, "random"),                             # one pixel too many
    (1, 2 * k.MAX_WORDS + 1, 1, "random"),
    (3, 2731, 0, "random"),                                        # 8193 pixels
    (2, k.MAX_WORDS // 2, 0, "random"),                            # exactly full
    (1, 2**32 - 1, 0, "random"),
    (1, 2**32 - 1, 1, "random"),
]


def make_image(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "near_max":  # words close to 2**32: every row sum wraps
        return (np.uint32(0xFFFFFFF0) | rng.integers(0, 16, k.MAX_WORDS).astype(np.uint32))
    return random_image(rng)


def test_vectors_equal_numpy_twin(build_testbench, run_vectors):
    rng = np.random.default_rng(7)
    cases = [(r, c, p, make_image(kind, rng), sentinel_rowsum()) for r, c, p, kind in CASES]
    for _ in range(10):  # plus random valid shapes
        pack16 = int(rng.integers(0, 2))
        rows = int(rng.integers(1, k.MAX_ROWS + 1))
        cols = int(rng.integers(1, (k.MAX_WORDS * (1 + pack16)) // rows + 1))
        cases.append((rows, cols, pack16, random_image(rng), random_image(rng)[: k.MAX_ROWS]))
    records = [[r, c, p, *img.tolist(), *before.tolist()] for r, c, p, img, before in cases]
    outputs = run_vectors(build_testbench("mmio_rowsum"), records)
    assert len(outputs) == len(cases)
    for (rows, cols, pack16, image, before), got in zip(cases, outputs):
        want = k.model(image, rows, cols, pack16, before)
        np.testing.assert_array_equal(np.array(got, dtype=np.uint32), want,
                                      err_msg=f"rows={rows} cols={cols} pack16={pack16}")


def test_bridge_equals_numpy_twin(hls_lib):
    rng = np.random.default_rng(11)
    for rows, cols, pack16, kind in CASES:
        image = make_image(kind, rng)
        rowsum = sentinel_rowsum()
        status = hls_lib.mmio_rowsum(image, rowsum, rows, cols, pack16)
        assert status == k.check_args(rows, cols, pack16), (rows, cols, pack16)
        np.testing.assert_array_equal(rowsum, k.model(image, rows, cols, pack16, sentinel_rowsum()),
                                      err_msg=f"rows={rows} cols={cols} pack16={pack16}")


def test_bridge_error_codes(hls_lib):
    image = np.zeros(k.MAX_WORDS, dtype=np.uint32)
    rowsum = sentinel_rowsum()
    assert hls_lib.mmio_rowsum(image, rowsum, 0, 1, 0) == _bridge.LAB_ERR_ZERO_LENGTH
    assert hls_lib.mmio_rowsum(image, rowsum, 1, 0, 0) == _bridge.LAB_ERR_ZERO_LENGTH
    assert hls_lib.mmio_rowsum(image, rowsum, 129, 1, 0) == _bridge.LAB_ERR_TOO_LARGE
    assert hls_lib.mmio_rowsum(image, rowsum, 1, 8193, 0) == _bridge.LAB_ERR_TOO_LARGE
    assert hls_lib.mmio_rowsum(image, rowsum, 1, 16385, 1) == _bridge.LAB_ERR_TOO_LARGE
    assert hls_lib.mmio_rowsum(image, rowsum, 1, 16384, 1) == _bridge.LAB_OK
    np.testing.assert_array_equal(rowsum[1:], SENTINEL)  # refused calls wrote nothing
    assert hls_lib.lib.lab_mmio_rowsum(None, rowsum.ctypes.data, 1, 1, 0) == _bridge.LAB_ERR_NULL


def test_forum_image_through_the_bridge(hls_lib):
    """The forum's 70 x 80 image of 16-bit pixels, sent packed and unpacked."""
    rng = np.random.default_rng(70)
    pixels = rng.integers(0, 2**16, size=(FORUM_ROWS, FORUM_COLS), dtype=np.uint16)
    want = pixels.astype(np.uint64).sum(axis=1).astype(np.uint32)
    for pack16, words in ((0, pixels.reshape(-1).astype(np.uint32)),
                          (1, k.pack_pixels16(pixels))):
        image = np.zeros(k.MAX_WORDS, dtype=np.uint32)
        image[: words.size] = words
        rowsum = np.zeros(k.MAX_ROWS, dtype=np.uint32)
        assert hls_lib.mmio_rowsum(image, rowsum, FORUM_ROWS, FORUM_COLS, pack16) == 0
        np.testing.assert_array_equal(rowsum[:FORUM_ROWS], want)
    assert k.pack_pixels16(pixels).size == FORUM_ROWS * FORUM_COLS // 2
