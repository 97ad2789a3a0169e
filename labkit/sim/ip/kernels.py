"""Models of the lab's HLS kernels: their compiled C++ for the data, their cycle models for the time.

Each model pairs a kernel module of :mod:`labkit.kernels` (register offsets,
cycle model, numpy twin) with the kernel's C++ from ``hls/``, compiled into
the package (:mod:`labkit.sim.hlslib`).  The timing of a call is built from
the kernel's stage cycles and from when its input beats arrive; see
``hls_kernel.py`` for the life of a call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labkit.kernels import cnn_classifier, ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store
from labkit.kernels._status import LAB_DECODE_ERROR

from ..hlslib import kernel_library
from ..worker import OP_CALL
from .hls_kernel import HlsKernelModel, KernelCall, OutputPlan, Stage
from .base import IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric

__all__ = ["MmioRowsumModel", "DdrRowsumModel", "PpLoadComputeModel", "PpStoreModel", "CnnClassifierModel"]


def _scalar(kernel, name: str) -> tuple[int, int]:
    return kernel.REGISTERS[name]["address_offset"], 1


def _pointer(kernel, name: str) -> tuple[int, int]:
    return kernel.REGISTERS[f"{name}_1"]["address_offset"], 2


def task(kernel: str, *args: int) -> tuple:
    """A PL-job operation calling ``lab_task_<kernel>`` of the compiled kernels with ``args``."""
    return (OP_CALL, kernel_library().task_function(kernel), tuple(int(a) for a in args))


class MmioRowsumModel(HlsKernelModel):
    """The forum's kernel: an image written into its AXI-Lite memory, per-row sums read back."""

    kernel = mmio_rowsum
    vlnv = mmio_rowsum.VLNV
    arguments = {name: _scalar(mmio_rowsum, name) for name in ("rows", "cols", "pack16")}

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        super().__init__(fabric, spec)
        mem = mmio_rowsum.MEMORIES
        self.image = self.regs[mem["image"]["offset"] // 4:][: mem["image"]["words"]]
        self.rowsum = self.regs[mem["rowsum"]["offset"] // 4:][: mem["rowsum"]["words"]]
        self.mark_result_memory(mem["rowsum"]["offset"], 4 * mem["rowsum"]["words"])

    def check_args(self, args: dict[str, int]) -> None:
        code = mmio_rowsum.check_args(args["rows"], args["cols"], args["pack16"])
        if code:
            self.fabric.log_event(self.name, f"started with rows={args['rows']} cols={args['cols']} "
                                             f"pack16={args['pack16']}: out of range, the kernel computes nothing")

    def schedule(self, call: KernelCall) -> dict[str, OutputPlan]:
        a = call.args
        cycles = mmio_rowsum.cycles(a["rows"], a["cols"], a["pack16"])
        call.stages.append(Stage("COM", call.start, call.start + cycles / self.fabric.clock_hz))
        return {}

    def kernel_ops(self, call, inputs, outputs, keep) -> list[tuple]:
        a = call.args
        if mmio_rowsum.check_args(a["rows"], a["cols"], a["pack16"]) != 0:
            return []  # out of range: the kernel computes nothing (check_args logged it)
        return [task("mmio_rowsum", self.image.ctypes.data, self.rowsum.ctypes.data,
                     a["rows"], a["cols"], a["pack16"])]


class DdrRowsumModel(HlsKernelModel):
    """ZynqNet-style master: reads its input from DDR by physical address, writes sums to DDR."""

    kernel = ddr_rowsum
    vlnv = ddr_rowsum.VLNV
    arguments = {"src": _pointer(ddr_rowsum, "src"), "dst": _pointer(ddr_rowsum, "dst"),
                 "rows": _scalar(ddr_rowsum, "rows"), "cols": _scalar(ddr_rowsum, "cols")}

    def schedule(self, call: KernelCall) -> dict[str, OutputPlan]:
        a = call.args
        cycles = ddr_rowsum.cycles(a["rows"], a["cols"])
        call.stages.append(Stage("COM", call.start, call.start + cycles / self.fabric.clock_hz))
        port = self.spec.memory_port or self.name
        traffic = ddr_rowsum.traffic(a["rows"], a["cols"])
        self.fabric.count_bytes(port, "read", traffic["read_bytes"])
        self.fabric.count_bytes(port, "write", traffic["write_bytes"])
        return {}

    def kernel_ops(self, call, inputs, outputs, keep) -> list[tuple]:
        a = call.args
        pool = self.fabric.pool
        return [task("ddr_rowsum", pool.ddr.ctypes.data, pool.base, pool.size, a["src"], a["dst"],
                     a["rows"], a["cols"])]

    def call_done(self, call: KernelCall) -> None:
        if call.future is not None and call.future.result() == LAB_DECODE_ERROR:
            a = call.args
            # HLS m_axi masters ignore the AXI error response: the kernel finishes, with garbage.
            self.fabric.log_event(self.name, f"AXI decode error: src={a['src']:#x} dst={a['dst']:#x} "
                                             f"rows={a['rows']} cols={a['cols']} reach outside the DDR the "
                                             "simulation holds; on a board the kernel reads garbage")
        else:
            super().call_done(call)


def _pipeline_tail(stage_cycles: int, beats: int) -> int:
    """Cycles of a stage beyond one per beat: its pipeline depth."""
    return max(0, stage_cycles - beats)


class _BufferedStreamKernel(HlsKernelModel):
    """pp_load_compute and pp_store: one stream in, one out, two BRAM buffers kept between calls.

    The buffers live in the bridge's per-instance state; the arguments after the stream pointers
    are the kernel's scalar registers in the order ``arguments`` lists them (the bridge's order).
    """

    results_visible_to_ps = False  # its results leave through a DMA

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        super().__init__(fabric, spec)
        self._instance = self._new_state()
        self._last = np.empty(self.kernel.MAX_N, dtype=np.uint8)  # TLAST flags (jobs run one at a time)

    def _new_state(self):
        return getattr(kernel_library(), self.kernel.KERNEL)()

    def on_reset(self) -> None:
        super().on_reset()
        if getattr(self, "_instance", None) is not None:
            self._instance = self._new_state()  # reconfiguring the PL clears the BRAMs

    def stream_inputs(self, args: dict[str, int]) -> dict[str, int]:
        n = min(args["n"], self.kernel.MAX_N)
        return {self.kernel.AXIS_INPUT: n} if n else {}

    def kernel_ops(self, call, inputs, outputs, keep) -> list[tuple]:
        if not outputs:
            return []
        words, out = inputs[self.kernel.AXIS_INPUT], outputs[self.kernel.AXIS_OUTPUT]
        keep += [self._instance, self._last]  # the state must outlive a reset while the job waits
        scalars = [call.args[name] for name in self.arguments]
        return [task(self.kernel.KERNEL, self._instance._state, words.ctypes.data, words.nbytes // 4,
                     out.ctypes.data, self._last.ctypes.data, min(call.args["n"], self.kernel.MAX_N), *scalars)]


class PpLoadComputeModel(_BufferedStreamKernel):
    """LB + COM of the double-buffer seed; ``pingpong`` overlaps them on two buffers."""

    kernel = pp_load_compute
    vlnv = pp_load_compute.VLNV
    arguments = {name: _scalar(pp_load_compute, name) for name in ("num", "op", "n", "pingpong")}
    stream_ports = {pp_load_compute.AXIS_INPUT: 4, pp_load_compute.AXIS_OUTPUT: 4}

    def schedule(self, call: KernelCall) -> dict[str, OutputPlan]:
        a = call.args
        n = min(a["n"], pp_load_compute.MAX_N)
        cycle = 1 / self.fabric.clock_hz
        sc = pp_load_compute.stage_cycles(n, a["pingpong"])
        s = call.start
        if n == 0:  # both loops run zero times: only the handshake
            call.stages.append(Stage("COM", s, s + sc["overhead"] * cycle, ".compute"))
            return {}
        consumer = call.inputs[pp_load_compute.AXIS_INPUT]
        read_start = max(s, consumer.first_take if consumer.first_take is not None else s)  # first beat in
        read_end = max(read_start + sc["read"] * cycle, consumer.t + _pipeline_tail(sc["read"], n) * cycle)
        compute_start = s if a["pingpong"] else read_end
        compute_end = compute_start + (sc["compute"] + sc["overhead"]) * cycle
        call.stages += [Stage("LB", read_start, read_end, ".read"),
                        Stage("COM", compute_start, compute_end, ".compute")]
        t_first = compute_start + _pipeline_tail(sc["compute"], n) * cycle
        return {pp_load_compute.AXIS_OUTPUT: OutputPlan(4 * n, t_first, t_first + (n - 1) * cycle)}


class PpStoreModel(_BufferedStreamKernel):
    """SB of the double-buffer seed; ``pingpong`` stores one buffer while filling the other."""

    kernel = pp_store
    vlnv = pp_store.VLNV
    arguments = {name: _scalar(pp_store, name) for name in ("num", "n", "pingpong")}
    stream_ports = {pp_store.AXIS_INPUT: 4, pp_store.AXIS_OUTPUT: 4}

    def schedule(self, call: KernelCall) -> dict[str, OutputPlan]:
        a = call.args
        n = min(a["n"], pp_store.MAX_N)
        cycle = 1 / self.fabric.clock_hz
        sc = pp_store.stage_cycles(n, a["pingpong"])
        s = call.start
        if n == 0:
            call.stages.append(Stage("SB", s, s + sc["overhead"] * cycle, ".write"))
            return {}
        consumer = call.inputs[pp_store.AXIS_INPUT]
        tail = _pipeline_tail(sc["read"], n) * cycle
        if a["pingpong"]:
            read_end = max(s + sc["read"] * cycle, consumer.t + tail)
            write_end = s + (sc["write"] + sc["overhead"]) * cycle
            call.stages += [Stage("SB.in", s, read_end, ".read"), Stage("SB", s, write_end, ".write")]
            t_first = s + _pipeline_tail(sc["write"], n) * cycle
            t_last = t_first + (n - 1) * cycle
        else:
            # Pass-through: every beat leaves a pipeline depth after it arrived.
            first = consumer.first_take if consumer.first_take is not None else s
            end = max(s + (sc["read"] + sc["overhead"]) * cycle, consumer.t + tail)
            call.stages.append(Stage("SB", first, end, ".write"))
            t_first, t_last = first + tail, consumer.t + tail
        return {pp_store.AXIS_OUTPUT: OutputPlan(4 * n, t_first, t_last)}

class CnnClassifierModel(HlsKernelModel):
    """The int8 digit classifier: a batch of images in, ten scores per image out."""

    kernel = cnn_classifier
    vlnv = cnn_classifier.VLNV
    arguments = {"batch": _scalar(cnn_classifier, "batch")}
    stream_ports = {cnn_classifier.AXIS_INPUT: 8, cnn_classifier.AXIS_OUTPUT: 4}
    results_visible_to_ps = False  # its results leave through a DMA

    def stream_inputs(self, args: dict[str, int]) -> dict[str, int]:
        batch = min(args["batch"], cnn_classifier.MAX_BATCH)
        return {cnn_classifier.AXIS_INPUT: batch * cnn_classifier.BEATS_PER_IMAGE} if batch else {}

    def schedule(self, call: KernelCall) -> dict[str, OutputPlan]:
        batch = min(call.args["batch"], cnn_classifier.MAX_BATCH)
        cycle = 1 / self.fabric.clock_hz
        s = call.start
        end = s + cnn_classifier.START_OVERHEAD * cycle
        if not batch:
            call.stages.append(Stage("CNN", s, end))
            return {}
        # Images are classified one after another, each from its own pixels: image i starts when
        # image i-1 is done, and its last stage cannot begin before its last beat has arrived.
        consumer = call.inputs[cnn_classifier.AXIS_INPUT]
        per_image = cnn_classifier.image_cycles() * cycle
        after_read = (cnn_classifier.image_cycles() - cnn_classifier.stage_cycles()["read"]) * cycle
        first_done = None
        for i in range(batch):
            last_beat = consumer.beat_offered_at((i + 1) * cnn_classifier.BEATS_PER_IMAGE - 1)
            end = max(end + per_image, last_beat + after_read)
            first_done = first_done or end
        call.stages.append(Stage("CNN", s, end))
        scores = batch * cnn_classifier.SCORES_PER_IMAGE
        return {cnn_classifier.AXIS_OUTPUT: OutputPlan(4 * scores, first_done, end)}

    def kernel_ops(self, call, inputs, outputs, keep) -> list[tuple]:
        if not outputs:
            return []
        batch = min(call.args["batch"], cnn_classifier.MAX_BATCH)
        beats, out = inputs[cnn_classifier.AXIS_INPUT], outputs[cnn_classifier.AXIS_OUTPUT]
        last = np.empty(out.size, dtype=np.uint8)
        keep.append(last)
        return [task("cnn_classifier", beats.ctypes.data, beats.nbytes // 8, out.ctypes.data, last.ctypes.data,
                     out.size, batch)]
