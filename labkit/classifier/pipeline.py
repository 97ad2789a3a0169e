"""Camera frame -> OpenCV preprocessing -> classifier (numpy on the PS, or the PL) -> scores, timed.

>>> import labkit
>>> from labkit.classifier import Pipeline
>>> ol = labkit.open_board()
>>> with Pipeline(ol) as pipe:             # the first frame source that works (see labkit.camera)
...     result = pipe.step()               # one frame through every stage
...     print(result)                      # digit, scores, seconds per stage
...     results = pipe.run(frames=50)

Every :class:`FrameResult` holds the frame, the :class:`~labkit.classifier.Preprocessed` steps,
the scores and predicted digit, the true digit when the source knows it, and the **measured**
seconds of each stage on this computer:

==========  ============================================================================
stage       what it is
==========  ============================================================================
capture     ``source.read()``: decoding a file, or waiting for the camera's next frame
preprocess  :func:`~labkit.classifier.preprocess` (OpenCV)
transfer    accelerator: pack the pixels into the DMA buffer and start the kernel and the DMA
compute     accelerator: wait for the PL; software: ``classify_reference`` in numpy on the PS
read back   accelerator: the scores from the output buffer
==========  ============================================================================

With the accelerator on the simulated board, ``modelled`` holds the PL's own time for
transfer, compute and read back (cycles / clock), which is what the PL of a PYNQ-Z1 would take.

With ``batch > 1`` the pipeline reads that many frames, preprocesses each, and classifies all
the digits among them in one kernel run (one DMA transfer each way).  The transfer, compute and
read-back time of that run is shared equally by its frames.  A frame's ``latency`` runs from the
moment it was captured to the moment its scores were known, so the first frame of a batch also
waits for the others to be captured: batching raises throughput but also latency.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from labkit.camera import FrameSource, open_source
from labkit.kernels.cnn_classifier import MAX_BATCH
from labkit.timing import format_seconds

from .accelerator import AcceleratorRun, CnnAccelerator
from .preprocessing import Preprocessed, preprocess
from .reference import QuantizedCNN, classify_reference

__all__ = ["Pipeline", "FrameResult", "STAGES", "PL_STAGES", "ENGINES", "throughput_and_latency", "summarize"]

STAGES = ("capture", "preprocess", "transfer", "compute", "read back")  #: measured, per frame
PL_STAGES = ("transfer", "compute", "read back")  #: modelled for the accelerator on the simulated board
ENGINES = ("software", "accelerator")


@dataclass
class FrameResult:
    """One frame through the pipeline."""

    index: int  #: frame number in this pipeline's run (0, 1, ...)
    frame: np.ndarray = field(repr=False)  #: BGR, as captured
    preprocessed: Preprocessed = field(repr=False)
    scores: np.ndarray | None  #: int32 [10], or None when no digit was found
    label: int | None  #: predicted digit (largest score), or None
    truth: int | None  #: the true digit if the source knows it (the demo clip), else None
    engine: str  #: "software" (numpy on the PS) or "accelerator" (the PL)
    seconds: dict[str, float]  #: measured per stage (see STAGES); batch stages shared equally
    modelled: dict[str, float] | None  #: PL seconds per PL_STAGES (accelerator on the simulated board)
    started_at: float  #: perf_counter when the pipeline began reading this frame
    captured_at: float  #: perf_counter when the frame was read
    done_at: float  #: perf_counter when its scores were known
    batch: int = 1  #: digits classified together in this frame's kernel run (or numpy call)
    run: AcceleratorRun | None = field(default=None, repr=False)  #: the accelerator call's details

    @property
    def latency(self) -> float:
        """Seconds from capture to result (measured)."""
        return self.done_at - self.captured_at

    @property
    def total(self) -> float:
        """Sum of the measured stages of this frame."""
        return sum(self.seconds.values())

    @property
    def correct(self) -> bool | None:
        """Whether the prediction matches the true digit (None if either is unknown).

        A frame of empty paper (truth None) with no digit found is not counted either way.
        """
        if self.truth is None:
            return None
        return self.label == self.truth

    def top(self, k: int = 3) -> list[tuple[int, int]]:
        """The ``k`` best ``(digit, score)`` pairs, best first (ties: the smaller digit)."""
        if self.scores is None:
            return []
        order = np.argsort(-self.scores.astype(np.int64), kind="stable")[:k]
        return [(int(d), int(self.scores[d])) for d in order]

    def __str__(self) -> str:
        if self.label is None:
            what = f"no digit ({self.preprocessed.reason})"
        else:
            what = f"digit {self.label}" + (f" (true: {self.truth})" if self.truth is not None else "")
            what += ", top 3: " + ", ".join(f"{d}:{s}" for d, s in self.top(3))
        stages = ", ".join(f"{k} {format_seconds(v)}" for k, v in self.seconds.items())
        text = f"frame {self.index} [{self.engine}]: {what}\n  measured: {stages}"
        if self.modelled:
            text += "\n  modelled PL: " + ", ".join(f"{k} {format_seconds(v)}" for k, v in self.modelled.items())
        return text


class Pipeline:
    """Frames from a source, through preprocessing, to class scores from numpy or the PL.

    Args:
        overlay: the lab's overlay; needed for the accelerator (None: software only).
        source: a :class:`~labkit.camera.FrameSource`; default :func:`~labkit.camera.open_source`
            (the pipeline then closes it on :meth:`close`).
        use_accelerator: classify in the PL (True) or with numpy on the PS (False); can be
            changed at any time, it applies from the next batch.
        batch: frames read and classified together (1..256).
        accelerator: an existing :class:`CnnAccelerator` to use (default: made when first
            needed, and closed on :meth:`close`).
        weights: the software model's weights (default: the committed ones, as in the PL).
        preprocess_options: keyword arguments for :func:`~labkit.classifier.preprocess`.
    """

    def __init__(self, overlay: Any = None, source: FrameSource | None = None, *, use_accelerator: bool = True,
                 batch: int = 1, accelerator: CnnAccelerator | None = None, weights: QuantizedCNN | None = None,
                 preprocess_options: dict[str, Any] | None = None) -> None:
        if use_accelerator and overlay is None and accelerator is None:
            raise ValueError("the accelerator needs the overlay: Pipeline(labkit.open_board(), ...), "
                             "or use_accelerator=False for numpy only")
        self.overlay = overlay if overlay is not None else getattr(accelerator, "overlay", None)
        self._owns_source = source is None
        self.source = source if source is not None else open_source(quiet=True)
        self.use_accelerator = use_accelerator
        self.batch = batch
        self.weights = weights
        self.preprocess_options = dict(preprocess_options or {})
        self._accelerator = accelerator
        self._owns_accelerator = accelerator is None
        self._queue: deque[FrameResult] = deque()
        self._count = 0
        self._ended = False
        self._closed = False

    # -- settings ------------------------------------------------------------------------------
    @property
    def batch(self) -> int:
        return self._batch

    @batch.setter
    def batch(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_BATCH:
            raise ValueError(f"batch must be an integer 1..{MAX_BATCH}, got {value!r}")
        self._batch = int(value)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def engine(self) -> str:
        return "accelerator" if self.use_accelerator else "software"

    @property
    def accelerator(self) -> CnnAccelerator:
        """The :class:`CnnAccelerator` (made on first use, with buffers for at least ``batch`` images)."""
        acc = self._accelerator
        if acc is None or (self._owns_accelerator and acc.max_batch < self._batch):
            if self.overlay is None:
                raise ValueError("the accelerator needs the overlay: Pipeline(labkit.open_board(), ...)")
            if acc is not None:
                acc.close()
            acc = self._accelerator = CnnAccelerator(self.overlay, max_batch=max(self._batch, 8))
        return acc

    # -- running -------------------------------------------------------------------------------
    def step(self) -> FrameResult | None:
        """The next frame's result, or None when the source has no more frames."""
        if self._closed:
            raise RuntimeError("this Pipeline is closed")
        if not self._queue and not self._ended:
            self._queue.extend(self._next_batch())
        return self._queue.popleft() if self._queue else None

    def run(self, frames: int | None = None, seconds: float | None = None) -> list[FrameResult]:
        """Results of up to ``frames`` frames, or for about ``seconds`` (at least one of them)."""
        if frames is None and seconds is None:
            raise ValueError("say how long: run(frames=...) or run(seconds=...)")
        results: list[FrameResult] = []
        deadline = time.perf_counter() + seconds if seconds is not None else None
        while frames is None or len(results) < frames:
            if deadline is not None and time.perf_counter() >= deadline:
                break
            result = self.step()
            if result is None:
                break
            results.append(result)
        return results

    def __iter__(self) -> Iterator[FrameResult]:
        while (result := self.step()) is not None:
            yield result

    def _next_batch(self) -> list[FrameResult]:
        wanted = self._batch
        engine = self.engine
        captured: list[tuple[float, float, float, np.ndarray, int | None]] = []
        for _ in range(wanted):
            started = time.perf_counter()
            frame = self.source.read()
            got = time.perf_counter()
            if frame is None:
                self._ended = True
                break
            captured.append((started, got, got - started, frame, self.source.truth()))
        prepared: list[tuple[Preprocessed, float]] = []
        for _, _, _, frame, _ in captured:
            t0 = time.perf_counter()
            pre = preprocess(frame, **self.preprocess_options)
            prepared.append((pre, time.perf_counter() - t0))

        inputs = [pre.input for pre, _ in prepared if pre.found]
        scores = np.empty((0, 10), dtype=np.int32)
        shared = dict.fromkeys(PL_STAGES, 0.0)
        modelled: dict[str, float] | None = None
        run: AcceleratorRun | None = None
        if inputs:
            stack = np.stack(inputs)
            if engine == "accelerator":
                acc = self.accelerator
                scores = acc.classify(stack)
                run = acc.last_run
                m = run.measured
                shared = {"transfer": m["copy in"] + m["start"], "compute": m["wait"], "read back": m["read back"]}
                if run.modelled is not None:
                    modelled = {k: v / len(inputs) for k, v in run.modelled.items()}
            else:
                t0 = time.perf_counter()
                scores = classify_reference(stack, self.weights)
                shared["compute"] = time.perf_counter() - t0
        done = time.perf_counter()

        results = []
        found = 0
        for (started, got, capture_s, frame, truth), (pre, prep_s) in zip(captured, prepared):
            seconds = {"capture": capture_s, "preprocess": prep_s}
            if pre.found:
                frame_scores = scores[found].copy()
                found += 1
                seconds.update({k: v / len(inputs) for k, v in shared.items()})
                label: int | None = int(frame_scores.argmax())
            else:
                frame_scores, label = None, None
                seconds.update(dict.fromkeys(PL_STAGES, 0.0))
            results.append(FrameResult(
                index=self._count, frame=frame, preprocessed=pre, scores=frame_scores, label=label, truth=truth,
                engine=engine, seconds=seconds, modelled=modelled if pre.found else None, started_at=started,
                captured_at=got, done_at=done, batch=len(inputs), run=run if pre.found else None))
            self._count += 1
        return results

    # -- the end ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close what the pipeline opened itself (the default source, its accelerator)."""
        if self._closed:
            return
        self._closed = True
        if self._owns_accelerator and self._accelerator is not None:
            self._accelerator.close()
        if self._owns_source:
            self.source.close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<Pipeline {self.engine}, batch {self._batch}, source: {self.source.describe()}"
                f"{', closed' if self._closed else ''}>")


