"""An IP of a user's design that the simulated board has no model of.

The design still loads (the IP is listed once, at load), so everything else in it can be used.
Any register access to this IP raises :class:`~labkit.errors.DesignError` naming it: a board would
answer, and silently returning zeros would teach something false.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit.errors import DesignError

from .base import WORD, IPModel, IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric

__all__ = ["UnmodelledIP"]


class UnmodelledIP(IPModel):
    vlnv = ""  # stands in for any VLNV the catalogue lacks

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        super().__init__(fabric, spec)
        for offset in range(0, spec.addr_range, WORD):
            self.watch(offset, on_read=self._refuse, on_write=self._refuse)

    def _refuse(self, *_: object) -> int:
        raise DesignError(
            f"{self.name} ({self.spec.vlnv}) is not simulated: the simulated board has no model of this IP, "
            f"so its registers cannot be read or written. Models exist for AXI DMA, AXI-Stream FIFOs, width "
            f"converters and register slices, AXI GPIO and HLS kernels; for your own HLS kernel register a "
            f"behaviour with labkit.register_kernel().")

    def stream_width(self, port: str) -> int:
        return self.spec.stream_ports.get(port, ("", 4))[1] or 4
