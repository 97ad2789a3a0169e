"""The exercise checks: right answers pass, typical wrong answers get their own hint, nonsense gets a hint too.

Every kind of wrong answer, typed by a student, is in tests/test_check_wrong_answers.py."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pynq import MMIO

from labkit import checks
from labkit.kernels import ddr_rowsum


def verdict(capsys, fn, *args, **kwargs) -> tuple[bool, str]:
    ok = fn(*args, **kwargs)
    out = capsys.readouterr().out
    assert out.startswith("Correct: " if ok else "Not yet: "), out
    return ok, out


def assert_hint(capsys, fn, *args) -> str:
    """Arguments a check cannot judge: it says so in a hint (never raises) and returns False."""
    ok, out = verdict(capsys, fn, *args)
    assert ok is False and len(out) > 30, out
    return out


# -- 01: per-word prediction -----------------------------------------------------------------------------

PER_WORD = 30e-6


@pytest.mark.parametrize("answer", [100 * 100 * PER_WORD, 100 * 100 * PER_WORD * 1.03])
def test_per_word_prediction_right(capsys, answer):
    ok, out = verdict(capsys, checks.check_per_word_prediction, PER_WORD, (100, 100), answer)
    assert ok and "10,000 writes" in out


@pytest.mark.parametrize("answer, hint", [
    (5600 * PER_WORD, "70 x 80"),
    (PER_WORD, "single write"),
    (200 * PER_WORD, "rows x cols"),
    (4 * 10000 * PER_WORD, "bytes"),
    (10000 * PER_WORD * 1e3, "milliseconds"),
    (1.0, "you used 100.00 us per write"),
    (10000 * 2e-6, "measured on the whole loop"),
    (100.0, "Count the writes"),
])
def test_per_word_prediction_wrong(capsys, answer, hint):
    ok, out = verdict(capsys, checks.check_per_word_prediction, PER_WORD, (100, 100), answer)
    assert not ok and hint in out


@pytest.mark.parametrize("args", [("fast", (1, 1), 1.0), (PER_WORD, (100,), 1.0), (PER_WORD, (1, 1), "1 s"),
                                  (-1.0, (1, 1), 1.0), (PER_WORD, (1.5, 2), 1.0)])
def test_per_word_prediction_nonsense(capsys, args):
    assert_hint(capsys, checks.check_per_word_prediction, *args)


# -- 02: array slice and packing ---------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [slice(0x100, 0x200), (0x100, 0x200), [256, 512], slice(0x100, 0x200, 1)])
def test_array_slice_right(capsys, answer):
    ok, out = verdict(capsys, checks.check_array_slice, 0x400, 0x800, answer)
    assert ok and "256 words" in out


@pytest.mark.parametrize("answer, hint", [
    (slice(0x400, 0x800), "byte offsets"),
    (slice(0x1000, 0x2000), "multiplied"),
    (slice(0x100, 0x1FF), "excludes its stop"),
    (slice(0x80, 0x100), "divide the byte offsets by 4"),
    (slice(0x100, 0x200, 2), "step"),
    (slice(0x101, 0x201), "covers bytes 0x404"),
])
def test_array_slice_wrong(capsys, answer, hint):
    ok, out = verdict(capsys, checks.check_array_slice, 0x400, 0x800, answer)
    assert not ok and hint in out


def test_array_slice_stop_is_not_a_length(capsys):
    ok, out = verdict(capsys, checks.check_array_slice, 0x8000, 0x8000 + 4 * 5600, (0x2000, 5600))
    assert not ok and "not a length" in out


@pytest.mark.parametrize("args", [(0x401, 0x800, (0, 1)), (0x800, 0x400, (0, 1)), (0x400, 0x800, "0x100:0x200"),
                                  ("0x400", 0x800, (0, 1)), (0x400, 0x800, (0x100, 0x200, 1))])
def test_array_slice_nonsense(capsys, args):
    assert_hint(capsys, checks.check_array_slice, *args)


PIXELS = np.arange(1, 13, dtype=np.uint16).reshape(3, 4) * 1000


def test_packed16_view_is_right(capsys):
    ok, out = verdict(capsys, checks.check_packed16, PIXELS, PIXELS.view(np.uint32))
    assert ok and "6 words" in out


@pytest.mark.parametrize("make, hint", [
    (lambda p: p.astype(np.uint32), "astype() converts each pixel"),
    (lambda p: p.reshape(-1).view(np.uint32).copy(), "copy"),
    (lambda p: (p.reshape(-1)[0::2].astype(np.uint32) << 16) | p.reshape(-1)[1::2], "swapped"),
    (lambda p: p.reshape(-1).view(np.uint32)[:-1], "6"),
    (lambda p: p.reshape(-1).astype(np.int64), "one pixel per element"),
    (lambda p: p.view(np.uint32) + np.uint32(1), "differ"),
])
def test_packed16_wrong(capsys, make, hint):
    ok, out = verdict(capsys, checks.check_packed16, PIXELS, make(PIXELS))
    assert not ok and hint in out


def test_packed16_with_shifts_is_right_but_a_copy(capsys):
    flat = PIXELS.reshape(-1)
    shifted = flat[0::2].astype(np.uint32) | (flat[1::2].astype(np.uint32) << 16)
    ok, out = verdict(capsys, checks.check_packed16, PIXELS, shifted)
    assert not ok and "copy" in out


@pytest.mark.parametrize("args", [(PIXELS.astype(np.uint32), PIXELS), (PIXELS[:, :3].reshape(-1)[:9], PIXELS),
                                  (PIXELS, [1, 2, 3])])
def test_packed16_nonsense(capsys, args):
    assert_hint(capsys, checks.check_packed16, *args)


# -- 03: DMA limits and status bits ------------------------------------------------------------------------

def test_dma_max_transfer_right(capsys, board):
    ok, out = verdict(capsys, checks.check_dma_max_transfer, board.dma_loop, 2**26 - 1)
    assert ok and "26 bits" in out


@pytest.mark.parametrize("answer, hint", [
    (2**26, "one byte too many"), (26, "width of the LENGTH field"), ((2**26 - 1) // 4, "bytes, not 32-bit words"),
    (2**32 - 1, "32 bits wide"), (64, "bytes, not MiB"), (1000, "c_sg_length_width"),
])
def test_dma_max_transfer_wrong(capsys, board, answer, hint):
    ok, out = verdict(capsys, checks.check_dma_max_transfer, board.dma_loop, answer)
    assert not ok and hint in out


def test_dma_max_transfer_nonsense(capsys, board):
    assert_hint(capsys, checks.check_dma_max_transfer, board.mmio_rowsum, 2**26 - 1)
    assert_hint(capsys, checks.check_dma_max_transfer, board.dma_loop, "64 MiB")


@pytest.mark.parametrize("meaning, answer", [("decode error", 6), ("DMADecErr", 6), ("halted", 0), ("Idle", 1),
                                             ("slave error", 5), ("internal error", 4)])
def test_dma_status_bit_right(capsys, meaning, answer):
    ok, _ = verdict(capsys, checks.check_dma_status_bit, meaning, answer)
    assert ok


@pytest.mark.parametrize("answer, hint", [(0x40, "mask"), (0, "tells you *that*"), (5, "DMASlvErr"),
                                          (4, "DMAIntErr"), (9, "reserved")])
def test_dma_status_bit_wrong(capsys, answer, hint):
    ok, out = verdict(capsys, checks.check_dma_status_bit, "decode error", answer)
    assert not ok and hint in out


@pytest.mark.parametrize("args", [("on fire", 6), (6, 6), ("decode error", "6")])
def test_dma_status_bit_nonsense(capsys, args):
    assert_hint(capsys, checks.check_dma_status_bit, *args)


def test_dmasr_bits_match_the_register_map():
    from labkit.sim.ip.axi_dma import DMA_REGISTERS
    fields = DMA_REGISTERS["MM2S_DMASR"]["fields"]
    for bit, (name, _) in checks.DMASR_BITS.items():
        assert fields[name]["bit_offset"] == bit


# -- 04: double buffering ----------------------------------------------------------------------------------

def test_pingpong_speedup_right(capsys):
    ok, out = verdict(capsys, checks.check_pingpong_speedup, 1e-4, 3e-4, 4 / 3)
    assert ok and "1.33x" in out
    ok, _ = verdict(capsys, checks.check_pingpong_speedup, 2e-4, 2e-4, 2.0)
    assert ok


@pytest.mark.parametrize("answer, hint", [(2.0, "equal length"), (4.0, "at most 2"), (3.0, "at most 2"),
                                          (1 / 3, "ratio of the two stages"), (0.75, "upside down"),
                                          (1.6, "Divide")])
def test_pingpong_speedup_wrong(capsys, answer, hint):
    ok, out = verdict(capsys, checks.check_pingpong_speedup, 1e-4, 3e-4, answer)
    assert not ok and hint in out


@pytest.mark.parametrize("args", [(0, 1e-4, 1.0), ("1e-4", 1e-4, 1.0), (1e-4, 1e-4, None)])
def test_pingpong_speedup_nonsense(capsys, args):
    assert_hint(capsys, checks.check_pingpong_speedup, *args)


STAGES = {"LB": 1.6e-4, "COM": 4.9e-4, "SB": 3.3e-4}


def test_limiting_stage(capsys):
    ok, out = verdict(capsys, checks.check_limiting_stage, STAGES, "com")
    assert ok and "COM" in out
    ok, out = verdict(capsys, checks.check_limiting_stage, STAGES, "LB")
    assert not ok and "fastest" in out
    ok, out = verdict(capsys, checks.check_limiting_stage, STAGES, "SB")
    assert not ok and "longest" in out


@pytest.mark.parametrize("args", [(STAGES, "DMA"), ({}, "LB"), (STAGES, 1), ({"LB": "fast"}, "LB")])
def test_limiting_stage_nonsense(capsys, args):
    assert_hint(capsys, checks.check_limiting_stage, *args)


# -- 05: the syncs of a shared-DRAM kernel -------------------------------------------------------------------

def _student(sync_in: bool, sync_out: bool, start: bool = True):
    """A student's rowsum_on_pl, with or without each sync."""

    def rowsum_on_pl(ol, image, src, dst):
        regs = ddr_rowsum.REGISTERS
        m = MMIO(ol.ip_dict["ddr_rowsum"]["phys_addr"], ddr_rowsum.ADDR_RANGE)
        src[:] = image
        if sync_in:
            src.sync_to_device()
        for name, value in (("src_1", src.physical_address & 0xFFFF_FFFF), ("src_2", src.physical_address >> 32),
                            ("dst_1", dst.physical_address & 0xFFFF_FFFF), ("dst_2", dst.physical_address >> 32),
                            ("rows", image.shape[0]), ("cols", image.shape[1])):
            m.write(regs[name]["address_offset"], value)
        if start:
            m.write(0x00, 1)
            deadline = time.perf_counter() + 5
            while not m.read(0x00) & 0x2:
                assert time.perf_counter() < deadline
        if sync_out:
            dst.sync_from_device()
        return dst

    return rowsum_on_pl


