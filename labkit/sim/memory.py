"""DDR, the contiguous-memory pool ``pynq.allocate`` draws from, and the CPU caches in front of it.

What a student must be able to see on the simulated board, because it is
what bites on a real one:

* Buffers have physical addresses, inside the board's CMA region, and the
  pool is finite: 128 MiB on a PYNQ-Z1.  Running out fails, loudly.
* The PL only ever sees DDR.  The CPU sees DDR through its caches when the
  buffer is *cacheable*: then the CPU's view and the DDR's view are two
  different copies, ``flush`` (``sync_to_device``) copies CPU -> DDR and
  ``invalidate`` (``sync_from_device``) copies DDR -> CPU.  Forget one and the
  PL reads old data, or the CPU reads old results -- exactly as on hardware.
* pynq 3/4 allocates *non-cacheable* buffers by default (``cacheable=0`` in
  ``_xrt_allocate``): the CPU writes straight through to DDR, so there is only
  one view and a forgotten sync goes unnoticed.  ``allocate(..., cacheable=True)``
  gives fast CPU access and the obligation to sync.

The pool is one host array; the allocator is first-fit over page-aligned
blocks, like the CMA allocator behind XRT's buffer objects.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import threading
from dataclasses import dataclass

import numpy as np
from pynq.buffer import PynqBuffer

from labkit.errors import AddressError, AllocationError, FreedBufferError, PoolExhaustedError

__all__ = ["ContiguousPool", "BufferObject", "SimBuffer", "PAGE"]

PAGE = 4096  # CMA hands out whole pages
MiB = 1 << 20


@dataclass
class BufferObject:
    """One allocation in the pool (the simulated counterpart of an XRT ``bo``).

    ``cpu`` is what the CPU reads and writes; ``ddr`` is what the PL reads and
    writes.  For a non-cacheable buffer they are the same memory.
    """

    handle: int
    phys: int
    nbytes: int  # what the user asked for
    reserved: int  # what the pool set aside (page-rounded, at least the board minimum)
    cacheable: bool
    ddr: np.ndarray  # uint8 view of the pool
    cpu: np.ndarray  # uint8: a separate array when cacheable, else ``ddr`` itself
    freed: bool = False

    def check_live(self, action: str) -> None:
        if self.freed:
            raise FreedBufferError(
                f"buffer at {self.phys:#010x} was freed (its `with` block ended or freebuffer() was called): "
                f"cannot {action} it. Allocate a new buffer.")


class SimBuffer(PynqBuffer):
    """The array ``pynq.allocate`` returns on the simulated board: a genuine ``PynqBuffer``.

    pynq frees board memory in ``PynqBuffer.freebuffer`` through a libc that
    only exists on the board; this subclass returns the block to the simulated
    pool instead, so ``with allocate(...) as buf:`` and ``del buf`` behave as on
    a board.  Only the array ``allocate`` returned owns the block: slices and
    views never free it.
    """

    def freebuffer(self) -> None:
        pool: ContiguousPool | None = self.__dict__.pop("_sim_pool", None)
        if pool is not None:
            pool.free(self.bo)


class ContiguousPool:
    """Physically contiguous memory at ``[base, base + size)``, backed by one host array."""

    def __init__(self, base: int, size: int, *, min_block: int = 2 * PAGE) -> None:
        if size <= 0 or size % PAGE or base % PAGE:
            raise ValueError(f"pool base and size must be positive multiples of {PAGE}: {base:#x}, {size:#x}")
        self.base = base
        self.size = size
        self.min_block = min_block
        # np.zeros maps fresh pages lazily: 128 MiB of address space costs nothing until touched.
        self.ddr = np.zeros(size, dtype=np.uint8)
        self._lock = threading.Lock()
        self._free: list[tuple[int, int]] = [(0, size)]  # sorted (offset, length)
        self._live: dict[int, BufferObject] = {}
        self._handles = itertools.count(1)

    # -- allocation -------------------------------------------------------------------
    def allocate(self, shape, dtype="u4", cacheable: bool | int = 0, device=None, **kwargs) -> SimBuffer:
        """Allocate a ``PynqBuffer`` with the signature of ``pynq.allocate`` (``target`` aside)."""
        if kwargs:
            raise TypeError(f"allocate() got unexpected keyword argument(s) {sorted(kwargs)}; "
                            "pynq's allocate takes shape, dtype, target and cacheable")
        dtype = np.dtype(dtype)  # numpy's own error for unknown dtypes
        if dtype.hasobject or dtype.itemsize == 0:
            raise AllocationError(f"allocate() needs a fixed-size numeric dtype such as uint32 or int8; "
                                  f"{dtype} cannot live in device memory")
        shape_tuple = _as_shape(shape)
        count = int(np.prod(shape_tuple, dtype=np.int64))
        if count <= 0:
            raise AllocationError(f"allocate() needs at least one element; shape {shape!r} has {count}")
        nbytes = count * dtype.itemsize
        bo = self._reserve(nbytes, bool(cacheable))
        buf = SimBuffer(shape_tuple, dtype, buffer=bo.cpu[:nbytes].data, device=device,
                        device_address=bo.phys, bo=bo, coherent=False)
        buf.__dict__["_sim_pool"] = self
        return buf

    def _reserve(self, nbytes: int, cacheable: bool) -> BufferObject:
        reserved = max(-(-nbytes // PAGE) * PAGE, self.min_block)
        with self._lock:
            for i, (offset, length) in enumerate(self._free):
                if length >= reserved:
                    if length == reserved:
                        del self._free[i]
                    else:
                        self._free[i] = (offset + reserved, length - reserved)
                    break
            else:
                raise self._exhausted(nbytes, reserved)
            ddr = self.ddr[offset: offset + reserved]
            # A fresh CMA block holds whatever the last user left there; so does ours.
            cpu = ddr.copy() if cacheable else ddr
            bo = BufferObject(next(self._handles), self.base + offset, nbytes, reserved, cacheable, ddr, cpu)
            self._live[bo.handle] = bo
            return bo

    def _exhausted(self, nbytes: int, reserved: int) -> PoolExhaustedError:
        largest = max((length for _, length in self._free), default=0)
        return PoolExhaustedError(
            f"BO allocation failed: the contiguous memory pool (CMA) has no free block of {reserved:,} bytes "
            f"(asked for {nbytes:,}). Free: {self.free_bytes:,} of {self.size:,} bytes, largest free block "
            f"{largest:,}, {len(self._live)} buffers live. Free buffers you no longer need (`del buf`, or "
            f"allocate inside a `with` block) or use smaller ones; this board has {self.size // MiB} MiB of CMA.")

    def free(self, bo: BufferObject) -> None:
        """Return a buffer's block to the pool (idempotent)."""
        with self._lock:
            if bo.freed or self._live.pop(bo.handle, None) is None:
                return
            bo.freed = True
            offset = bo.phys - self.base
            i = bisect.bisect(self._free, (offset, 0))
            self._free.insert(i, (offset, bo.reserved))
            self._coalesce(i)

    def _coalesce(self, i: int) -> None:
        free = self._free
        if i + 1 < len(free) and free[i][0] + free[i][1] == free[i + 1][0]:
            free[i] = (free[i][0], free[i][1] + free[i + 1][1])
            del free[i + 1]
        if i > 0 and free[i - 1][0] + free[i - 1][1] == free[i][0]:
            free[i - 1] = (free[i - 1][0], free[i - 1][1] + free[i][1])
            del free[i]

    # -- the cache model ----------------------------------------------------------------
    def flush(self, bo: BufferObject, offset: int, nbytes: int) -> None:
        """CPU -> DDR for ``[offset, offset+nbytes)`` of the buffer (a no-op when non-cacheable)."""
        bo.check_live("flush")
        if bo.cacheable:
            lo, hi = _clip(offset, nbytes, bo.reserved)
            bo.ddr[lo:hi] = bo.cpu[lo:hi]

    def invalidate(self, bo: BufferObject, offset: int, nbytes: int) -> None:
        """DDR -> CPU for ``[offset, offset+nbytes)`` of the buffer (a no-op when non-cacheable)."""
        bo.check_live("invalidate")
        if bo.cacheable:
            lo, hi = _clip(offset, nbytes, bo.reserved)
            bo.cpu[lo:hi] = bo.ddr[lo:hi]

    # -- what the PL sees -----------------------------------------------------------------
    def contains(self, phys: int, nbytes: int) -> bool:
        return self.base <= phys and phys + nbytes <= self.base + self.size

    def view(self, phys: int, nbytes: int) -> np.ndarray:
        """The DDR bytes ``[phys, phys+nbytes)`` as the PL sees them (a uint8 view, no copy)."""
        if not self.contains(phys, nbytes):
            raise AddressError(f"physical range {phys:#010x}+{nbytes:#x} is outside the simulated DDR pool "
                               f"[{self.base:#010x}, {self.base + self.size:#010x})")
        offset = phys - self.base
        return self.ddr[offset: offset + nbytes]

    # -- book-keeping ----------------------------------------------------------------------
    @property
    def free_bytes(self) -> int:
        return sum(length for _, length in self._free)

    @property
    def used_bytes(self) -> int:
        return self.size - self.free_bytes

    @property
    def live_buffers(self) -> int:
        return len(self._live)


def _as_shape(shape) -> tuple[int, ...]:
    items = shape if isinstance(shape, (tuple, list)) else (shape,)
    try:
        dims = tuple(operator.index(s) for s in items)
    except TypeError:
        raise AllocationError(f"allocate() needs a shape of whole numbers, like 1024 or (70, 80); got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise AllocationError(f"allocate() got a negative dimension in shape {shape!r}")
    return dims


def _clip(offset: int, nbytes: int, limit: int) -> tuple[int, int]:
    lo = max(0, offset)
    return lo, min(limit, lo + max(0, nbytes))
