"""The errors labkit raises.

Every failure labkit detects itself is a subclass of :class:`LabkitError`, so a
notebook can catch them all at once.  Where the same mistake on a real board
makes pynq raise a built-in exception (``RuntimeError`` from the DMA driver,
``ValueError`` for bad arguments ...), the labkit error also derives from that
built-in, so code written for the board keeps working on the simulated board.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = [
    "LabkitError",
    "BoardNotFoundError",
    "OverlayNotFoundError",
    "DesignError",
    "AddressError",
    "AllocationError",
    "PoolExhaustedError",
    "FreedBufferError",
    "LabTimeoutError",
    "BoardBusyError",
    "DmaError",
    "BenchError",
]


class LabkitError(Exception):
    """Base class of every error labkit raises on its own."""


class BoardNotFoundError(LabkitError, RuntimeError):
    """No board of the requested kind is present (e.g. ``LABKIT_BOARD=real`` on a laptop)."""


class OverlayNotFoundError(LabkitError, FileNotFoundError):
    """The overlay's ``.bit``/``.hwh`` pair is not installed on this board."""


class DesignError(LabkitError, ValueError):
    """A simulated block design is inconsistent or unknown."""


class AddressError(LabkitError, ValueError):
    """An MMIO window or a bus access falls outside every IP of the design.

    On a board such an access hangs the AXI bus or kills Python with a bus
    error; the simulated board stops it with this message instead.
    """


class AllocationError(LabkitError, ValueError):
    """``allocate()`` was given a shape or dtype that cannot live in device memory."""


class PoolExhaustedError(LabkitError, RuntimeError):
    """The contiguous memory pool (CMA) has no block large enough left."""


class FreedBufferError(LabkitError, RuntimeError):
    """A buffer was used (synced, or handed to the PL) after it was freed."""


class LabTimeoutError(LabkitError, TimeoutError):
    """A wait for the PL did not finish within its timeout."""


class DmaError(LabkitError, RuntimeError):
    """A DMA channel stopped on an error: pynq's message, then the status bits in words."""


class BoardBusyError(LabkitError, RuntimeError):
    """Another run is driving the same board's IPs (one FPGA: one run at a time)."""


class BenchError(LabkitError, RuntimeError):
    """A benchmark was set up wrongly, or one of its cells failed (the records say which)."""

    def __init__(self, message: str, records: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.records = list(records)  #: the records of the failed cells
