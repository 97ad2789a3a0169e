"""Lesson 08's exercise check and the board-wide status report."""

from __future__ import annotations

import numpy as np
import pytest

import labkit
import labkit.recovery
from labkit.fault_checks import check_threshold
from labkit.status import board_status

SAMPLES = [0.004, 0.0042, 0.0045, 0.005, 0.0041, 0.0043, 0.006, 0.0044, 0.0046, 0.0048]


@pytest.mark.parametrize("answer, words", [
    (0.0044, "median"), (0.0055, "slowest healthy call"), (0.0061, "only just above"),
    (0.9, "very loose"), (25, "milliseconds"), (-1.0, "positive"), ("0.02", "number of seconds"), (True, "number"),
    (None, "number of seconds"),
])
def test_every_wrong_threshold_gets_a_hint(capsys, answer, words):
    assert check_threshold(SAMPLES, answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and words in out


def test_a_good_threshold_passes(capsys):
    assert check_threshold(SAMPLES, 0.02) is True
    assert capsys.readouterr().out.startswith("Correct:")
    assert check_threshold(SAMPLES[:3], 0.02) is False


def test_board_status_names_every_channel_and_kernel(board):
    text = board_status(board)
    for name in ("dma_loop.sendchannel", "dma_pp.recvchannel", "dma_cnn.sendchannel", "pp_store: ap_ctrl",
                 "cnn_classifier: ap_ctrl"):
        assert name in text
    labkit.probe(board).faults.inject("dma_loop", "bus_error")
    from pynq import allocate

    buf = allocate(256, np.uint32, target=board.device)
    try:
        board.dma_loop.sendchannel.transfer(buf)
        assert "DMASlvErr" in board_status(board)
    finally:
        buf.freebuffer()
        labkit.recovery.recover(board)


def test_the_trace_tells_who_waited(board):
    from labkit import transfer

    assert transfer.run("dma_pingpong", board, transfer.make_input("dma_pingpong", 65536, seed=1)).verified
    waited = {r.waited for r in labkit.probe(board).stream_trace()}
    assert "consumer waited for producer" in waited
    assert all(r.wait_s >= 0 and r.end >= r.start for r in labkit.probe(board).stream_trace())
