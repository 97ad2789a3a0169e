"""The one place labkit reads pynq's private attributes, where pynq has no public API for the fact.

Each helper says why it is needed; tests run them on pynq 3.1 and 4.0.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dma_alignment"]


def dma_alignment(channel: Any) -> int:
    """Bytes a simple-mode DMA channel's buffer addresses must be aligned to (its memory-map width).

    pynq keeps it as ``_align`` (set from the .hwh's ``c_m_axi_*_data_width``) and checks it in
    ``transfer()``; there is no public accessor, and labkit must check it *before* a run starts.
    """
    return int(channel._align)
