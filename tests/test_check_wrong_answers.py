"""Every check, fed the wrong answers students really type: each gets a hint, none raises.

One table per check: the right answer's call, then plausible wrong answers of every kind -- a wrong
number, a wrong unit, a wrong type, None, a string, an array where a slice was asked for, NaN, an
infinity, a bool, a name instead of a number.  For each, the check must return False and print
``Not yet: `` and a sentence; and the sentence must be one of the check's own hints, not the
catch-all "could not judge" (which would mean a kind of answer nobody thought about).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from labkit import checks, power_checks
from labkit.classifier import checks as classifier_checks

NAN, INF = float("nan"), float("inf")
PER_WORD = 30e-6
PIXELS = np.arange(1, 13, dtype=np.uint16).reshape(3, 4) * 1000

# Wrong answers every numeric check must turn into a hint.
ODD_VALUES = [None, "0.3", "0.3 s", NAN, INF, -INF, True, [1, 2], np.array([1.0, 2.0]), {"a": 1}, object(), 1j]

# (check, arguments before the answer, wrong answers specific to this exercise)
NUMERIC = {
    "per_word_prediction": (checks.check_per_word_prediction, (PER_WORD, (100, 100)),
                            [100 * 100 * PER_WORD * 1e3, 5600 * PER_WORD, 5600 * PER_WORD * 1e3, PER_WORD,
                             100 * 100 * 2.8e-6, 0.0, -0.3, 1e9]),
    "pingpong_speedup": (checks.check_pingpong_speedup, (1e-4, 3e-4),
                         [2.0, 4.0, 0.75, 1 / 3, 133.0, 0.0, -1.0]),
    "batch_wait": (classifier_checks.check_batch_wait, (8, 30),
                   [7 / 30 * 1e3, 8 / 30, 8 / 30 * 1e3, 1 / 30, 7 * 30, 0.0, 266.6666666666667]),
    "ddr_energy": (power_checks.check_ddr_energy, (1 << 20,),
                   [(1 << 20) * 8 * 42e-12, 1e-3, -1.0, 0.0]),
    "energy_per_image": (power_checks.check_energy_per_image, ({"batch": 16, "power_w": 1.5, "images_per_s": 6000.0},),
                         [1.5 * 6000, 1.5 / 6000 * 16, 1.5 / 6000 * 1e3, 0.0]),
}


def _hint(capsys, check, *args) -> str:
    result = check(*args)
    out = capsys.readouterr().out
    assert result is False, f"{check.__name__}{args!r} said right: {out}"
    assert out.startswith("Not yet: ") and len(out) > 40, out
    assert "could not judge" not in out, f"{check.__name__} has no hint of its own for {args[-1]!r}: {out}"
    assert "nan s" not in out and "inf s" not in out, out
    return out


def _cases():
    for name, (check, before, wrong) in NUMERIC.items():
        for answer in wrong + ODD_VALUES:
            yield pytest.param(check, before, answer, id=f"{name}-{answer!r}"[:60])


@pytest.mark.parametrize("check, before, answer", list(_cases()))
def test_numeric_checks_hint_every_wrong_answer(capsys, check, before, answer):
    _hint(capsys, check, *before, answer)


def test_batch_wait_hints_are_formatted(capsys):
    out = _hint(capsys, classifier_checks.check_batch_wait, 8, 30, 8 / 30 * 1e3)
    assert "milliseconds" in out and "7 frames" not in out or "other 7" in out
    out = _hint(capsys, classifier_checks.check_batch_wait, 8, 30, 12.345678)
    assert "12.346 s" in out and "12.345678" not in out


def test_element_address_wrong_answers(capsys, board):
    import pynq

    buf = pynq.allocate((70, 80), np.uint32, target=board.device)
    try:
        base = buf.physical_address
        for answer in (base + 3 * 80 + 5, base + (3 * 80 + 5) * 32, base, float(base + 3), str(base),
                       hex(base + 245 * 4), None, NAN, [base], np.array([base, base])):
            _hint(capsys, checks.check_element_address, buf, (3, 5), answer)
        assert checks.check_element_address(buf, (3, 5), float(base + 245 * 4))  # a whole float is fine
        capsys.readouterr()
    finally:
        buf.freebuffer()


@pytest.mark.parametrize("answer", [
    slice(0x200, 0x400), slice(0x80, 0x100 - 1), np.arange(0x80, 0x100), np.arange(0x80, 0x100, dtype=np.uint32),
    list(range(0x80, 0x100)), range(0x80, 0x100), np.array([1.5, 2.5]), "0x80:0x100", "[0x80:0x100]", None, NAN,
    slice(None, 0x100), slice(0x80, None), (128.5, 0x100), (0x80, "0x100"), 0x80, (0x80, 0x100, 1),
    slice(0x80 / 1, 0x100 / 3),
])
def test_array_slice_wrong_answers(capsys, answer):
    _hint(capsys, checks.check_array_slice, 0x200, 0x400, answer)


@pytest.mark.parametrize("make", [
    lambda p: p.view(np.uint16), lambda p: p.view(np.uint8), lambda p: p.view(np.int32), lambda p: p.astype(np.uint32),
    lambda p: p.tolist(), lambda p: None, lambda p: "p.view(np.uint32)", lambda p: p.reshape(-1).view(np.uint32)[:2],
    lambda p: np.array([NAN]), lambda p: p.view(np.uint32).astype(np.float64),
])
def test_packed16_wrong_answers(capsys, make):
    answer = make(PIXELS)
    out = _hint(capsys, checks.check_packed16, PIXELS, answer)
    if isinstance(answer, np.ndarray) and np.shares_memory(answer, PIXELS):
        assert "astype" not in out, f"a student who used a view is told about astype: {out}"


@pytest.mark.parametrize("answer", [2**26, 26, 64, "64 MiB", "2**26 - 1", None, NAN, 2.0**26, 67108863.5, -1,
                                    2**32 - 1, [2**26 - 1], np.array([2**26 - 1, 0])])
def test_dma_max_transfer_wrong_answers(capsys, board, answer):
    _hint(capsys, checks.check_dma_max_transfer, board.dma_loop, answer)


@pytest.mark.parametrize("meaning, answer", [
    ("decode error", "DMADecErr"), ("decode error", "decode"), ("decode error", 0x40), ("decode error", 0),
    ("decode error", 32), ("decode error", -1), ("decode error", None), ("decode error", 6.5), ("decode error", NAN),
    ("decode error", "6"), ("DMADecErr", 5), ("decode error", [6]), ("on fire", 6), (6, 6),
])
def test_dma_status_bit_wrong_answers(capsys, meaning, answer):
    _hint(capsys, checks.check_dma_status_bit, meaning, answer)


STAGES = {"LB": 1e-4, "COM": 3e-4}


@pytest.mark.parametrize("stages, answer", [
    (STAGES, "SB"), (STAGES, "LB"), (STAGES, "dma"), (STAGES, 3e-4), (STAGES, None), (STAGES, ["COM"]),
    (STAGES, NAN), (STAGES, ""), ({"LB": "fast"}, "LB"), ({}, "LB"), (STAGES, max(STAGES.values())),
])
def test_limiting_stage_wrong_answers(capsys, stages, answer):
    _hint(capsys, checks.check_limiting_stage, stages, answer)


def _raises(ol, image, src, dst):
    raise RuntimeError("ap_done never came")


@pytest.mark.parametrize("student", [
    None, "rowsum_on_pl", _raises, lambda ol, image, src, dst: "sums", lambda ol, image, src, dst: [1, 2],
    lambda ol, image: None, lambda ol, image, src, dst: np.full(8, NAN),
])
def test_dram_syncs_wrong_answers(capsys, board, student):
    _hint(capsys, checks.check_dram_syncs, board, student)


@pytest.mark.parametrize("fn", [
    None, 3.0, "throughput_and_latency", lambda results: None, lambda results: "fast", lambda results: (1, 2, 3),
    lambda results: (NAN, 0.1), lambda results: 1 / 0, lambda: (1.0, 0.1), lambda results: (len(results), 0.1),
])
def test_throughput_latency_wrong_answers(capsys, fn):
    _hint(capsys, classifier_checks.check_throughput_latency, fn)


def test_ddr_energy_and_energy_per_image_wrong_setup(capsys):
    _hint(capsys, power_checks.check_ddr_energy, "1 MiB", 1e-4)
    _hint(capsys, power_checks.check_energy_per_image, {"batch": 16, "power_w": 1.5}, 1e-4)
    assert math.isfinite(1.0)