def test_dram_syncs_right(capsys, board):
    ok, _ = verdict(capsys, checks.check_dram_syncs, board, _student(True, True))
    assert ok


@pytest.mark.parametrize("sync_in, sync_out, hints, not_hints", [
    (False, True, ["src.sync_to_device()"], ["dst.sync_from_device()"]),
    (True, False, ["dst.sync_from_device()", "before the run"], ["src.sync_to_device()"]),
    (False, False, ["src.sync_to_device()", "dst.sync_from_device()"], []),
])
def test_dram_syncs_says_which_is_missing(capsys, board, sync_in, sync_out, hints, not_hints):
    ok, out = verdict(capsys, checks.check_dram_syncs, board, _student(sync_in, sync_out))
    assert not ok
    for hint in hints:
        assert hint in out
    for hint in not_hints:
        assert hint not in out


def test_dram_syncs_kernel_never_started(capsys, board):
    ok, out = verdict(capsys, checks.check_dram_syncs, board, _student(True, True, start=False))
    assert not ok and "never ran" in out


def test_dram_syncs_returned_nothing(capsys, board):
    ok, out = verdict(capsys, checks.check_dram_syncs, board, lambda ol, image, src, dst: None)
    assert not ok and "None" in out


def test_dram_syncs_frees_its_buffers(board):
    pool = board.device.pool
    before = pool.live_buffers
    checks.check_dram_syncs(board, _student(True, True))
    assert pool.live_buffers == before


def test_dram_syncs_nonsense(capsys, board):
    assert_hint(capsys, checks.check_dram_syncs, None, _student(True, True))
    assert_hint(capsys, checks.check_dram_syncs, board, "not a function")


def test_check_flip_kernel_hints_for_every_wrong_answer(capsys):
    from labkit.checks import check_flip_kernel

    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    assert check_flip_kernel(image, image[::-1]) is True
    wrong = {
        "unchanged": image,
        "left-right": image[:, ::-1],
        "180-degree": image[::-1, ::-1],
        "byte stream": image.reshape(-1)[::-1].reshape(image.shape),
        "all zeros": np.zeros_like(image),
        "shape": image[:2],
        "differs": image + 1,
    }
    for hint, answer in wrong.items():
        assert check_flip_kernel(image, answer) is False
        assert hint in capsys.readouterr().out
    assert check_flip_kernel(image, object()) is False  # never raises
