"""A user's HLS kernel from a ``.hwh``: ap_ctrl_hs registers as Vitis HLS lays them out, behaviour registered.

Everything the ``.hwh`` says is used: the ``s_axilite`` registers (pynq's register map, so
``register_map.src_rows = 480`` works), the AXI-Stream ports and their widths.  What the kernel
computes comes from a behaviour registered on the board (``labkit.register_kernel``), looked
up when ``ap_start`` is written; without one, ``ap_start`` raises an error naming the IP and the
two ways to give it behaviour.  Registers without ap_start work as on the board.

A call: ap_start samples the arguments; each input stream is consumed up to TLAST (or the beats
the behaviour asks for); then the PS thread runs the behaviour on those bytes, and the outputs
leave ``cycles`` PL cycles after the last input beat arrived, one beat per cycle, TLAST on the
last.  ``ap_ctrl_none`` kernels (no CTRL register in the .hwh) run whenever input arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..kernel_behaviour import no_behaviour_error
from ..streams import Chunk, StreamConsumer, gather_ops
from .hls_kernel import HlsKernelModel, KernelCall, OutputPlan, Stage
from .base import IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric

__all__ = ["UserHlsKernelModel"]

_CONTROL = {"CTRL", "GIER", "IP_IER", "IP_ISR"}
UNTIL_TLAST = 1 << 40  # beat budget of a consumer that reads up to TLAST


def _arguments(registers: dict[str, dict]) -> dict[str, tuple[int, int]]:
    """Argument name -> (offset, words) from a .hwh register map; ``x_1``/``x_2`` pairs are one pointer."""
    args: dict[str, tuple[int, int]] = {}
    for name, reg in registers.items():
        if name in _CONTROL or name.endswith("_ctrl") or name.endswith("_vld"):
            continue
        offset = int(reg["address_offset"])
        if name.endswith("_2") and name[:-2] + "_1" in registers:
            continue
        if name.endswith("_1") and name[:-2] + "_2" in registers:
            args[name[:-2]] = (offset, 2)
        else:
            args[name] = (offset, 2 if int(reg.get("size", 32)) > 32 else 1)
    return args


class UserHlsKernelModel(HlsKernelModel):
    """Any ``<vendor>:hls:<name>`` IP of a user's design."""

    vlnv = ""  # chosen for every HLS VLNV without a dedicated model (see ip/__init__.py)
    results_visible_to_ps = False

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        #: ap_ctrl_none: no CTRL register in the .hwh; the kernel runs whenever its inputs arrive
        self.free_running = "CTRL" not in spec.registers
        if spec.addr_range < 0x10:  # no AXI-Lite at all: a register block nobody maps keeps the base class happy
            from dataclasses import replace

            spec = replace(spec, addr_range=0x10)
        self.arguments = _arguments(spec.registers)
        self.stream_ports = {port: width or 4 for port, (_, width) in spec.stream_ports.items()}
        self.inputs = [p for p, (d, _) in spec.stream_ports.items() if d == "in"]
        self.outputs_ports = [p for p, (d, _) in spec.stream_ports.items() if d == "out"]
        super().__init__(fabric, spec)

    def behaviour(self):
        found = self.fabric.kernel_behaviours.find(self.name, self.spec.vlnv)
        if found is None:
            raise no_behaviour_error(self.name, self.spec.vlnv)
        return found

    def _ddr(self, address: int, nbytes: int) -> np.ndarray:
        """The board's DDR at physical ``address`` (m_axi ports of a Python model)."""
        self.fabric.count_bytes(self.name + ".m_axi", "read", nbytes)
        return self.fabric.pool.view(int(address), int(nbytes))

    def connect(self) -> None:
        if self.free_running and self.inputs:
            self._start()

    def _call_ended(self, call: KernelCall) -> None:
        super()._call_ended(call)
        if self.free_running and self.call is call:
            self.call = None
            self.calls_done += 1
            self._start()

    def _start(self) -> None:
        # before anything changes: a refused start leaves the kernel idle.  An ap_ctrl_none kernel
        # has no ap_start: it looks its behaviour up when data arrives (_fire).
        behaviour = None if self.free_running else self.behaviour()
        now = self.fabric.now()
        start = max(now, self._busy_until)
        call = KernelCall(self, self.read_args(), now, start)
        call.hang = self.fabric.faults.take(self.name, "hang") is not None
        call.behaviour = behaviour
        self.call = self.last_call = call
        beats = dict(behaviour.input_beats(call.args)) if behaviour is not None and behaviour.input_beats else {}
        for port in self.inputs:
            want = beats.get(port)
            call.inputs[port] = StreamConsumer(start, self.fabric.clock_hz, lambda c, call=call: self._input_done(call),
                                               want=want, budget=None if want is not None else UNTIL_TLAST,
                                               owner=self)
        for port, consumer in call.inputs.items():
            channel = self.fabric.channel_in(self.name, port)
            if channel is not None:
                channel.post(consumer)
        if not call.inputs:
            self._fire(call)

    def _fire(self, call: KernelCall) -> None:
        keep: list = []
        ops: list[tuple] = []
        raw: dict[str, np.ndarray] = {}
        for port, consumer in call.inputs.items():
            raw[port], gather = gather_ops(consumer.takes, keep)
            ops += gather
        # The input bytes may still be on their way through the PL's job queue (FIFO snapshots):
        # queue the gathering and run the queue up to it, so the function sees the real data.
        task = self.fabric.submit(ops, keep=tuple(keep))
        self.fabric.settle(task)
        inputs = {port: np.array(data, dtype=np.uint8, copy=True) for port, data in raw.items()}
        for consumer in call.inputs.values():
            consumer.release(task)
        # Registered again since ap_start (a notebook cell re-run)?  The newest behaviour computes.
        behaviour = self.fabric.kernel_behaviours.find(self.name, self.spec.vlnv) or getattr(call, "behaviour", None)
        if behaviour is None:
            raise no_behaviour_error(self.name, self.spec.vlnv)
        try:
            outputs, cycles, estimated = behaviour.run(call.args, inputs, self._ddr)
        except Exception as exc:
            from labkit.errors import DesignError

            self.call = None  # the call is dropped: the kernel is idle again, the DMA feeding it stays busy
            sizes = {port: data.nbytes for port, data in inputs.items()}
            raise DesignError(f"{self.name}: the kernel's {behaviour.label} raised {type(exc).__name__}: {exc} "
                              f"(arguments {call.args}, input bytes {sizes}). Fix the model and register it "
                              f"again, then reload the overlay to reset the DMA.") from exc
        unknown = set(outputs) - set(self.outputs_ports)
        if unknown:
            from labkit.errors import DesignError

            raise DesignError(f"{self.name}: the kernel model returned {sorted(unknown)}, but the .hwh gives this "
                              f"kernel the output streams {self.outputs_ports}")
        clock = self.fabric.clock_hz
        beats = [c.got for c in call.inputs.values()] + [-(-o.nbytes // self.stream_ports[p]) for p, o in outputs.items()]
        if estimated:
            cycles = max(beats, default=1)
        begin = max([call.start] + [c.t for c in call.inputs.values()])
        stage = Stage("COM (II=1 estimate)" if estimated else "COM", begin, begin + max(cycles, 1.0) / clock)
        call.stages.append(stage)
        drop_tlast = self.fabric.faults.take(self.name, "drop_tlast") is not None
        for port, data in outputs.items():
            n = -(-data.nbytes // self.stream_ports[port])
            t_last = stage.end
            t_first = max(stage.start, t_last - (n - 1) / clock)
            call.outputs[port] = Chunk(data.nbytes, self.stream_ports[port], not drop_tlast, t_first, t_last, call,
                                       data=data, owner=self)
        call.future = None
        call.own_end = stage.end
        self._offer_outputs(call)

    def schedule(self, call: KernelCall) -> dict[str, OutputPlan]:  # pragma: no cover - _fire does it all
        raise NotImplementedError

    def kernel_ops(self, call, inputs, outputs, keep):  # pragma: no cover
        raise NotImplementedError
