"""The AXI DMA model driven by pynq's own DMA driver: loopback, limits, errors, timing."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pynq import MMIO, allocate

from labkit.sim.ip import axi_dma

MiB = 1 << 20
MAX_LENGTH = (1 << 26) - 1  # c_sg_length_width = 26


class NotABuffer:
    """Quacks like a PynqBuffer pointing wherever we like (to provoke a decode error)."""

    def __init__(self, physical_address: int, nbytes: int) -> None:
        self.physical_address = physical_address
        self.nbytes = nbytes

    def flush(self) -> None:
        pass

    def invalidate(self) -> None:
        pass


def loopback(board, nbytes: int, timeout: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    src = allocate(nbytes, np.uint8)
    dst = allocate(nbytes, np.uint8)
    src[:] = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    dma = board.dma_loop
    dma.recvchannel.transfer(dst)
    dma.sendchannel.transfer(src)
    dma.sendchannel.wait()
    dma.recvchannel.wait()
    assert dma.recvchannel.transferred == nbytes
    return src, dst


@pytest.mark.parametrize("nbytes", [4, 8, 12, 4096, 64 * 1024, 3 * MiB + 4])
def test_loopback_sizes_both_paces(paced_board, nbytes):
    src, dst = loopback(paced_board, nbytes)
    assert np.array_equal(src, dst)


def test_loopback_at_the_maximum_length(big_board):
    src, dst = loopback(big_board, MAX_LENGTH)
    assert np.array_equal(src, dst)


def test_transfer_too_large_is_pynqs_error(board):
    with pytest.raises(ValueError, match="exceeds the maximum DMA buffer size"):
        board.dma_loop.sendchannel.transfer(NotABuffer(0x1800_0000, MAX_LENGTH + 1))


def test_length_register_is_only_c_sg_length_width_bits(board):
    fabric = board.device.fabric
    mmio = MMIO(board.ip_dict["dma_loop"]["phys_addr"], 0x100)
    buf = allocate(4096, np.uint8)
    mmio.write(0x30 + 0x18, buf.physical_address)
    mmio.write(0x30 + 0x28, (1 << 26) | 4096)  # bit 26 does not exist: the DMA sees 4096
    assert mmio.read(0x30 + 0x28) == 4096  # pynq checks sizes first for exactly this reason
    fabric.ip("dma_loop").soft_reset()


def test_decode_error_for_an_address_outside_memory(paced_board):
    dma = paced_board.dma_pp
    dma.sendchannel.transfer(NotABuffer(0x0100_0000, 4096))  # below the CMA pool: nothing maps it here
    with pytest.raises(RuntimeError, match="DMA (channel not started|Decode Error)"):
        dma.sendchannel.wait()  # the error halts the channel, so pynq may see "not started"
    status = dma.mmio.read(0x04)
    assert status & axi_dma.SR_DEC_ERR and status & axi_dma.SR_HALTED
    dma.mmio.write(0x00, axi_dma.CR_RESET)  # only a reset clears it
    dma.sendchannel.start()
    assert dma.sendchannel.running and not dma.sendchannel.error


def test_zero_length_is_an_internal_error(board):
    mmio = board.dma_pp.mmio
    mmio.write(0x28, 0)
    status = mmio.read(0x04)
    assert status & axi_dma.SR_INT_ERR and status & axi_dma.SR_HALTED


def test_second_transfer_while_busy_is_pynqs_not_idle_error(board):
    dst = allocate(4096, np.uint8)
    recv = board.dma_pp.recvchannel
    recv.transfer(dst)  # nothing feeds pp_store's stream: the channel stays busy
    with pytest.raises(RuntimeError, match="DMA channel not idle"):
        recv.transfer(dst)


def test_missing_tlast_keeps_s2mm_busy_until_a_timeout(board):
    """A producer that never asserts TLAST: S2MM never completes (detected by a timeout here)."""
    board.device.fabric.faults.inject("pp_store", "drop_tlast")
    n = 256
    src = allocate(n, np.uint32)
    dst = allocate(2 * n, np.uint32)  # room for more than one packet: only TLAST could end it
    lc, st = board.pp_load_compute.register_map, board.pp_store.register_map
    lc.n, lc.op, lc.pingpong, st.n, st.pingpong = n, 0, 0, n, 0
    board.pp_store.write(0, 1)
    board.dma_pp.recvchannel.transfer(dst)
    board.pp_load_compute.write(0, 1)
    board.dma_pp.sendchannel.transfer(src)
    board.dma_pp.sendchannel.wait()
    deadline = time.perf_counter() + 0.2
    while time.perf_counter() < deadline:
        assert not board.dma_pp.recvchannel.idle
    board.dma_pp.mmio.write(0x30, axi_dma.CR_RESET)  # recover


def test_more_data_than_length_without_tlast_is_an_internal_error(board):
    n = 256
    src, dst = allocate(n, np.uint32), allocate(n // 2, np.uint32)
    lc, st = board.pp_load_compute.register_map, board.pp_store.register_map
    lc.n, lc.op, lc.pingpong, st.n, st.pingpong = n, 0, 0, n, 0
    board.pp_store.write(0, 1)
    board.dma_pp.recvchannel.transfer(dst)
    board.pp_load_compute.write(0, 1)
    board.dma_pp.sendchannel.transfer(src)
    status = board.dma_pp.mmio.read(0x34)
    assert status & axi_dma.SR_INT_ERR


def test_mm2s_into_a_kernel_that_was_not_started_stays_busy(board):
    src = allocate(1024, np.uint32)
    send = board.dma_pp.sendchannel
    board.pp_load_compute.register_map.n = 1024
    send.transfer(src)
    assert not send.idle  # back-pressure: nobody takes the stream
    board.pp_store.register_map.n = 1024
    board.pp_store.write(0, 1)
    board.dma_pp.recvchannel.transfer(allocate(1024, np.uint32))
    board.pp_load_compute.write(0, 1)
    send.wait()
    board.dma_pp.recvchannel.wait()


def test_loop_fifo_lets_small_transfers_finish_without_a_receiver(board):
    send = board.dma_loop.sendchannel
    send.transfer(allocate(8 * 1024, np.uint8))  # 1024 beats of 8 bytes: fits the FIFO
    send.wait()
    send.transfer(allocate(16 * 1024, np.uint8))  # would need 1024 more beats of room
    assert not send.idle


def test_modelled_throughput_is_width_times_clock(board):
    src, dst = loopback(board, MiB)
    intervals = board.device.fabric.timeline.intervals(resources=["dma_loop.mm2s"])
    modelled = intervals[-1].duration
    ideal = MiB / (8 * 100e6)  # 64 bits at 100 MHz
    assert ideal <= modelled <= 1.05 * ideal


def test_board_pace_waits_for_the_modelled_time(paced_board):
    start = time.perf_counter()
    loopback(paced_board, 4 * MiB)
    elapsed = time.perf_counter() - start
    modelled = 4 * MiB / (8 * 100e6)
    if paced_board.device.fabric.pace == "board":
        assert elapsed >= modelled


def test_bus_error_fault_gives_a_slave_error(board):
    board.device.fabric.faults.inject("dma_loop", "bus_error")
    send = board.dma_loop.sendchannel
    send.transfer(allocate(64, np.uint8))
    with pytest.raises(RuntimeError, match="DMA (channel not started|Slave Error)"):
        send.wait()
    assert board.dma_loop.mmio.read(0x04) & axi_dma.SR_SLV_ERR
