"""The fault catalogue: each classic DMA/kernel failure on the simulated board, with pynq's own outcome,
the injector's validation, and recovery that leaves the board fully usable."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pynq import allocate

import labkit
from labkit import transfer
from labkit.errors import DmaError, LabTimeoutError
from labkit.recovery import reconfigure, recover, reset_dma
from labkit.run import wait_ap_done, wait_dma
from labkit.status import dma_status

FIFO_WORDS = 1024 * 2  # loop_fifo: 1024 beats of 64 bits


def _words(n: int = 4096, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)


def _healthy(board) -> None:
    """Every DMA path and an MMIO kernel give verified results (the board is fully usable)."""
    for method in ("dma", "dma_pingpong", "array_slice"):
        result = transfer.run(method, board, transfer.make_input(method, 16384, seed=3), timeout=5)
        assert result.verified, f"{method}: {result.mismatches} wrong words"
    _loopback_ok(board)


def _loopback_ok(board, n: int = 1024) -> None:
    dma = board.dma_loop
    src, dst = allocate(n, np.uint32, target=board.device), allocate(n, np.uint32, target=board.device)
    try:
        src[:] = _words(n, seed=9)
        dst[:] = 0
        dma.recvchannel.transfer(dst)
        dma.sendchannel.transfer(src)
        wait_dma(dma, "send", "dma_loop", 5)
        wait_dma(dma, "recv", "dma_loop", 5)
        np.testing.assert_array_equal(dst, src)
    finally:
        src.freebuffer()
        dst.freebuffer()


# -- the injector checks every request against the loaded design ------------------------------------------

def test_unknown_ip_lists_what_can_fail(board):
    faults = labkit.probe(board).faults
    with pytest.raises(labkit.errors.DesignError, match=r"no IP called 'DMA_LOOP'.*dma_loop \(bus_error"):
        faults.inject("DMA_LOOP", "hang")


def test_a_kind_the_ip_cannot_have_lists_its_kinds(board):
    faults = labkit.probe(board).faults
    with pytest.raises(labkit.errors.DesignError, match=r"dma_loop \(axi_dma\) cannot have a 'drop_tlast'.*hp32"):
        faults.inject("dma_loop", "drop_tlast")
    assert set(faults.kinds("pp_store")) == {"hang", "slow", "drop_tlast", "wrong_result"}


@pytest.mark.parametrize("ip, kind, kwargs, message", [
    ("mmio_rowsum", "drop_tlast", {}, "could never fire: mmio_rowsum has no output stream"),
    ("ddr_rowsum", "wrong_result", {}, "could never fire"),
    ("pp_store", "slow", {"factor": 0.5}, "factor must be a number above 1"),
    ("pp_store", "hang", {"count": 0}, "positive whole number"),
    ("pp_store", "hang", {"count": None}, "persistent=True"),
    ("pp_store", "hang", {"rate": 0}, "a rate of 0 never fires"),
    ("pp_store", "hang", {"factor": 3}, "takes no parameter factor"),
])
def test_faults_that_cannot_fire_are_refused(board, ip, kind, kwargs, message):
    with pytest.raises(labkit.errors.DesignError, match=message):
        labkit.probe(board).faults.inject(ip, kind, **kwargs)
    assert labkit.probe(board).faults.armed() == []


def test_a_fault_fires_once_unless_asked_and_persistent_needs_clearing(board):
    faults = labkit.probe(board).faults
    faults.inject("pp_store", "wrong_result")
    assert not transfer.run("dma", board, _words(), timeout=5).verified
    assert faults.armed() == []
    assert transfer.run("dma", board, _words(), timeout=5).verified
    faults.inject("pp_store", "wrong_result", persistent=True)
    for _ in range(3):
        assert not transfer.run("dma", board, _words(), timeout=5).verified
    faults.clear()
    assert transfer.run("dma", board, _words(), timeout=5).verified


def test_a_rate_fires_about_that_often_and_repeatably(board):
    faults = labkit.probe(board).faults
    fired = []
    for _ in range(2):
        fault = faults.inject("dma_loop", "hp32", rate=0.25, seed=7, persistent=True)
        fired.append([faults.take("dma_loop", "hp32") is not None for _ in range(400)])
        faults.clear()
        assert fault.fired == sum(fired[-1])
    assert fired[0] == fired[1] and 60 < sum(fired[0]) < 140


def test_the_real_board_probe_has_no_injector(board):
    from labkit.boardprobe import BoardProbe, NotAvailableError

    with pytest.raises(NotAvailableError, match="simulated board"):
        BoardProbe(board.device).faults
    with pytest.raises(NotAvailableError, match="ILA"):
        BoardProbe(board.device).stream_trace()


# -- each classic failure, as pynq shows it ------------------------------------------------------------------

def test_short_receive_buffer_halts_s2mm_and_the_rest_arrives_next_time(board):
    """PG021: S2MM with a packet longer than LENGTH -> DMAIntErr, channel halted; pynq's wait() then says
    'not started' (it checks Halted first).  The FIFO in front keeps the rest across a DMA reset."""
    dma = board.dma_loop
    src, short = allocate(1024, np.uint32, target=board.device), allocate(512, np.uint32, target=board.device)
    rest = allocate(1024, np.uint32, target=board.device)
    try:
        src[:] = np.arange(1024, dtype=np.uint32)
        dma.recvchannel.transfer(short)
        dma.sendchannel.transfer(src)
        with pytest.raises(DmaError, match=r"DMA channel not started.*DMAIntErr.*longer than the receive buffer"):
            wait_dma(dma, "recv", "dma_loop", 2)
        status = dma_status(dma, "recv")
        assert status.halted and status.errors == ["DMAIntErr"]
        np.testing.assert_array_equal(short, src[:512])
        reset_dma(dma, "dma_loop")
        rest[:] = 0
        dma.recvchannel.transfer(rest)
        wait_dma(dma, "recv", "dma_loop", 2)
        assert dma.recvchannel.transferred == 512 * 4  # the rest of the old packet, up to its TLAST
        np.testing.assert_array_equal(rest[:512], src[512:])
    finally:
        for b in (src, short, rest):
            b.freebuffer()
    _healthy(board)


def test_reconfiguring_empties_the_fifo_and_keeps_ddr(board):
    dma = board.dma_loop
    src, short = allocate(1024, np.uint32, target=board.device), allocate(512, np.uint32, target=board.device)
    keep = allocate(64, np.uint32, target=board.device)
    try:
        keep[:] = 7
        keep.flush()
        src[:] = 1
        dma.recvchannel.transfer(short)
        dma.sendchannel.transfer(src)
        with pytest.raises(DmaError):
            wait_dma(dma, "recv", "dma_loop", 2)
        assert any(p.queued_beats for p in labkit.probe(board).stream_pending())
        took = reconfigure(board)
        assert not any(p.queued_beats for p in labkit.probe(board).stream_pending())
        assert took.modelled is not None and took.modelled.kind == "modelled"
        assert took.modelled.seconds == pytest.approx(32_364_512 / 3.2e9)
        assert took.measured.kind == "measured"
        keep.invalidate()
        assert (keep == 7).all()  # DDR is not part of the PL
    finally:
        for b in (src, short, keep):
            b.freebuffer()
    _healthy(board)


def test_a_download_in_board_pace_costs_the_modelled_reconfiguration_time(paced_board):
    seen = labkit.probe(paced_board)
    start = time.perf_counter()
    before = seen.reconfigurations
    paced_board.download()
    took = time.perf_counter() - start
    assert seen.reconfigurations == before + 1
    if seen.pace == "board":
        assert took >= seen.reconfiguration_s()


def test_tlast_never_sent_leaves_s2mm_busy_and_the_trace_says_so(board):
    labkit.probe(board).faults.inject("pp_store", "drop_tlast")
    with pytest.raises((LabTimeoutError, DmaError), match="TLAST"):
        transfer.run("dma", board, _words(), timeout=1)
    into_s2mm = [r for r in labkit.probe(board).stream_trace() if r.consumer == "dma_pp.s2mm"]
    assert into_s2mm and not into_s2mm[-1].tlast
    _healthy(board)


def test_receive_on_a_halted_channel_is_not_started(board):
    board.dma_loop  # pynq makes the driver (and starts the channels) on first access
    board.download()  # a reset DMA is halted until its channels are started again
    buf = allocate(256, np.uint32, target=board.device)
    try:
        with pytest.raises(RuntimeError, match="DMA channel not started"):
            board.dma_loop.recvchannel.transfer(buf)
    finally:
        buf.freebuffer()
    recover(board)
    _healthy(board)


def test_a_second_transfer_before_the_first_is_done_is_not_idle(board):
    buf = allocate(256, np.uint32, target=board.device)
    try:
        board.dma_loop.recvchannel.transfer(buf)  # nothing is sent: it stays busy
        with pytest.raises(RuntimeError, match="DMA channel not idle"):
            board.dma_loop.recvchannel.transfer(buf)
    finally:
        reset_dma(board.dma_loop, "dma_loop")
        buf.freebuffer()
    _healthy(board)


def test_a_14_bit_length_register_gives_pynqs_size_error(device):
    ol = labkit.open_board("transfer_lab_len14")
    assert ol.ip_dict["dma_loop"]["parameters"]["c_sg_length_width"] == "14"
    big = allocate(16384 // 4, np.uint32, target=device)  # 16 KiB: one byte over 2**14 - 1
    try:
        with pytest.raises(ValueError, match="exceeds the maximum DMA buffer size 16383"):
            ol.dma_loop.sendchannel.transfer(big)
        ol.dma_loop.recvchannel.transfer(big, nbytes=8192)
        ol.dma_loop.sendchannel.transfer(big, nbytes=8192)  # within the limit: fine
        wait_dma(ol.dma_loop, "recv", "dma_loop", 5)
    finally:
        big.freebuffer()


@pytest.mark.parametrize("kind, message", [("bus_error", "DMA channel not started.*Halted, DMASlvErr"),
                                           ("decode_error", "DMA channel not started.*Halted, DMADecErr")])
def test_axi_errors_give_pynqs_messages(board, kind, message):
    """PG021: an error halts the channel; pynq's wait() checks Halted before the error bits, so it says
    'not started' -- only the decoded DMASR names the real error."""
    labkit.probe(board).faults.inject("dma_pp", kind)
    with pytest.raises(DmaError, match=message):
        transfer.run("dma", board, _words(), timeout=2)
    _healthy(board)


def test_hp_port_at_32_bits_zeroes_every_odd_word(board):
    labkit.probe(board).faults.inject("dma_loop", "hp32")
    dma = board.dma_loop
    src, dst = allocate(512, np.uint32, target=board.device), allocate(512, np.uint32, target=board.device)
    try:
        src[:] = np.arange(1, 513, dtype=np.uint32)
        dma.recvchannel.transfer(dst)
        dma.sendchannel.transfer(src)
        wait_dma(dma, "send", "dma_loop", 2)
        wait_dma(dma, "recv", "dma_loop", 2)  # no error anywhere: the data is silently wrong
        assert (dst[1::2] == 0).all()
        np.testing.assert_array_equal(dst[0::2], src[0::2])
    finally:
        src.freebuffer()
        dst.freebuffer()
    _healthy(board)


def test_tkeep_tied_low_hangs_s2mm(board):
    labkit.probe(board).faults.inject("dma_pp", "tkeep_low")
    with pytest.raises(LabTimeoutError, match="TKEEP"):
        transfer.run("dma", board, _words(), timeout=1)
    assert any(not r.tkeep for r in labkit.probe(board).stream_trace())
    _healthy(board)


def test_a_hung_kernel_never_raises_ap_done(board):
    labkit.probe(board).faults.inject("mmio_rowsum", "hang")
    with pytest.raises(LabTimeoutError, match=r"mmio_rowsum did not raise ap_done.*ap_start"):
        transfer.run("array_slice", board, transfer.make_input("array_slice", 5600), timeout=0.5)
    _healthy(board)


def test_wait_ap_done_decodes_a_hung_kernel(board):
    from pynq import MMIO

    labkit.probe(board).faults.inject("mmio_rowsum", "hang")
    entry = board.ip_dict["mmio_rowsum"]
    mmio = MMIO(entry["phys_addr"], entry["addr_range"], device=board.device)
    mmio.write(0x0, 1)
    with pytest.raises(LabTimeoutError, match="started and not finished"):
        wait_ap_done(mmio, "mmio_rowsum", 0.3)
    recover(board)
    _healthy(board)


def test_a_slow_kernel_takes_k_times_its_modelled_time(board):
    def compute_s() -> float:
        seen = labkit.probe(board)
        mark = seen.snapshot().mark
        assert transfer.run("dma", board, _words(2048), timeout=5).verified
        work, _ = seen.intervals_since(mark)
        return sum(iv.end - iv.start for iv in work if iv.resource == "pp_load_compute.compute")

    healthy = compute_s()
    labkit.probe(board).faults.inject("pp_load_compute", "slow", factor=4)
    slow = compute_s()
    assert slow == pytest.approx(4 * healthy, rel=0.05)
    assert compute_s() == pytest.approx(healthy, rel=0.05)


def test_a_silent_wrong_result_is_one_corrupted_word(board):
    labkit.probe(board).faults.inject("pp_store", "wrong_result", word=5)
    result = transfer.run("dma", board, _words(), timeout=5)
    assert not result.verified and result.mismatches == 1
    _healthy(board)


def test_without_tlast_a_larger_receive_waits_for_ever(board):
    from labkit.kernels import cnn_classifier as cnn

    pixels = allocate(cnn.BEATS_PER_IMAGE, np.uint64, target=board.device)
    scores = allocate(1024, np.uint32, target=board.device)
    try:
        def classify_one() -> int:
            pixels[:] = cnn.pack_images(np.zeros((1, 28, 28), np.uint8))
            board.cnn_classifier.register_map.batch = 1
            board.cnn_classifier.register_map.CTRL.AP_START = 1
            board.dma_cnn.recvchannel.transfer(scores)
            board.dma_cnn.sendchannel.transfer(pixels)
            wait_dma(board.dma_cnn, "recv", "dma_cnn", 0.5)
            return board.dma_cnn.recvchannel.transferred

        assert classify_one() == 40  # TLAST ends the receive after 10 scores
        labkit.probe(board).faults.inject("cnn_classifier", "drop_tlast")
        with pytest.raises(LabTimeoutError, match="waiting for data or for TLAST"):
            classify_one()
        assert not dma_status(board.dma_cnn, "recv").idle
        assert any("waits for TLAST" in w for p in labkit.probe(board).stream_pending() for w in p.waiting)
        recover(board)
        assert classify_one() == 40
    finally:
        pixels.freebuffer()
        scores.freebuffer()


def test_every_kind_says_what_pynq_shows_and_cites_a_source(board):
    faults = labkit.probe(board).faults
    for ip, kinds in faults.possible().items():
        for kind in kinds:
            about = faults.about(ip, kind)
            assert about.what and about.outcome and about.source, (ip, kind)
    with pytest.raises(labkit.errors.DesignError, match="cannot have"):
        faults.about("dma_pp", "slow")
