"""Status registers in words: what the bits of an AXI DMA channel and an HLS kernel's ``ap_ctrl`` mean.

Works on real boards and the simulated one alike: it only decodes numbers you read with pynq::

    print(labkit.status.dma_status(ol.dma_pp, "recv"))
    print(labkit.status.ap_ctrl(ol.pp_store.read(0x00)))

Bit meanings: AXI DMA v7.1 product guide (PG021), "Register Space", tables MM2S_DMACR/DMASR
and S2MM_DMACR/DMASR; ``ap_ctrl_hs``: Vitis HLS user guide (UG1399), "Interfaces for Vivado IP
flow", the s_axilite control register at offset 0x00.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .kernels._common import CTRL_OFFSET

__all__ = ["DmaStatus", "dma_status", "decode_dmasr", "decode_dmacr", "ap_ctrl", "DMA_CHANNEL_OFFSETS",
           "AP_START", "AP_DONE", "AP_IDLE", "AP_READY", "CTRL_OFFSET"]

#: where each direction's registers start in the DMA's register space (PG021, "Register Space")
DMA_CHANNEL_OFFSETS = {"send": 0x00, "recv": 0x30}
DMACR, DMASR = 0x00, 0x04

# PG021 DMASR bits: (bit, name, meaning when set)
_DMASR_BITS = (
    (0, "Halted", "the channel is stopped (DMACR.RS = 0, or it halted on an error)"),
    (1, "Idle", "the last transfer finished; a new one may be started"),
    (3, "SGIncld", "the DMA was built with scatter-gather"),
    (4, "DMAIntErr", "internal error: a length of 0, or (S2MM) a packet longer than the buffer given"),
    (5, "DMASlvErr", "slave error: the memory interface answered SLVERR"),
    (6, "DMADecErr", "decode error: the address is not mapped to any memory"),
    (8, "SGIntErr", "scatter-gather internal error"),
    (9, "SGSlvErr", "scatter-gather slave error"),
    (10, "SGDecErr", "scatter-gather decode error"),
    (12, "IOC_Irq", "interrupt on complete is pending"),
    (13, "Dly_Irq", "delay interrupt is pending"),
    (14, "Err_Irq", "error interrupt is pending"),
)
_DMACR_BITS = (
    (0, "RS", "run/stop: the channel runs"),
    (2, "Reset", "a soft reset is in progress (it resets the whole DMA, both channels)"),
    (3, "Keyhole", "keyhole (fixed-address) mode"),
    (4, "Cyclic", "cyclic BD mode (scatter-gather only)"),
    (12, "IOC_IrqEn", "interrupt on complete enabled"),
    (13, "Dly_IrqEn", "delay interrupt enabled"),
    (14, "Err_IrqEn", "error interrupt enabled"),
)
ERROR_MASK = 0x770  # DMAIntErr | DMASlvErr | DMADecErr | SG errors

AP_START, AP_DONE, AP_IDLE, AP_READY, AUTO_RESTART = 0x1, 0x2, 0x4, 0x8, 0x80
_AP_BITS = ((0, "ap_start", "the kernel was started and has not yet taken its inputs"),
            (1, "ap_done", "the kernel finished a call (clears when read)"),
            (2, "ap_idle", "the kernel is not working"),
            (3, "ap_ready", "the kernel can take new inputs"),
            (7, "auto_restart", "the kernel restarts by itself after each call"))


def _names(value: int, table: tuple) -> list[str]:
    return [name for bit, name, _ in table if value >> bit & 1]


def decode_dmasr(value: int) -> str:
    """``0x00001002`` -> ``"Idle, IOC_Irq"``: the set bits of a DMASR by PG021's names."""
    return ", ".join(_names(value, _DMASR_BITS)) or "running (no status bit set)"


def decode_dmacr(value: int) -> str:
    """The set bits of a DMACR by PG021's names (``"stopped"`` when RS is clear and nothing else set)."""
    return ", ".join(_names(value, _DMACR_BITS)) or "stopped (RS = 0)"


@dataclass(frozen=True)
class DmaStatus:
    """One DMA channel's control and status registers, read at one moment, with what they mean."""

    ip: str
    direction: str  #: "send" (MM2S) or "recv" (S2MM)
    dmacr: int
    dmasr: int

    @property
    def halted(self) -> bool:
        return bool(self.dmasr & 0x1)

    @property
    def idle(self) -> bool:
        return bool(self.dmasr & 0x2)

    @property
    def errors(self) -> list[str]:
        return [name for bit, name, _ in _DMASR_BITS if self.dmasr >> bit & 1 and (1 << bit) & ERROR_MASK]

    def likely_cause(self) -> str:
        """The most probable reason for this state, and what to try."""
        channel = "MM2S (send)" if self.direction == "send" else "S2MM (receive)"
        if "DMAIntErr" in self.errors:
            if self.direction == "recv":
                return ("the packet was longer than the receive buffer (or the length was 0): give recvchannel a "
                        "buffer at least as large as what the stream sends before TLAST; then reset the DMA")
            return "a transfer of length 0 was started: give a non-zero nbytes; then reset the DMA"
        if "DMASlvErr" in self.errors or "DMADecErr" in self.errors:
            return ("the buffer's physical address is not usable memory: allocate buffers with pynq.allocate and "
                    "pass the buffer itself, not a copy; then reset the DMA")
        if self.halted:
            return f"the {channel} channel is stopped: call its start() (or reset the DMA) before transfer()"
        if not self.idle:
            if self.direction == "recv":
                return ("the receive is still waiting for data or for TLAST: is the kernel that feeds it started, "
                        "and does its stream assert TLAST on the last beat?")
            return ("the send is still waiting for the stream to accept data: is the kernel that reads it "
                    "started, and is its output drained?")
        return "the channel is idle: nothing is pending"

    def __str__(self) -> str:
        return (f"{self.ip}.{self.direction}channel: DMASR={self.dmasr:#010x} ({decode_dmasr(self.dmasr)}), "
                f"DMACR={self.dmacr:#010x} ({decode_dmacr(self.dmacr)}). Likely: {self.likely_cause()}")


def dma_status(dma: Any, direction: str, name: str | None = None) -> DmaStatus:
    """Read ``dma``'s ``direction`` ("send" or "recv") registers through its pynq driver's ``mmio``."""
    if direction not in DMA_CHANNEL_OFFSETS:
        raise ValueError(f"direction must be 'send' or 'recv', got {direction!r}")
    base = DMA_CHANNEL_OFFSETS[direction]
    ip = name or getattr(dma, "_fullpath", None) or type(dma).__name__
    return DmaStatus(ip, direction, int(dma.mmio.read(base + DMACR)), int(dma.mmio.read(base + DMASR)))


def ap_ctrl(value: int) -> str:
    """An HLS kernel's control register in words: ``0x4`` -> ``"ap_idle"``, with what a stuck state means."""
    names = _names(value, _AP_BITS)
    words = ", ".join(names) or "no bit set (running: started, not yet done)"
    if value & AP_START and not value & AP_DONE:
        hint = ("started and not finished: a kernel with streams waits for its input beats (is the DMA that "
                "feeds it started?) and for its output to be taken (is a receiver started?)")
    elif not value & (AP_IDLE | AP_DONE):
        hint = "working (or stuck waiting on a stream)"
    else:
        hint = "not working"
    return f"{value:#x} ({words}): {hint}"
