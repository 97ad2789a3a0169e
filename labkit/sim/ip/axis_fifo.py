"""AXI4-Stream Data FIFO (Xilinx PG085): buffering between a stream master and slave.

It has no registers.  The fabric folds it into the stream channel it sits on:
the channel gains ``FIFO_DEPTH`` beats of buffering, so a producer can finish
a transfer of up to that many beats before anything reads the other end.
"""

from __future__ import annotations

from .base import IPModel

__all__ = ["AxisFifoModel", "FIFO_VLNV"]

FIFO_VLNV = "xilinx.com:ip:axis_data_fifo:2.0"


class AxisFifoModel(IPModel):
    vlnv = FIFO_VLNV
    passthrough = {"S_AXIS": "M_AXIS"}  #: slave port -> the master port its data leaves by

    @property
    def depth(self) -> int:
        return int(self.spec.parameters.get("FIFO_DEPTH", "16"))

    @property
    def passes_tlast(self) -> bool:
        return self.spec.parameters.get("HAS_TLAST", "1") != "0"

    def stream_width(self, port: str) -> int:
        return int(self.spec.parameters.get("TDATA_NUM_BYTES", "4"))
