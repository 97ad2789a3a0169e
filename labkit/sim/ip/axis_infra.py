"""AXI4-Stream infrastructure IP: width converters, register slices, subset converters.

None has registers.  Like the data FIFO (``axis_fifo.py``) each is folded into the stream channel
it sits on (``passthrough``: slave port -> master port), with parameters read from the ``.hwh``:

* ``axis_dwidth_converter`` (PG183): ``S_TDATA_NUM_BYTES`` in, ``M_TDATA_NUM_BYTES`` out; the
  bytes are unchanged, the beats regrouped (``Chunk.rewidth``).  Its few cycles of latency are
  left out.
* ``axis_register_slice`` (PG373 / PG085 family): two beats of buffering, same width.
* ``axis_subset_converter`` (PG085): modelled when it only passes data through at one width;
  a design where it changes TDATA width or remaps bytes is refused at load with the reason,
  since a silent pass-through would give wrong data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit.errors import DesignError

from .base import IPModel, IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric

__all__ = ["AxisDwidthConverterModel", "AxisRegisterSliceModel", "AxisSubsetConverterModel"]


def _int(spec: IPSpec, name: str, default: int) -> int:
    for key in (name, name.lower(), f"C_{name}"):
        if key in spec.parameters:
            try:
                return int(spec.parameters[key])
            except ValueError:
                pass
    return default


def passes_tlast(spec: IPSpec, name: str = "HAS_TLAST") -> bool:
    """Does TLAST get through this IP?  Configured without it, the packet boundary is lost: an S2MM
    DMA downstream then never sees the end of its transfer (as on hardware)."""
    return _int(spec, name, 1) != 0


class AxisDwidthConverterModel(IPModel):
    vlnv = "xilinx.com:ip:axis_dwidth_converter"
    passthrough = {"S_AXIS": "M_AXIS"}
    converts_width = True
    depth = 0

    @property
    def passes_tlast(self) -> bool:
        return passes_tlast(self.spec)

    def stream_width(self, port: str) -> int:
        return _int(self.spec, "S_TDATA_NUM_BYTES" if port == "S_AXIS" else "M_TDATA_NUM_BYTES", 4)


class AxisRegisterSliceModel(IPModel):
    vlnv = "xilinx.com:ip:axis_register_slice"
    passthrough = {"S_AXIS": "M_AXIS"}
    depth = 2  # a full register slice holds two beats

    @property
    def passes_tlast(self) -> bool:
        return passes_tlast(self.spec)

    def stream_width(self, port: str) -> int:
        return _int(self.spec, "TDATA_NUM_BYTES", 4)


class AxisSubsetConverterModel(IPModel):
    vlnv = "xilinx.com:ip:axis_subset_converter"
    passthrough = {"S_AXIS": "M_AXIS"}
    depth = 0

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        super().__init__(fabric, spec)
        s_bytes, m_bytes = _int(spec, "S_TDATA_NUM_BYTES", 4), _int(spec, "M_TDATA_NUM_BYTES", 4)
        remap = spec.parameters.get("TDATA_REMAP", "tdata[%d:0]" % (8 * m_bytes - 1))
        if s_bytes != m_bytes or remap.replace(" ", "") != "tdata[%d:0]" % (8 * m_bytes - 1):
            raise DesignError(f"{spec.name}: this axis_subset_converter changes the data ({s_bytes} -> {m_bytes} "
                              f"bytes, TDATA_REMAP {remap!r}); the simulated board only models one that passes "
                              f"TDATA through unchanged")

    def stream_width(self, port: str) -> int:
        return _int(self.spec, "S_TDATA_NUM_BYTES" if port == "S_AXIS" else "M_TDATA_NUM_BYTES", 4)

    @property
    def passes_tlast(self) -> bool:
        # TLAST reaches M_AXIS only if both sides have it (TLAST_REMAP defaults to tlast[0])
        return passes_tlast(self.spec, "S_HAS_TLAST") and passes_tlast(self.spec, "M_HAS_TLAST")
