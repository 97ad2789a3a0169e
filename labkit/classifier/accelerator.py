"""The digit classifier in the PL: ``CnnAccelerator`` feeds ``cnn_classifier`` through its AXI DMA.

>>> import labkit
>>> from labkit.classifier import CnnAccelerator
>>> ol = labkit.open_board()
>>> with CnnAccelerator(ol) as acc:
...     scores = acc.classify(images)      # uint8 [B,28,28] -> int32 [B,10], equal to classify_reference
...     print(acc.last_run)                # where the time went, stage by stage

What one call does, in batches of at most ``max_batch`` images (the buffers are allocated once,
with ``pynq.allocate``, when the accelerator is made):

==========  =================================================================================
stage       what the PS does
==========  =================================================================================
copy in     pack the pixels into 64-bit beats (8 pixels each, 98 per image) in the input buffer
start       ``batch`` register, ``CTRL.AP_START``, then the two DMA channels: S2MM (scores back)
            first so the kernel has somewhere to send, MM2S (pixels out) last; pynq's
            ``transfer`` flushes the input buffer from the CPU's cache to DDR
wait        poll until both DMA channels are idle and the kernel has raised ``AP_DONE``
read back   ``wait()`` invalidates the CPU's cached copy of the output buffer; copy the scores out
==========  =================================================================================

Each stage is **measured** (wall clock here).  On the simulated board each call also reports
the **modelled** PL time of its critical path, split into transfer (the DMA streaming pixels
before the kernel has its last image), compute (the kernel's cycles) and read back (the last
scores reaching DDR), and an **estimated** board time for every stage (the PS part scaled to
the board's CPU as in :mod:`labkit.estimate`, plus the modelled PL/bus time).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pynq
from pynq import allocate

from labkit import estimate
from labkit.board import board_label
from labkit.classroom.records import autosave
from labkit.errors import LabkitError, LabTimeoutError
from labkit.kernels import cnn_classifier as kernel
from labkit.sim.device import SimDevice
from labkit.timing import format_seconds, this_machine

from .reference import N_CLASSES, as_image_batch

__all__ = ["CnnAccelerator", "AcceleratorRun", "AcceleratorError", "IP_NAME", "DMA_NAME", "PL_RESOURCES",
           "STAGES", "MODELLED_STAGES", "DEFAULT_MAX_BATCH", "WAIT_TIMEOUT_S"]

IP_NAME = kernel.KERNEL  #: the kernel's name in the overlay
DMA_NAME = "dma_cnn"  #: the AXI DMA that feeds it
#: Timeline resources of one call on the simulated board (DMA read, kernel, DMA write).
MM2S, CNN, S2MM = f"{DMA_NAME}.mm2s", IP_NAME, f"{DMA_NAME}.s2mm"
PL_RESOURCES = (MM2S, CNN, S2MM)
STAGES = ("copy in", "start", "wait", "read back")  #: measured on the PS
MODELLED_STAGES = ("transfer", "compute", "read back")  #: the PL's critical path (simulated board)
DEFAULT_MAX_BATCH = 64
WAIT_TIMEOUT_S = 10.0
PIXEL_BYTES = kernel.BEATS_PER_IMAGE * kernel.PIXELS_PER_BEAT
SCORE_BYTES = kernel.SCORES_PER_IMAGE * np.dtype(np.int32).itemsize
#: numpy calls of the copy-in stage (check, view, convert, assign): what its board estimate scales
COPY_IN_NUMPY_CALLS = 4


class AcceleratorError(LabkitError, RuntimeError):
    """The overlay has no classifier, the accelerator is closed, or the DMA reported an error."""


@dataclass
class AcceleratorRun:
    """Where the time of one :meth:`CnnAccelerator.classify` call went (all its batches summed)."""

    images: int
    calls: int  #: kernel runs (DMA transfers each way)
    max_batch: int
    measured: dict[str, float]  #: seconds per stage, wall clock on this computer
    modelled: dict[str, float] | None  #: PL seconds: transfer, compute, read back (simulated board)
    estimated: dict[str, float] | None  #: seconds per stage on the simulated board's profile
    board: str
    machine: str
    intervals: list = field(default_factory=list, repr=False)  #: the modelled PL intervals of the calls

    @property
    def measured_s(self) -> float:
        return sum(self.measured.values())

    @property
    def modelled_s(self) -> float | None:
        return None if self.modelled is None else sum(self.modelled.values())

    @property
    def estimated_s(self) -> float | None:
        return None if self.estimated is None else sum(self.estimated.values())

    def table(self) -> str:
        head = f"{self.images} image(s) in {self.calls} kernel run(s) of at most {self.max_batch}, on {self.board}"
        lines = [head, f"{'stage':<11}{'measured':>12}{'estimated board':>17}"]
        for name, seconds in self.measured.items():
            est = format_seconds(self.estimated[name]) if self.estimated else "-"
            lines.append(f"{name:<11}{format_seconds(seconds):>12}{est:>17}")
        total_est = format_seconds(self.estimated_s) if self.estimated else "-"
        lines.append(f"{'TOTAL':<11}{format_seconds(self.measured_s):>12}{total_est:>17}")
        if self.modelled is not None:
            parts = ", ".join(f"{k} {format_seconds(v)}" for k, v in self.modelled.items())
            lines.append(f"modelled PL time {format_seconds(self.modelled_s)}: {parts}")
            lines.append(f"(measured on {self.machine}; modelled and estimated: simulated board)")
        else:
            lines.append(f"(measured on {self.machine})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.table())


class _Clock:
    """Measures the PS stages of one call and, on the simulated board, estimates them for the board.

    The recipe is :class:`labkit.transfer._Recorder`'s (:func:`labkit.estimate.ps_stage_s`): Python
    time without the simulation's own (bus stalls included) scaled to the board's CPU, bulk copies
    at the board's copy bandwidth, plus the modelled AXI-Lite time.  The wait is different:
    the modelled PL span is taken from this call's own intervals (the last one booked on each
    resource) and starts when both the kernel and the DMA are going, so calls queued back to back
    in host pace are not counted twice.
    """

    def __init__(self, overlay: pynq.Overlay) -> None:
        device = overlay.device
        self.sim = isinstance(device, SimDevice)
        self.measured = dict.fromkeys(STAGES, 0.0)
        self.estimated = dict.fromkeys(STAGES, 0.0) if self.sim else None
        self.modelled = dict.fromkeys(MODELLED_STAGES, 0.0) if self.sim else None
        self.intervals: list = []
        if self.sim:
            self.fabric = device.fabric
            self.probe = estimate.SimProbe(self.fabric)
            self.scale = estimate.cpu_scale(device.profile)

    def _snapshot(self) -> tuple[int, int, float, int]:
        return self.probe.snapshot() if self.sim else (0, 0, 0.0, 0)

    @contextmanager
    def ps(self, name: str, copy_bytes: int = 0, numpy_calls: int = 0) -> Iterator[None]:
        """A PS stage; ``numpy_calls`` > 0 marks it as bulk copying done in that many numpy calls."""
        before = self._snapshot()
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.measured[name] += elapsed
        if self.sim:
            after = self._snapshot()
            self.estimated[name] += estimate.ps_stage_s(self.scale, self.probe.python_s(elapsed, before, after),
                                                        self.probe.bus_s(before, after), copy_bytes, numpy_calls)

    @contextmanager
    def wait(self, batch: int, launched: float) -> Iterator[None]:
        before = self._snapshot()
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.measured["wait"] += elapsed
        if not self.sim:
            return
        after = self._snapshot()
        python, reads = self.probe.python_s(elapsed, before, after), after[0] - before[0]
        mine = self._my_intervals(launched)
        span = 0.0
        if len(mine) == len(PL_RESOURCES):
            mm2s, cnn, s2mm = (mine[r] for r in PL_RESOURCES)
            # The PL works on this call once the kernel has started *and* the first pixels flow. In
            # host pace the PS can start a call before the model has finished the previous one; the
            # kernel then starts later than the DMA, and that wait is the previous call's, not ours.
            first, end = max(mm2s.start, cnn.start), max(cnn.end, s2mm.end)
            span = max(0.0, end - first)
            compute = min(kernel.cycles(batch) / self.fabric.clock_hz, span)
            read_back = min(max(0.0, s2mm.end - cnn.end), span - compute)
            self.modelled["compute"] += compute
            self.modelled["read back"] += read_back
            self.modelled["transfer"] += span - compute - read_back
            self.intervals.extend(mine.values())
        # On the board the PS polls until the PL is done, then one more round of status reads.
        per_read = python / max(1, reads)
        last_round = self.scale.ps(per_read * 3) + self.fabric.gp_access_s(reads=3)
        self.estimated["wait"] += span + last_round

    def _my_intervals(self, launched: float) -> dict:
        """The newest interval of each PL resource that ended after this call was launched."""
        found = {}
        for iv in reversed(self.fabric.timeline.intervals(since=launched, resources=PL_RESOURCES)):
            found.setdefault(iv.resource, iv)
            if len(found) == len(PL_RESOURCES):
                break
        return found


class CnnAccelerator:
    """The ``cnn_classifier`` kernel and its DMA, driven with pynq: images in, class scores out.

    Args:
        overlay: the lab's overlay (``labkit.open_board()``), on a board or the simulated board.
        max_batch: images per kernel run (1..256); the DMA buffers hold this many.  Larger batches
            are split into several runs.
        timeout: seconds to wait for one run before :class:`~labkit.errors.LabTimeoutError`.

    Raises:
        AcceleratorError: the overlay has no ``cnn_classifier`` or no ``dma_cnn``.
        ValueError: ``max_batch`` out of range.
    """

    def __init__(self, overlay: pynq.Overlay, max_batch: int = DEFAULT_MAX_BATCH, *,
                 timeout: float = WAIT_TIMEOUT_S) -> None:
        if not isinstance(overlay, pynq.Overlay):
            raise AcceleratorError(f"CnnAccelerator needs the lab's overlay (ol = labkit.open_board()), "
                                   f"got {type(overlay).__name__}")
        missing = [name for name in (IP_NAME, DMA_NAME) if name not in overlay.ip_dict]
        if missing:
            raise AcceleratorError(f"this overlay has no {' and no '.join(missing)}: load the lab's overlay "
                                   "with labkit.open_board()")
        if isinstance(max_batch, bool) or not isinstance(max_batch, (int, np.integer)) \
                or not 1 <= max_batch <= kernel.MAX_BATCH:
            raise ValueError(f"max_batch must be an integer 1..{kernel.MAX_BATCH} (the kernel's limit), "
                             f"got {max_batch!r}")
        self.overlay = overlay
        self.max_batch = int(max_batch)
        self.timeout = float(timeout)
        self.ip = getattr(overlay, IP_NAME)
        self.dma = getattr(overlay, DMA_NAME)
        device = overlay.device
        self.board, self.simulated, _ = board_label(device)
        # Allocated once: contiguous memory is scarce (128 MiB of CMA on a PYNQ-Z1) and slow to get.
        self.inbuf = allocate(self.max_batch * kernel.BEATS_PER_IMAGE, np.uint64, target=device)
        self.outbuf = allocate(self.max_batch * kernel.SCORES_PER_IMAGE, np.uint32, target=device)
        self.last_run: AcceleratorRun | None = None
        self._lock = threading.Lock()
        self._closed = False

    # -- public ----------------------------------------------------------------------------------
    def classify(self, images: np.ndarray) -> np.ndarray:
        """Class scores of a batch of digits, computed in the PL.

        Args:
            images: uint8 [B,28,28] (or one image [28,28]), white digit on black.

        Returns:
            int32 scores [B,10], bit for bit those of :func:`~labkit.classifier.classify_reference`.
            ``last_run`` then says where the time went.

        Raises:
            ImageFormatError: wrong type, shape, dtype or value range (the message says which).
            LabTimeoutError: the PL did not finish within ``timeout``.
            AcceleratorError: the accelerator is closed, or a DMA channel reported an error.
        """
        batch = as_image_batch(images)
        with self._lock:
            if self._closed:
                raise AcceleratorError("this CnnAccelerator is closed (its buffers were freed); make a new one")
            clock = _Clock(self.overlay)
            scores = np.empty((len(batch), N_CLASSES), dtype=np.int32)
            calls = 0
            for first in range(0, len(batch), self.max_batch):
                chunk = batch[first:first + self.max_batch]
                scores[first:first + len(chunk)] = self._run(chunk, clock)
                calls += 1
            self.last_run = AcceleratorRun(
                images=len(batch), calls=calls, max_batch=self.max_batch, measured=clock.measured,
                modelled=clock.modelled, estimated=clock.estimated, board=self.board, machine=this_machine(),
                intervals=clock.intervals)
            autosave(self.last_run)  # classroom record of this run
            return scores

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted digits, uint8 [B] (ties: the smaller digit, like ``reference.predict``)."""
        return self.classify(images).argmax(axis=1).astype(np.uint8)

    def close(self) -> None:
        """Give the DMA buffers back (safe to call twice)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.inbuf.freebuffer()
                self.outbuf.freebuffer()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "CnnAccelerator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"buffers at {self.inbuf.physical_address:#x} (in), " \
                                               f"{self.outbuf.physical_address:#x} (out)"
        return f"<CnnAccelerator max_batch={self.max_batch} on {self.board}, {state}>"

    # -- one kernel run ----------------------------------------------------------------------------
    def _run(self, images: np.ndarray, clock: _Clock) -> np.ndarray:
        n = len(images)
        beats, words = n * kernel.BEATS_PER_IMAGE, n * kernel.SCORES_PER_IMAGE
        # Slices of a PynqBuffer keep their physical address: the DMA moves only these bytes.
        inbuf, outbuf = self.inbuf[:beats], self.outbuf[:words]
        with clock.ps("copy in", copy_bytes=n * PIXEL_BYTES, numpy_calls=COPY_IN_NUMPY_CALLS):
            inbuf[:] = kernel.pack_images(images)
        launched = time.perf_counter()
        with clock.ps("start"):
            regs = self.ip.register_map
            regs.batch = n
            regs.CTRL.AP_START = 1  # the kernel waits for its first beat
            self.dma.recvchannel.transfer(outbuf)  # somewhere for the scores to go, before they come
            self.dma.sendchannel.transfer(inbuf)  # flushes inbuf from the cache, then streams it
        with clock.wait(n, launched):
            self._wait_until_done()
        with clock.ps("read back", copy_bytes=n * SCORE_BYTES):
            self.dma.sendchannel.wait()  # both idle already; wait() does the driver's bookkeeping
            self.dma.recvchannel.wait()  # ... and invalidates outbuf in the CPU's cache
            return kernel.scores_from_words(np.array(outbuf))

    def _wait_until_done(self) -> None:
        """Poll both DMA channels and AP_DONE, with a timeout (pynq's own ``wait()`` has none)."""
        deadline = time.perf_counter() + self.timeout
        send, recv = self.dma.sendchannel, self.dma.recvchannel
        ctrl = self.ip.register_map.CTRL
        pending = {"MM2S": True, "S2MM": True, "AP_DONE": True}
        while True:
            if pending["MM2S"] and send.idle:
                pending["MM2S"] = False
            if pending["S2MM"] and recv.idle:
                pending["S2MM"] = False
            if pending["AP_DONE"] and ctrl.AP_DONE:  # reading CTRL clears AP_DONE: remember it
                pending["AP_DONE"] = False
            if not any(pending.values()):
                return
            for name, channel in (("MM2S", send), ("S2MM", recv)):
                if channel.error:
                    try:
                        channel.wait()  # pynq's wait() turns the status bits into a message
                    except RuntimeError as exc:
                        raise AcceleratorError(f"the {DMA_NAME} {name} channel stopped: {exc}") from exc
                    raise AcceleratorError(f"the {DMA_NAME} {name} channel reported an error")
            if time.perf_counter() > deadline:
                waiting = ", ".join(k for k, v in pending.items() if v)
                raise LabTimeoutError(f"{IP_NAME}: still waiting for {waiting} after {self.timeout} s "
                                      "(is the overlay the lab's, and was the PL reconfigured meanwhile?)")
