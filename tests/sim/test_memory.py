"""pynq.allocate on the simulated board: physical addresses, the pool, and the CPU caches."""

from __future__ import annotations

import numpy as np
import pytest
from pynq import allocate
from pynq.buffer import PynqBuffer

from labkit.errors import AllocationError, FreedBufferError, PoolExhaustedError

MiB = 1 << 20


def pl_view(buf) -> np.ndarray:
    """What the PL (a DMA, an m_axi master) reads at the buffer's physical address."""
    pool = buf.device.pool
    return pool.view(buf.physical_address, buf.nbytes).view(buf.dtype).reshape(buf.shape)


def test_allocate_gives_a_pynq_buffer_with_a_physical_address(board):
    buf = allocate(shape=(1024,), dtype=np.uint32)
    assert isinstance(buf, PynqBuffer)
    pool = board.device.pool
    assert pool.base <= buf.physical_address < pool.base + pool.size
    assert buf.physical_address % 4096 == 0
    assert buf.device_address == buf.physical_address


def test_slices_keep_their_physical_address(board):
    buf = allocate(shape=(16, 64), dtype=np.uint32)
    assert buf[3].physical_address == buf.physical_address + 3 * 64 * 4
    assert buf[3, 10:].physical_address == buf.physical_address + (3 * 64 + 10) * 4


def test_buffers_do_not_overlap(board):
    a = allocate(10_000, np.uint8)
    b = allocate(10_000, np.uint8)
    assert a.physical_address + a.nbytes <= b.physical_address or b.physical_address + b.nbytes <= a.physical_address


def test_cacheable_buffer_needs_sync_to_device(board):
    buf = allocate(256, np.uint32, cacheable=True)
    buf[:] = 7
    assert not np.any(pl_view(buf) == 7)  # the PL reads DDR: the new data is still in the CPU cache
    buf.sync_to_device()
    assert np.all(pl_view(buf) == 7)


def test_cacheable_buffer_needs_sync_from_device(board):
    buf = allocate(256, np.uint32, cacheable=True)
    buf.sync_to_device()
    pl_view(buf)[:] = 42  # the PL writes DDR
    assert not np.any(buf == 42)  # the CPU still sees its cached copy
    buf.sync_from_device()
    assert np.all(buf == 42)


def test_sync_of_a_slice_only_moves_that_slice(board):
    buf = allocate(100, np.uint32, cacheable=True)
    buf[:] = 1
    buf[10:20].sync_to_device()
    assert np.all(pl_view(buf)[10:20] == 1) and not np.any(pl_view(buf)[:10] == 1)


def test_default_buffers_are_non_cacheable_like_pynq_4(board):
    buf = allocate(64, np.uint32)  # pynq's _xrt_allocate defaults to cacheable=0
    buf[:] = 5
    assert np.all(pl_view(buf) == 5)  # one view: CPU stores go straight to DDR
    pl_view(buf)[:] = 6
    assert np.all(buf == 6)


def test_allocate_through_the_overlays_memory_bank(board):
    buf = allocate(16, np.int8, target=board.PSDDR)
    assert buf.physical_address >= board.device.pool.base


def test_pool_exhaustion_fails_like_the_board(board):
    pool = board.device.pool
    assert pool.size == 128 * MiB  # the PYNQ-Z1's CMA
    held = [allocate(32 * MiB, np.uint8) for _ in range(3)]
    with pytest.raises(PoolExhaustedError, match="BO allocation failed") as info:
        allocate(40 * MiB, np.uint8)
    assert isinstance(info.value, RuntimeError)
    assert "128 MiB" in str(info.value) and "Free buffers" in str(info.value)
    del held[0]  # dropping the last reference returns the block
    allocate(32 * MiB, np.uint8)


def test_with_block_frees_and_a_freed_buffer_cannot_be_synced(board):
    pool = board.device.pool
    before = pool.free_bytes
    with allocate(MiB, np.uint8) as buf:
        assert pool.free_bytes == before - MiB
    assert pool.free_bytes == before
    with pytest.raises(FreedBufferError, match="was freed"):
        buf.sync_to_device()


def test_a_slice_never_frees_its_parent(board):
    pool = board.device.pool
    buf = allocate(MiB, np.uint8)
    before = pool.free_bytes
    part = buf[:100]
    del part
    assert pool.free_bytes == before


def test_small_buffers_take_the_boards_minimum_block(board):
    pool = board.device.pool
    before = pool.free_bytes
    buf = allocate(1, np.uint8)
    assert before - pool.free_bytes == 8192  # pynq 4 rounds every buffer up to 8 KiB
    del buf


@pytest.mark.parametrize("shape", [0, (0, 4), (-1,), (3, -2)])
def test_empty_or_negative_shapes_are_rejected(board, shape):
    with pytest.raises(AllocationError):
        allocate(shape, np.uint32)


def test_bad_dtypes_are_rejected(board):
    with pytest.raises(TypeError):  # numpy's own error for a name it does not know
        allocate(4, "not-a-dtype")
    with pytest.raises(AllocationError, match="numeric dtype"):
        allocate(4, object)
    with pytest.raises(AllocationError, match="whole numbers"):
        allocate(4.5, np.uint8)
    with pytest.raises(TypeError, match="unexpected keyword"):
        allocate(4, np.uint8, colour="blue")
