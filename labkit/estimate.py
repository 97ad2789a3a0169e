"""Estimated board time: what the simulated board's profile says the real board would take.

An estimate has two parts (DESIGN.md, "three kinds of time"):

* the **PS part**: Python work measured on this computer, scaled to the board's
  CPU.  The scale is calibrated here, once per process, against the one PS
  figure with a public board measurement: one iteration of the forum's
  per-word ``MMIO.write`` loop takes 27-36 us on a PYNQ-Z1.  We time the same
  loop body on this computer (on a plain memory-backed device, so only
  Python and pynq are timed) and divide.  Bulk numpy copies do not scale like
  Python calls; they are estimated from the board's copy bandwidth instead.
* the **PL/bus part**: the simulated board's modelled time, unchanged.

Estimates are labelled as estimates wherever they are shown.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np

from .boards.profiles import BoardProfile

__all__ = ["CpuScale", "cpu_scale", "REFERENCE_LOOP", "BOARD_COPY_MB_S", "host_numpy_call_s",
           "ps_stage_s"]

#: What is timed for the calibration: the body of the forum's loop.
REFERENCE_LOOP = "PL.write(write_address, image_in[i][j]); write_address += 4"
#: Estimate of a PYNQ-Z1's memcpy bandwidth: a copy moves each byte twice over the 16-bit DDR3
#: (2.1 GB/s peak, about 75% usable per UG585 ch. 22) and the Cortex-A9 rarely gets all of it.
BOARD_COPY_MB_S = 600.0
_CALIBRATION_WORDS = 2000
_CALIBRATION_REPEATS = 5


@dataclass(frozen=True)
class CpuScale:
    """How many times slower the board runs the reference Python than this computer."""

    factor: float
    host_loop_s: float  #: one reference iteration here (measured)
    board_loop_s: float  #: one reference iteration on the board, bus time excluded (from the profile)
    board: str

    def ps(self, host_seconds: float) -> float:
        """Board estimate of Python work that took ``host_seconds`` here."""
        return host_seconds * self.factor

    def __str__(self) -> str:
        return (f"{self.board} runs Python about {self.factor:.0f}x slower than this computer "
                f"(calibrated: {REFERENCE_LOOP!r} takes {self.host_loop_s * 1e6:.2f} us here, "
                f"{self.board_loop_s * 1e6:.1f} us on the board per the PYNQ forum)")


class _PlainDevice:
    """A memory-backed stand-in with pynq's MMIO contract, so only Python and pynq are timed."""

    capabilities = {"MEMORY_MAPPED": True}

    def has_capability(self, cap: str) -> bool:
        return bool(self.capabilities.get(cap))

    def mmap(self, base: int, length: int) -> np.ndarray:
        return np.zeros(length // 4, dtype=np.uint32)


@functools.lru_cache(maxsize=None)
def _host_loop_s() -> float:
    """Seconds per iteration of the forum's MMIO.write loop on this computer (measured once)."""
    from pynq import MMIO

    pl = MMIO(0x4000_0000, 4 * _CALIBRATION_WORDS + 4, device=_PlainDevice())
    image_in = np.arange(_CALIBRATION_WORDS, dtype=np.uint32).reshape(40, -1).tolist()
    best = float("inf")
    for _ in range(_CALIBRATION_REPEATS):
        write_address = 0
        start = time.perf_counter()
        for i in range(len(image_in)):
            for j in range(len(image_in[0])):
                pl.write(write_address, image_in[i][j])
                write_address = write_address + 4
        best = min(best, time.perf_counter() - start)
    return best / _CALIBRATION_WORDS


def cpu_scale(profile: BoardProfile) -> CpuScale:
    """The CPU scale for ``profile`` (calibrated once per process, ~10 ms)."""
    bus_s = float(profile.gp_write_cycles) / (float(profile.fclk0_mhz) * 1e6)
    board_loop = float(profile.ps_ref_loop_us) * 1e-6 - bus_s
    host_loop = _host_loop_s()
    return CpuScale(board_loop / host_loop, host_loop, board_loop, profile.name)


@functools.lru_cache(maxsize=None)
def host_numpy_call_s() -> float:
    """Python cost of one small numpy assignment here (measured once): a copy phase's non-copy part."""
    a, b = np.zeros(16, dtype=np.uint32), np.ones(16, dtype=np.uint32)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(200):
            a[:] = b
        best = min(best, (time.perf_counter() - start) / 200)
    return best


def ps_stage_s(scale: CpuScale, python_s: float, bus_s: float, copy_bytes: int = 0, numpy_calls: int = 0) -> float:
    """Board estimate of a PS stage measured here: its Python scaled to the board's CPU, plus its
    modelled GP-port time.  A bulk copy (``numpy_calls`` > 0) costs the board those calls'
    Python and ``copy_bytes`` at the board's copy bandwidth: a copy is bandwidth, not interpreter speed.
    """
    if numpy_calls:
        python_s = min(python_s, numpy_calls * host_numpy_call_s())
    return scale.ps(python_s) + copy_seconds(copy_bytes) + bus_s


def copy_seconds(nbytes: int) -> float:
    """Board estimate of a bulk numpy copy of ``nbytes`` (see BOARD_COPY_MB_S)."""
    return nbytes / (BOARD_COPY_MB_S * 1e6)
