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

import numpy as np
import pynq
from pynq import allocate

from labkit.board import board_label
from labkit.classroom.records import autosave
from labkit.errors import LabkitError
from labkit.kernels import cnn_classifier as kernel
from labkit.recovery import recover
from labkit.results import AcceleratorRun
from labkit.run import DEFAULT_TIMEOUT_S, Run, check_timeout, wait_until
from labkit.status import CTRL_OFFSET, ap_ctrl, dma_status
from labkit.timing import this_machine

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
WAIT_TIMEOUT_S = DEFAULT_TIMEOUT_S  #: one default for every wait in labkit (labkit.run)
PIXEL_BYTES = kernel.BEATS_PER_IMAGE * kernel.PIXELS_PER_BEAT
SCORE_BYTES = kernel.SCORES_PER_IMAGE * np.dtype(np.int32).itemsize
#: numpy calls of the copy-in stage (check, view, convert, assign): what its board estimate scales
COPY_IN_NUMPY_CALLS = 4


class AcceleratorError(LabkitError, RuntimeError):
    """The overlay has no classifier, the accelerator is closed, or the DMA reported an error."""


def _modelled_split(waits: list, batches: list[int], clock_hz: float) -> dict[str, float]:
    """The PL's critical path of each call: transfer (pixels streaming before the kernel has its last
    image), compute (the kernel's cycles) and read back (the last scores reaching DDR)."""
    split = dict.fromkeys(MODELLED_STAGES, 0.0)
    for wait, batch in zip(waits, batches):
        mine: dict = {}
        for iv in wait.work:  # the newest interval of each resource is this call's
            mine[iv.resource] = iv
        if len(mine) != len(PL_RESOURCES):
            continue
        mm2s, cnn, s2mm = (mine[r] for r in PL_RESOURCES)
        span = max(0.0, max(cnn.end, s2mm.end) - max(mm2s.start, cnn.start))
        compute = min(kernel.cycles(batch) / clock_hz, span)
        read_back = min(max(0.0, s2mm.end - cnn.end), span - compute)
        split["compute"] += compute
        split["read back"] += read_back
        split["transfer"] += span - compute - read_back
    return split


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
        self.timeout = check_timeout(timeout)
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
            scores = np.empty((len(batch), N_CLASSES), dtype=np.int32)
            batches: list[int] = []
            with Run(self.overlay, timeout=self.timeout) as run:
                try:
                    for first in range(0, len(batch), self.max_batch):
                        chunk = batch[first:first + self.max_batch]
                        scores[first:first + len(chunk)] = self._run(chunk, run)
                        batches.append(len(chunk))
                except BaseException:
                    recover(self.overlay, self.timeout)  # a hung call must not poison the next
                    raise
            timing = run.finish()
            measured = {p.name: p.measured for p in timing.phases}
            self.last_run = AcceleratorRun(
                images=len(batch), calls=len(batches), max_batch=self.max_batch, measured=measured,
                modelled=_modelled_split(timing.waits, batches, run.probe.clock_hz) if timing.simulated else None,
                estimated={p.name: p.estimated for p in timing.phases} if timing.simulated else None,
                board=self.board, machine=this_machine(),
                intervals=[iv for wait in timing.waits for iv in wait.work])
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
    def _run(self, images: np.ndarray, run: Run) -> np.ndarray:
        n = len(images)
        beats, words = n * kernel.BEATS_PER_IMAGE, n * kernel.SCORES_PER_IMAGE
        # Slices of a PynqBuffer keep their physical address: the DMA moves only these bytes.
        inbuf, outbuf = self.inbuf[:beats], self.outbuf[:words]
        with run.ps("copy in", copy_bytes=n * PIXEL_BYTES, numpy_calls=COPY_IN_NUMPY_CALLS):
            inbuf[:] = kernel.pack_images(images)
        with run.start("start"):
            regs = self.ip.register_map
            regs.batch = n
            regs.CTRL.AP_START = 1  # the kernel waits for its first beat
            self.dma.recvchannel.transfer(outbuf)  # somewhere for the scores to go, before they come
            self.dma.sendchannel.transfer(inbuf)  # flushes inbuf from the cache, then streams it
        # On the board the PS polls until the PL is done, then makes one more round of status reads.
        with run.wait("wait", PL_RESOURCES, span_from="all_started", final_polls=3):
            self._wait_until_done()
        with run.ps("read back", copy_bytes=n * SCORE_BYTES):
            self.dma.sendchannel.wait()  # both idle already; wait() does the driver's bookkeeping
            self.dma.recvchannel.wait()  # ... and invalidates outbuf in the CPU's cache
            return kernel.scores_from_words(np.array(outbuf))

    def _wait_until_done(self) -> None:
        """Poll both DMA channels and AP_DONE, with a timeout (pynq's own ``wait()`` has none)."""
        send, recv = self.dma.sendchannel, self.dma.recvchannel
        ctrl = self.ip.register_map.CTRL
        pending = {"MM2S": True, "S2MM": True, "AP_DONE": True}

        def done() -> bool:
            if pending["MM2S"] and send.idle:
                pending["MM2S"] = False
            if pending["S2MM"] and recv.idle:
                pending["S2MM"] = False
            if pending["AP_DONE"] and ctrl.AP_DONE:  # reading CTRL clears AP_DONE: remember it
                pending["AP_DONE"] = False
            for name, channel in (("MM2S", send), ("S2MM", recv)):
                if channel.error:
                    try:
                        channel.wait()  # pynq's wait() turns the status bits into a message
                    except RuntimeError as exc:
                        raise AcceleratorError(f"the {DMA_NAME} {name} channel stopped: {exc}") from exc
                    raise AcceleratorError(f"the {DMA_NAME} {name} channel reported an error")
            return not any(pending.values())

        def describe() -> str:
            waiting = ", ".join(k for k, v in pending.items() if v)
            return (f"{IP_NAME}: still waiting for {waiting} after {self.timeout:g} s. "
                    f"{dma_status(self.dma, 'send', DMA_NAME)}. {dma_status(self.dma, 'recv', DMA_NAME)}. "
                    f"{IP_NAME} ap_ctrl = {ap_ctrl(int(self.ip.read(CTRL_OFFSET)))}. The accelerator reloads the "
                    "overlay after a failure; by hand: ol.download()")

        wait_until(done, self.timeout, describe)
