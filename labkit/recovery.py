"""Putting the PL back in a known state after a failed run, with public pynq only.

A run that stops half-way (an exception, a timeout, Ctrl-C) can leave a kernel started and
waiting on a stream, a DMA channel busy or halted on an error, and a FIFO holding stray beats.
The next run would then time out or, worse, read shifted data.  Two steps fix that on a board as
on the simulated one:

1. reload the overlay (``ol.download()``): configuring the PL resets every IP, kernels and FIFOs
   included -- the only reset an ``ap_ctrl_hs`` kernel stuck on a stream has;
2. start every AXI DMA channel again (a reset DMA is halted: DMACR.RS = 0), as pynq's driver
   does when it is created.

A lighter step, :func:`reset_dma`, is enough for a DMA that halted on an error (DMAIntErr after a
receive buffer too short, a slave or decode error): PG021 says only a reset restarts such a
channel.  It does not clear an AXI-Stream FIFO in front of S2MM (the FIFO is reset by the
peripheral reset, i.e. a reconfiguration), nor free a kernel stuck on a stream.

:func:`reconfigure` says what the reload cost: measured here, and on the simulated board also the
modelled full-bitstream download time of the board profile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from . import board
from .boardprobe import NotAvailableError
from .errors import LabkitError
from .run import DEFAULT_TIMEOUT_S, wait_until
from .status import DMA_CHANNEL_OFFSETS, dma_status
from .timing import Timing, measured

__all__ = ["recover", "reconfigure", "restart_dma", "reset_dma", "reset_dmas", "dma_names", "Reconfiguration",
           "BoardStateUnknownError"]

_RS = 0x1  # DMACR run/stop (PG021)
_RESET = 0x4  # DMACR soft reset: resets both channels; reads 1 until the reset is done (PG021)


class BoardStateUnknownError(LabkitError, RuntimeError):
    """A failed run could not be cleaned up: the PL's state is unknown until the overlay is reloaded."""


def restart_dma(dma: Any, name: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Set DMACR.RS on both channels of ``dma`` and wait (bounded) until neither is halted."""
    for direction, offset in DMA_CHANNEL_OFFSETS.items():
        channel = dma.sendchannel if direction == "send" else dma.recvchannel
        if channel is None:
            continue
        dma.mmio.write(offset, dma.mmio.read(offset) | _RS)
        wait_until(lambda: channel.running, timeout,
                   lambda: f"{name}.{direction}channel did not start after a reset: {dma_status(dma, direction, name)}")
        channel.start()  # pynq's own bookkeeping (first transfer); returns at once: the channel runs


def reset_dma(dma: Any, name: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Soft-reset ``dma`` (DMACR.Reset: both channels, errors cleared, transfers in flight dropped), then
    start both channels again.  Public pynq only: works on a board as on the simulated one."""
    dma.mmio.write(DMA_CHANNEL_OFFSETS["send"], _RESET)
    wait_until(lambda: not dma.mmio.read(DMA_CHANNEL_OFFSETS["send"]) & _RESET, timeout,
               lambda: f"{name}: the soft reset did not finish within {timeout:g} s "
                       f"({dma_status(dma, 'send', name)}); reload the overlay with ol.download()")
    restart_dma(dma, name, timeout)


def dma_names(overlay: Any) -> list[str]:
    """The AXI DMAs of ``overlay`` by name."""
    return [name for name, entry in overlay.ip_dict.items()
            if entry.get("type", "").startswith("xilinx.com:ip:axi_dma:")]


def reset_dmas(overlay: Any, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """:func:`reset_dma` on every AXI DMA of ``overlay``."""
    for name in dma_names(overlay):
        reset_dma(getattr(overlay, name), name, timeout)


@dataclass(frozen=True)
class Reconfiguration:
    """What one reload of the PL cost."""

    measured: Timing  #: wall clock here (``ol.download()`` plus restarting the DMAs)
    modelled: Timing | None  #: the board's full-bitstream download (simulated board: its profile)

    def __str__(self) -> str:
        text = f"PL reconfigured: {self.measured}"
        return text + (f"; on the board: {self.modelled}" if self.modelled is not None else "")


def reconfigure(overlay: Any, timeout: float = DEFAULT_TIMEOUT_S) -> Reconfiguration:
    """Reload ``overlay`` (``ol.download()``: every IP and FIFO back to reset, DDR kept) and restart its DMAs.

    The driver objects (``ol.dma_pp``, MMIO windows, buffers) stay valid.  Raises whatever failed;
    :func:`recover` turns that into :class:`BoardStateUnknownError`.
    """
    start = time.perf_counter()
    overlay.download()
    for name in dma_names(overlay):
        restart_dma(getattr(overlay, name), name, timeout)
    took = measured(time.perf_counter() - start)
    seen = board.probe(overlay)
    try:
        modelled = Timing(seen.reconfiguration_s(), "modelled",
                          f"simulated {seen.board}: full bitstream / configuration port (board profile)")
    except NotAvailableError:
        modelled = None
    return Reconfiguration(took, modelled)


def recover(overlay: Any, timeout: float = DEFAULT_TIMEOUT_S) -> Reconfiguration:
    """Reload ``overlay`` and restart its DMAs; raise :class:`BoardStateUnknownError` if that fails."""
    try:
        return reconfigure(overlay, timeout)
    except Exception as exc:  # noqa: BLE001 -- whatever went wrong, the person must know the state is unknown
        raise BoardStateUnknownError(
            f"after a failed run labkit could not reset the PL ({type(exc).__name__}: {exc}); the IPs' state is "
            "unknown: run ol = labkit.open_board() again before the next transfer") from exc