# -- what a run adds up to ------------------------------------------------------------------------

def throughput_and_latency(results: Sequence[FrameResult]) -> tuple[float, float]:
    """(frames per second, mean latency in seconds) of consecutive results, measured.

    Throughput counts every frame from the moment the pipeline began reading the first one to
    the moment the last one's scores were known; latency is each frame's capture -> result.
    """
    if not results:
        raise ValueError("no results to summarize")
    elapsed = results[-1].done_at - results[0].started_at
    fps = len(results) / elapsed if elapsed > 0 else float("inf")
    return fps, float(np.mean([r.done_at - r.captured_at for r in results]))


def summarize(results: Sequence[FrameResult]) -> dict[str, Any]:
    """A run in a few numbers: frames, frames/s, latency, mean seconds per stage, accuracy."""
    fps, latency = throughput_and_latency(results)
    judged = [r.correct for r in results if r.correct is not None]
    modelled = [r.modelled for r in results if r.modelled]
    return {
        "frames": len(results),
        "fps": fps,
        "latency_s": latency,
        "max_latency_s": max(r.latency for r in results),
        "stages_s": {k: float(np.mean([r.seconds[k] for r in results])) for k in STAGES},
        "modelled_pl_s": ({k: float(np.mean([m[k] for m in modelled])) for k in PL_STAGES} if modelled else None),
        "digits_found": sum(r.label is not None for r in results),
        "accuracy": (sum(judged) / len(judged)) if judged else None,
        "engine": results[-1].engine,
    }
