"""Putting the PL back in a known state after a failed run, with public pynq only.

A run that stops half-way (an exception, a timeout, Ctrl-C) can leave a kernel started and
waiting on a stream, a DMA channel busy or halted on an error, and a FIFO holding stray beats.
The next run would then time out or, worse, read shifted data.  Two steps fix that on a board as
on the simulated one:

1. reload the overlay (``ol.download()``): configuring the PL resets every IP, kernels and FIFOs
   included -- the only reset an ``ap_ctrl_hs`` kernel stuck on a stream has;
2. start every AXI DMA channel again (a reset DMA is halted: DMACR.RS = 0), as pynq's driver
   does when it is created.
"""

from __future__ import annotations

from typing import Any

from .errors import LabkitError
from .run import DEFAULT_TIMEOUT_S, wait_until
from .status import DMA_CHANNEL_OFFSETS, dma_status

__all__ = ["recover", "restart_dma", "BoardStateUnknownError"]

_RS = 0x1  # DMACR run/stop (PG021)


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


def recover(overlay: Any, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Reload ``overlay`` and restart its DMAs; raise :class:`BoardStateUnknownError` if that fails."""
    try:
        overlay.download()
        for name, entry in overlay.ip_dict.items():
            if entry.get("type", "").startswith("xilinx.com:ip:axi_dma:"):
                restart_dma(getattr(overlay, name), name, timeout)
    except Exception as exc:  # noqa: BLE001 -- whatever went wrong, the person must know the state is unknown
        raise BoardStateUnknownError(
            f"after a failed run labkit could not reset the PL ({type(exc).__name__}: {exc}); the IPs' state is "
            "unknown: run ol = labkit.open_board() again before the next transfer") from exc
