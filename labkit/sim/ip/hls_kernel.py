"""The ap_ctrl_hs block every Vitis HLS kernel has, and the life of one kernel call.

Registers (Vitis HLS, ``s_axilite`` bundle with ``port=return``):

====== ======================================================================
0x00   CTRL: bit 0 ap_start (R/W), 1 ap_done (R, clear on read),
       2 ap_idle (R), 3 ap_ready (R, clear on read), 7 auto_restart (R/W)
0x04   GIER: bit 0 global interrupt enable
0x08   IP_IER: bit 0 ap_done, bit 1 ap_ready interrupt enable
0x0C   IP_ISR: bit 0 ap_done, bit 1 ap_ready interrupt status (toggle on write)
0x10-  the kernel's arguments
====== ======================================================================

Writing ap_start while the kernel is idle starts a *call*: the arguments are
sampled, the call waits for its input streams (as many beats as the kernel
will read), then runs -- its C++ on the PL worker thread, its timing from the
kernel's cycle model -- and offers its output streams downstream.  ap_done
and ap_idle are computed when CTRL is read: the call is done once its data
work has run, its output was accepted downstream, and (board pace) the
modelled end has passed.  A kernel whose output nobody takes never finishes.

Subclasses describe one kernel:

* ``kernel``: the module in ``labkit.kernels`` (VLNV, register offsets, cycle model);
* :meth:`stream_inputs`: beats each input port takes in a call with these arguments;
* :meth:`schedule`: the call's stages on the timeline and the timing of its outputs;
* :meth:`kernel_ops`: the data work as PL-job operations (the PL's job queue calls the compiled C++).

Fault kinds honoured (see ``faults.py`` for sources): ``hang`` (a call never
finishes), ``slow`` (a call takes ``factor`` times its cycles), ``drop_tlast``
(the call's output streams carry no TLAST), ``wrong_result`` (one 32-bit word
of the call's first output stream is corrupted).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..streams import Chunk, StreamConsumer, gather_ops
from ..worker import memcpy
from ..timeline import Interval
from .base import IPModel, IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric

__all__ = ["HlsKernelModel", "KernelCall", "OutputPlan", "Stage"]

CTRL, GIER, IP_IER, IP_ISR = 0x00, 0x04, 0x08, 0x0C
AP_START, AP_DONE, AP_IDLE, AP_READY, AUTO_RESTART = 0x1, 0x2, 0x4, 0x8, 0x80
ISR_DONE, ISR_READY = 0x1, 0x2
CORRUPT_WORD = 0x7FFF0BAD  #: what a ``wrong_result`` fault writes over one output word


@dataclass
class Stage:
    """One stage of a call on the timeline (e.g. the LB or COM half of a ping-pong kernel)."""

    label: str
    start: float
    end: float
    resource_suffix: str = ""  #: appended to the IP name: "pp_load_compute.read"

    def cycles(self, clock_hz: float) -> int:
        return round((self.end - self.start) * clock_hz)


@dataclass
class OutputPlan:
    """When and how much a call will put on one output stream."""

    nbytes: int
    t_first: float
    t_last: float
    dtype: Any = np.uint32


@dataclass
class KernelCall:
    """One run of a kernel from ap_start to ap_done."""

    model: "HlsKernelModel"
    args: dict[str, int]
    issued: float  #: wall-clock (perf_counter) moment ap_start was written
    start: float  #: modelled start: issued, or later if the kernel was busy
    inputs: dict[str, StreamConsumer] = field(default_factory=dict)
    outputs: dict[str, Chunk] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    own_end: float = math.inf
    end: float = math.inf
    future: Any = None
    hang: bool = False
    outstanding: int = 0

    def finished(self, settle: bool = True) -> bool:
        """Done? ``settle``: run pending PL data work first (status reads do; register writes don't).

        Only kernels whose results the PS can see directly (a memory in their AXI-Lite space,
        DDR they write) need their data work done for ap_done; a stream kernel's results only
        reach the PS through a DMA, whose completion waits for it.  Until then the worker thread
        computes them in the background, as the PL does.
        """
        if self.hang or self.end == math.inf:
            return False
        fabric = self.model.fabric
        if self.model.results_visible_to_ps:
            if settle:
                if not fabric.settle(self.future):
                    return False
            elif self.future is not None and not self.future.done():
                return False
        return not fabric.board_pace or fabric.now() >= self.end

    # Producer protocol: a downstream consumer took one of our output chunks.
    def chunk_accepted(self, chunk: Chunk) -> None:
        self.outstanding -= 1
        self.own_end = max(self.own_end, chunk.accept_end)
        if self.outstanding == 0:
            self.model._call_ended(self)


class HlsKernelModel(IPModel):
    """Base class of the HLS kernel models."""

    kernel: ClassVar[ModuleType]
    #: argument name -> (byte offset, width in words); 64-bit pointers take two words
    arguments: ClassVar[dict[str, tuple[int, int]]] = {}
    #: stream port -> bytes per beat
    stream_ports: ClassVar[dict[str, int]] = {}
    #: the kernel writes results the PS reads without a DMA (its AXI-Lite memory, or DDR)
    results_visible_to_ps: ClassVar[bool] = True

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        super().__init__(fabric, spec)
        self.call: KernelCall | None = None
        self.calls_done = 0
        self.last_call: KernelCall | None = None
        self._busy_until = float("-inf")  #: modelled end of the latest call that ended
        self._unreported: deque[KernelCall] = deque()  # finished calls not yet passed to call_done
        self._done_latched = False
        self.watch(CTRL, on_write=self._ctrl_written, on_read=self._ctrl_read)
        self.watch(IP_ISR, on_write=self._isr_written)
        self.reset()

    def on_reset(self) -> None:
        self.call = None
        self._busy_until = float("-inf")  # a reconfiguration cuts off whatever the last call was doing
        self._done_latched = False
        self._isr = 0
        self.set_reg(CTRL, AP_IDLE)

    # -- arguments ---------------------------------------------------------------------------
    def read_args(self) -> dict[str, int]:
        args = {}
        for name, (offset, words) in self.arguments.items():
            args[name] = self.reg64(offset) if words == 2 else self.reg(offset)
        return args

    def stream_width(self, port: str) -> int:
        return self.stream_ports[port]

    # -- ap_ctrl_hs ----------------------------------------------------------------------------
    def _refresh(self, settle: bool = True) -> None:
        call = self.call
        if call is not None and call.finished(settle):
            self.call = None
            self.calls_done += 1
            self._unreported.append(call)
            self._done_latched = True
            self._isr |= self.reg(IP_IER) & (ISR_DONE | ISR_READY)
            self.set_reg(IP_ISR, self._isr)
            if self.reg(CTRL) & AUTO_RESTART:
                self._start()
        while self._unreported:  # finished calls, reported once their data work has run (in order)
            future = self._unreported[0].future
            if future is not None and not future.done():
                break  # a stream kernel's C++ may still be running: report it at a later read
            self.call_done(self._unreported.popleft())
        ctrl = self.reg(CTRL) & AUTO_RESTART
        if self.call is None:
            ctrl |= AP_IDLE
        else:
            ctrl |= AP_START  # held until the call is accepted (ap_ready), as the hardware does
        if self._done_latched:
            ctrl |= AP_DONE | AP_READY
        self.set_reg(CTRL, ctrl)

    def _ctrl_read(self) -> int:
        self._refresh()
        if self._done_latched:
            self._done_latched = False  # ap_done and ap_ready clear when read
            return AP_DONE | AP_READY
        return 0

    def _ctrl_written(self, value: int) -> None:
        # A store returns at once on a board: never wait here for the PL's data work.
        auto = value & AUTO_RESTART
        self._refresh(settle=False)
        self.set_reg(CTRL, (self.reg(CTRL) & ~AUTO_RESTART) | auto)
        if value & AP_START and self.call is None:
            self._start()
        self._refresh(settle=False)

    def _isr_written(self, value: int) -> None:
        # The store replaced the word; IP_ISR really toggles the bits written as 1.
        self._isr ^= value & (ISR_DONE | ISR_READY)
        self.set_reg(IP_ISR, self._isr)

    # -- a call's life --------------------------------------------------------------------------
    def _start(self) -> None:
        now = self.fabric.now()
        # An ap_ctrl_hs kernel runs one call at a time.  In host pace the PS sees ap_done when the
        # data work is done, often before the modelled end: the next call starts after that end.
        start = max(now, self._busy_until)
        call = KernelCall(self, self.read_args(), now, start)
        call.hang = self.fabric.faults.take(self.name, "hang") is not None
        self.call = self.last_call = call
        self.check_args(call.args)
        needs = self.stream_inputs(call.args)
        for port, beats in needs.items():
            consumer = StreamConsumer(start, self.fabric.clock_hz, lambda c, call=call: self._input_done(call),
                                      want=beats, owner=self)
            call.inputs[port] = consumer
        for port, consumer in call.inputs.items():
            channel = self.fabric.channel_in(self.name, port)
            if channel is not None:  # unconnected input: the call waits for ever, as on hardware
                channel.post(consumer)
        if not needs:
            self._fire(call)

    def _input_done(self, call: KernelCall) -> None:
        if all(c.done for c in call.inputs.values()) and call.future is None and self.call is call:
            self._fire(call)

    def _fire(self, call: KernelCall) -> None:
        """All inputs are there: schedule the stages, queue the C++, offer the outputs."""
        if call.hang:
            # A hung call took its inputs and stops inside: no output beat, no ap_done (UG1399: ap_done
            # rises only when the function returns), and no data work for the simulation to compute.
            for consumer in call.inputs.values():
                consumer.release(None)
            return
        plans = self.schedule(call)
        faults = self.fabric.faults
        slow = faults.take(self.name, "slow")
        if slow is not None:
            _stretch(call, plans, float(slow.params.get("factor", DEFAULT_SLOW_FACTOR)))
        drop_tlast = faults.take(self.name, "drop_tlast") is not None
        outputs: dict[str, np.ndarray] = {}
        for port, plan in plans.items():
            data = np.empty(plan.nbytes // np.dtype(plan.dtype).itemsize, dtype=plan.dtype)
            outputs[port] = data
            call.outputs[port] = Chunk(plan.nbytes, self.stream_ports[port], not drop_tlast, plan.t_first,
                                       plan.t_last, call, data=data.view(np.uint8), owner=self)
        keep: list = list(outputs.values())
        ops: list[tuple] = []
        inputs: dict[str, np.ndarray] = {}
        for port, consumer in call.inputs.items():
            inputs[port], gather = gather_ops(consumer.takes, keep)
            ops += gather
        ops += self.kernel_ops(call, inputs, outputs, keep)
        wrong = faults.take(self.name, "wrong_result") if outputs else None
        if wrong is not None:
            ops.append(_corrupt_op(next(iter(outputs.values())), int(wrong.params.get("word", 0)), keep))
        call.future = self.fabric.submit(ops, keep=tuple(keep)) if ops else None
        for consumer in call.inputs.values():
            consumer.release(call.future)
        call.own_end = max(stage.end for stage in call.stages)
        self._offer_outputs(call)

    def _offer_outputs(self, call: KernelCall) -> None:
        """Hand a started call's output chunks to the streams (a call with no outputs has ended)."""
        call.outstanding = len(call.outputs)
        if not call.outputs:
            self._call_ended(call)
        for port, chunk in call.outputs.items():
            channel = self.fabric.channel_out(self.name, port)
            if channel is not None:
                channel.offer(chunk)

    def _call_ended(self, call: KernelCall) -> None:
        call.end = call.own_end
        self._busy_until = max(self._busy_until, call.end)
        for stage in call.stages:
            resource = self.name + stage.resource_suffix
            self.fabric.timeline.add(Interval(resource, stage.label, stage.start, stage.end,
                                              stage.cycles(self.fabric.clock_hz), {"call": self.calls_done}))
        if call.end > max(s.end for s in call.stages) and call.outputs:
            # The call finished late because downstream was slow or not started: show the stall.
            last = max(s.end for s in call.stages)
            self.fabric.timeline.add(Interval(self.name + ".stall", "stall", last, call.end,
                                              round((call.end - last) * self.fabric.clock_hz)))

    # -- to be provided by each kernel ------------------------------------------------------------
    def check_args(self, args: dict[str, int]) -> None:
        """Hook for kernels whose hardware would misbehave on some arguments (log, don't raise)."""

    def stream_inputs(self, args: dict[str, int]) -> dict[str, int]:
        """Beats each input stream port takes in one call."""
        return {}

    def schedule(self, call: KernelCall) -> dict[str, OutputPlan]:
        """Fill ``call.stages`` and return the output plan per output port."""
        raise NotImplementedError

    def kernel_ops(self, call: KernelCall, inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray],
                   keep: list) -> list[tuple]:
        """The data work of one call as PL-job operations (see worker.py): read ``inputs`` (bytes),
        fill ``outputs``.  Arrays the operations point into that the caller does not hold go in ``keep``."""
        raise NotImplementedError

    def call_done(self, call: KernelCall) -> None:
        """A call finished and its data work ran: report a bridge that refused (should not happen)."""
        result = call.future.result() if call.future is not None else None
        if result is not None and result < 0:
            from labkit.kernels._bridge import describe

            self.fabric.log_event(self.name, f"the kernel's C++ refused call {call.args}: {describe(result)}")

    # -- faults ----------------------------------------------------------------------------------
    fault_type = "hls_kernel"

    def fault_kinds(self) -> tuple[str, ...]:
        return ("hang", "slow", "drop_tlast", "wrong_result")

    def output_ports(self) -> list[str]:
        """Stream ports this kernel writes, connected in the loaded design."""
        return [p for p in self.stream_ports if self.fabric.channel_out(self.name, p) is not None]

    def fault_never_fires(self, kind: str, params: dict[str, Any]) -> str | None:
        if kind in ("drop_tlast", "wrong_result") and not self.output_ports():
            return (f"{self.name} has no output stream (its results are read over AXI-Lite or from DDR); "
                    "pick a kernel that streams its results, e.g. pp_store or cnn_classifier")
        if kind == "slow":
            factor = params.get("factor", DEFAULT_SLOW_FACTOR)
            if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 1:
                return f"factor must be a number above 1 (how many times slower), got {factor!r}"
        if kind == "wrong_result":
            word = params.get("word", 0)
            if isinstance(word, bool) or not isinstance(word, int) or word < 0:
                return f"word must be the index (0, 1, ...) of the output word to corrupt, got {word!r}"
        return None

    def shutdown(self) -> None:
        for port in self.stream_ports:
            for channel in (self.fabric.channel_in(self.name, port), self.fabric.channel_out(self.name, port)):
                if channel is not None:
                    channel.withdraw(self)
        self.call = None


DEFAULT_SLOW_FACTOR = 10.0


def _stretch(call: KernelCall, plans: dict[str, OutputPlan], factor: float) -> None:
    """A ``slow`` fault: every stage and output of the call takes ``factor`` times as long from its start."""
    t0 = call.start
    for stage in call.stages:
        stage.start, stage.end = t0 + (stage.start - t0) * factor, t0 + (stage.end - t0) * factor
    for plan in plans.values():
        plan.t_first, plan.t_last = t0 + (plan.t_first - t0) * factor, t0 + (plan.t_last - t0) * factor


def _corrupt_op(output: np.ndarray, word: int, keep: list) -> tuple:
    """A PL-job operation, queued after the kernel's own, that overwrites 32-bit word ``word`` of ``output``."""
    raw = output.view(np.uint8)
    word = min(word, raw.nbytes // 4 - 1)
    bad = np.array([CORRUPT_WORD], dtype=np.uint32)
    keep.append(bad)
    return memcpy(raw[4 * word:], bad.view(np.uint8), 4)
