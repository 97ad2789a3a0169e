"""AXI BRAM Controller (Xilinx PG078) with its block RAM: memory the PS reads and writes over AXI-Lite/AXI.

The model is the memory itself: the controller's address range, word for word, with no side
effects -- pynq's ``MMIO`` reads back what was written.  A BRAM shared through its second port
with another IP (an HLS kernel's ``bram`` interface) is not connected to that IP here: each
controller has its own memory.
"""

from __future__ import annotations

from .base import IPModel

__all__ = ["AxiBramCtrlModel"]


class AxiBramCtrlModel(IPModel):
    vlnv = "xilinx.com:ip:axi_bram_ctrl"
