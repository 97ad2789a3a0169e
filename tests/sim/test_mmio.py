"""pynq.MMIO against the simulated board: plain pynq, real side effects, pynq's own errors."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pynq import MMIO

from labkit.errors import AddressError
from labkit.kernels import mmio_rowsum

IMAGE = mmio_rowsum.MEMORIES["image"]["offset"]
ROWSUM = mmio_rowsum.MEMORIES["rowsum"]["offset"]


@pytest.fixture
def kernel_mmio(board):
    return MMIO(board.ip_dict["mmio_rowsum"]["phys_addr"], board.ip_dict["mmio_rowsum"]["addr_range"])


def test_write_read_and_array(kernel_mmio):
    kernel_mmio.write(IMAGE, 5)
    assert kernel_mmio.read(IMAGE) == 5
    kernel_mmio.array[IMAGE // 4 + 4: IMAGE // 4 + 8] = np.arange(4, dtype=np.uint32)
    assert [kernel_mmio.read(IMAGE + 16 + 4 * i) for i in range(4)] == [0, 1, 2, 3]
    kernel_mmio.write(IMAGE + 32, (7).to_bytes(4, "little") + (9).to_bytes(4, "little"))
    assert kernel_mmio.read(IMAGE + 32, length=8) == (9 << 32) | 7


def test_pynqs_own_alignment_and_range_errors(kernel_mmio):
    with pytest.raises(MemoryError, match="Unaligned"):
        kernel_mmio.write(IMAGE + 2, 1)
    with pytest.raises(MemoryError, match="Unaligned"):
        kernel_mmio.read(IMAGE + 1)
    with pytest.raises(ValueError, match="negative"):
        kernel_mmio.write(-4, 1)
    with pytest.raises(IndexError):
        kernel_mmio.read(0x10000)  # one word past the window, as numpy reports on a board


def test_mmio_outside_every_ip_is_stopped(board):
    with pytest.raises(AddressError, match="no IP at physical address 0x50000000"):
        MMIO(0x5000_0000, 0x1000)
    with pytest.raises(AddressError, match="runs past the end of mmio_rowsum"):
        MMIO(board.ip_dict["mmio_rowsum"]["phys_addr"], 0x20000)


def test_mmio_before_any_overlay_names_the_reason(device):
    with pytest.raises(AddressError, match="no overlay is loaded"):
        MMIO(0x43C0_0000, 0x1000, device=device)


def test_every_store_reaches_the_ip_even_the_same_value(board, kernel_mmio):
    model = board.device.fabric.ip("mmio_rowsum")
    seen = []
    model.watch(0x10, on_write=seen.append)  # the rows register
    for _ in range(3):
        kernel_mmio.write(0x10, 70)  # a plain shared array would show one value, not three writes
    assert seen == [70, 70, 70]


def test_slice_store_is_one_call_and_per_word_stores_are_one_each(board, kernel_mmio):
    model = board.device.fabric.ip("mmio_rowsum")
    calls = []
    original = model._reg_write

    def spy(lo, hi):
        calls.append((lo, hi))
        original(lo, hi)

    model._reg_write = spy
    for i in range(3):  # make the image memory's first words visible to Python
        model.watch(IMAGE + 4 * i, on_write=lambda v: None)
    kernel_mmio.array[IMAGE // 4: IMAGE // 4 + 5600] = np.arange(5600, dtype=np.uint32)
    assert calls == [(IMAGE // 4, IMAGE // 4 + 5600)]
    calls.clear()
    for i in range(3):
        kernel_mmio.write(IMAGE + 4 * i, i)
    assert calls == [(IMAGE // 4 + i, IMAGE // 4 + i + 1) for i in range(3)]


def test_words_are_counted_per_transaction(board, kernel_mmio):
    model = board.device.fabric.ip("mmio_rowsum")
    model.reset_stats()
    kernel_mmio.array[IMAGE // 4: IMAGE // 4 + 100] = np.ones(100, dtype=np.uint32)
    kernel_mmio.write(IMAGE, 3)
    kernel_mmio.read(IMAGE)
    stats = model.stats
    assert (stats.write_calls, stats.write_words, stats.read_calls, stats.read_words) == (2, 101, 1, 1)


def test_clear_on_read_ap_done(board, kernel_mmio):
    rm = board.mmio_rowsum.register_map
    rm.rows, rm.cols, rm.pack16 = 1, 4, 0
    kernel_mmio.write(0, 1)  # ap_start
    first = kernel_mmio.read(0)
    while not first & 0x2:
        first = kernel_mmio.read(0)
    assert first & 0x2 and first & 0x4  # ap_done, ap_idle
    assert not kernel_mmio.read(0) & 0x2  # cleared by the read before


def test_reading_a_result_slice_counts_as_a_bus_read(board, kernel_mmio):
    model = board.device.fabric.ip("mmio_rowsum")
    model.reset_stats()
    view = kernel_mmio.array[IMAGE // 4: IMAGE // 4 + 64]  # input memory: a free view
    assert model.stats.read_words == 0
    view[:] = 1  # ... that stays live: stores through it reach the IP
    assert model.regs[IMAGE // 4 + 63] == 1
    kernel_mmio.array[ROWSUM // 4: ROWSUM // 4 + 70].copy()  # results memory: read back over the bus
    assert model.stats.read_words == 70


def test_board_pace_charges_gp_port_time_per_word(paced_board):
    mmio = MMIO(paced_board.ip_dict["mmio_rowsum"]["phys_addr"], 0x10000)
    fabric = paced_board.device.fabric
    data = np.arange(5600, dtype=np.uint32)
    start = time.perf_counter()
    mmio.array[IMAGE // 4: IMAGE // 4 + 5600] = data
    elapsed = time.perf_counter() - start
    modelled = fabric.gp_access_s(writes=5600)
    assert modelled == pytest.approx(5600 * 20 / 100e6)  # 20 PL cycles per store at 100 MHz
    if fabric.pace == "board":
        assert elapsed >= modelled  # a lower bound only: never faster than the bus
    assert np.array_equal(mmio.array[IMAGE // 4: IMAGE // 4 + 5600], data)


def test_register_window_views_survive_and_copies_detach(kernel_mmio):
    view = kernel_mmio.array[4:8]
    assert view.attached and view.word_offset == 4
    copy = view.copy()
    assert not copy.attached
    assert not (kernel_mmio.array + 1).attached
