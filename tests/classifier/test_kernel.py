"""The cnn_classifier kernel: numpy twin, csim testbench and ctypes bridge,
all bit for bit equal to the numpy reference model."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest

from labkit.classifier import classify_reference
from labkit.kernels import _status
from labkit.kernels import cnn_classifier as kernel
from labkit.kernels._common import KernelArgumentError

RNG_SEED = 5
N_HELD_OUT = 50
TB_TIMEOUT_S = 60


# ---- test images ------------------------------------------------------------

@pytest.fixture(scope="module")
def held_out_images(digits) -> np.ndarray:
    return digits.images[digits.held_out_idx[:N_HELD_OUT]]


def _random_images(count: int, seed: int = RNG_SEED) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)


def _extreme_images() -> np.ndarray:
    """Black, white (largest accumulators), and a one-pixel image."""
    dot = np.zeros((28, 28), np.uint8)
    dot[14, 14] = 255
    return np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8), dot])


# ---- the numpy twin -----------------------------------------------------------

def test_pack_images_layout() -> None:
    images = _random_images(2)
    beats = kernel.pack_images(images)
    assert beats.dtype == np.uint64 and beats.shape == (2 * kernel.BEATS_PER_IMAGE,)
    flat = images.reshape(2, -1)
    for n, k in [(0, 0), (0, 7), (0, 8), (0, 783), (1, 0), (1, 100), (1, 783)]:
        beat = int(beats[n * kernel.BEATS_PER_IMAGE + k // 8])
        assert (beat >> (8 * (k % 8))) & 0xFF == flat[n, k], (n, k)
    np.testing.assert_array_equal(kernel.unpack_images(beats), images)
    assert kernel.pack_images(images[0]).shape == (kernel.BEATS_PER_IMAGE,)


def test_model_equals_reference_with_tlast_on_the_last_beat(held_out_images) -> None:
    words, last = kernel.model(kernel.pack_images(held_out_images), N_HELD_OUT)
    np.testing.assert_array_equal(kernel.scores_from_words(words),
                                  classify_reference(held_out_images))
    expected_last = np.zeros(N_HELD_OUT * 10, np.uint8)
    expected_last[-1] = 1
    np.testing.assert_array_equal(last, expected_last)


def test_cycle_model() -> None:
    assert kernel.stage_cycles() == {"read": 99, "conv1": 6093, "conv2": 7209,
                                     "fc": 404, "write": 11}
    assert kernel.cycles(1) == kernel.START_OVERHEAD + 13827
    assert kernel.cycles(kernel.MAX_BATCH) - kernel.cycles(kernel.MAX_BATCH - 1) == 13827
    assert kernel.cycles(0) == kernel.START_OVERHEAD
    with pytest.raises(ValueError):
        kernel.cycles(-1)


def test_register_map_in_pynq_format() -> None:
    regs = kernel.REGISTERS
    assert [regs[n]["address_offset"] for n in ("CTRL", "GIER", "IP_IER", "IP_ISR", "batch")] \
        == [0x00, 0x04, 0x08, 0x0C, 0x10]
    ctrl = regs["CTRL"]["fields"]
    assert {n: (f["bit_offset"], f["access"]) for n, f in ctrl.items()
            if n in ("AP_START", "AP_DONE", "AP_IDLE", "AP_READY", "AUTO_RESTART")} == {
        "AP_START": (0, "read-write"), "AP_DONE": (1, "read-only"),
        "AP_IDLE": (2, "read-only"), "AP_READY": (3, "read-only"),
        "AUTO_RESTART": (7, "read-write")}
    assert "clear" in ctrl["AP_DONE"]["description"]
    for reg in regs.values():
        assert reg["size"] == 32 and {"access", "description", "fields"} <= set(reg)
    assert kernel.VLNV == "xilinx.com:hls:cnn_classifier:1.0" and kernel.ADDR_RANGE == 0x10000


def test_pynq_register_map_accepts_the_table() -> None:
    registers = pytest.importorskip("pynq.registers")
    window = np.zeros(kernel.ADDR_RANGE // 4, dtype=np.uint32)
    regmap = registers.RegisterMap.create_subclass(kernel.KERNEL, kernel.REGISTERS)(window)
    regmap.batch = 100
    regmap.CTRL.AP_START = 1
    assert window[kernel.BATCH_OFFSET // 4] == 100 and window[0] == 1


# ---- C++: the bridge ------------------------------------------------------------

def _bridge(lib: ctypes.CDLL, beats: np.ndarray, batch: int, out_cap: int | None = None,
            null_input: bool = False) -> tuple[int, np.ndarray, np.ndarray]:
    cap = batch * kernel.SCORES_PER_IMAGE if out_cap is None else out_cap
    beats = np.ascontiguousarray(beats, dtype=np.uint64)
    out = np.full(max(cap, 1), 0xDEADBEEF, np.uint32)     # poison: unwritten words show
    last = np.full(max(cap, 1), 7, np.uint8)
    status = lib.lab_cnn_classifier(None if null_input else beats.ctypes.data, beats.size,
                                    out.ctypes.data, last.ctypes.data, cap, batch)
    return status, out, last


def _model_code(beats: np.ndarray, batch: int) -> int:
    try:
        kernel.model(beats, batch)
    except KernelArgumentError as exc:
        return exc.code
    return _status.LAB_OK


@pytest.mark.needs_gxx
@pytest.mark.parametrize("case", ["held_out", "random", "extremes", "batch_1", "max_batch"])
def test_bridge_equals_reference(cnn_lib, held_out_images, case: str) -> None:
    images = {
        "held_out": lambda: held_out_images,
        "random": lambda: _random_images(20),
        "extremes": _extreme_images,
        "batch_1": lambda: held_out_images[:1],
        "max_batch": lambda: _random_images(kernel.MAX_BATCH, seed=9),
    }[case]()
    batch = len(images)
    status, out, last = _bridge(cnn_lib, kernel.pack_images(images), batch)
    assert status == batch * kernel.SCORES_PER_IMAGE
    np.testing.assert_array_equal(kernel.scores_from_words(out[:status]),
                                  classify_reference(images))
    assert last[:status - 1].sum() == 0 and last[status - 1] == 1   # TLAST only at the end
    words, model_last = kernel.model(kernel.pack_images(images), batch)
    np.testing.assert_array_equal(out[:status], words)
    np.testing.assert_array_equal(last[:status], model_last)


@pytest.mark.needs_gxx
def test_bridge_error_codes_match_the_model(cnn_lib) -> None:
    one = kernel.pack_images(_random_images(1))
    two = kernel.pack_images(_random_images(2))
    cases = {
        "batch 0": (one, 0, None, _status.LAB_ERR_ZERO_LENGTH),
        "batch too large": (one, kernel.MAX_BATCH + 1, None, _status.LAB_ERR_TOO_LARGE),
        "extra input beat": (np.append(one, np.uint64(0)), 1, None, _status.LAB_ERR_INPUT_EXTRA),
        "input runs dry": (two[:-1], 2, None, _status.LAB_ERR_INPUT_DRY),
        "no input at all": (two[:0], 2, None, _status.LAB_ERR_INPUT_DRY),
        "output too small": (two, 2, 19, _status.LAB_ERR_OUT_CAP),
    }
    for name, (beats, batch, cap, code) in cases.items():
        status, out, _ = _bridge(cnn_lib, beats, batch, out_cap=cap)
        assert status == code, name
        assert (out == 0xDEADBEEF).all(), f"{name}: output written on error"
        if cap is None:
            assert _model_code(beats, batch) == code, name
    assert _bridge(cnn_lib, one, 1, null_input=True)[0] == _status.LAB_ERR_NULL


# ---- C++: the csim testbench ------------------------------------------------------

@pytest.mark.needs_gxx
def test_testbench_self_check_passes(cnn_tb: Path) -> None:
    done = subprocess.run([str(cnn_tb)], capture_output=True, text=True, timeout=TB_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failure(s)" in done.stdout and "FAIL" not in done.stdout


def _run_vectors(cnn_tb: Path, tmp_path: Path, calls: list[tuple[int, np.ndarray]]) -> list[np.ndarray]:
    """Run the testbench in vector mode; one int64 record per call."""
    lines = [str(len(calls))]
    for batch, beats in calls:
        lines.append(f"{batch} {beats.size} " + " ".join(str(int(b)) for b in beats))
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    done = subprocess.run([str(cnn_tb), "vectors", str(tmp_path / "in.txt"), str(tmp_path / "out.txt")],
                          capture_output=True, text=True, timeout=TB_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    records = (tmp_path / "out.txt").read_text().splitlines()
    assert len(records) == len(calls)
    return [np.array(r.split(), dtype=np.int64) for r in records]


@pytest.mark.needs_gxx
def test_testbench_vectors_equal_reference(cnn_tb: Path, tmp_path: Path, held_out_images) -> None:
    batches = [held_out_images, _random_images(10), _extreme_images(), held_out_images[:1],
               _random_images(kernel.MAX_BATCH, seed=11)]
    calls = [(len(images), kernel.pack_images(images)) for images in batches]
    one = kernel.pack_images(held_out_images[:1])
    calls += [(0, one),                         # batch 0: nothing read, nothing written
              (2, one),                         # input runs dry
              (1, np.append(one, np.array([1, 2], np.uint64)))]  # two extra beats stay
    records = _run_vectors(cnn_tb, tmp_path, calls)

    for images, record in zip(batches, records):
        status, count, leftover = record[:3]
        assert (status, count, leftover) == (0, len(images) * 10, 0)
        data, last = record[3::2], record[4::2]
        scores = kernel.scores_from_words(data.astype(np.uint32))
        np.testing.assert_array_equal(scores, classify_reference(images))
        assert last[:-1].sum() == 0 and last[-1] == 1
    assert list(records[-3]) == [0, 0, kernel.BEATS_PER_IMAGE]
    assert list(records[-2][:2]) == [1, 0]                      # STATUS_DRY
    assert list(records[-1][:3]) == [0, 10, 2]
