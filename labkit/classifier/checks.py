"""Check functions for the exercises of notebook 06 (camera classifier).

Like :mod:`labkit.checks`, each returns True when the answer is right and prints what is right,
or what is wrong and why.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from ..checks import AnswerError, _number, _verdict, close, hinted
from ..timing import format_seconds
from .pipeline import FrameResult, throughput_and_latency
from .preprocessing import Preprocessed

__all__ = ["check_throughput_latency", "check_batch_wait"]


def _close(a: float, b: float, rel: float = 1e-6) -> bool:
    return close(a, b, rel, abs_tol=1e-12)


def _synthetic_run(batch: int, frames: int, camera_period: float, work: float) -> list[FrameResult]:
    """Results of a pipeline that reads ``batch`` frames from a camera, then classifies them at once.

    Reading a frame waits ``camera_period`` for the camera; the batch then takes ``work`` seconds.
    """
    results: list[FrameResult] = []
    nothing = Preprocessed(None, {}, None, "synthetic frame")
    t = 100.0
    for first in range(0, frames, batch):
        times = []
        for _ in range(min(batch, frames - first)):
            started = t
            t += camera_period
            times.append((started, t))
        t += work
        for started, captured in times:
            results.append(FrameResult(
                index=len(results), frame=np.zeros((1, 1, 3), np.uint8), preprocessed=nothing, scores=None,
                label=None, truth=None, engine="accelerator",
                seconds={"capture": camera_period, "preprocess": 0.0, "transfer": 0.0,
                         "compute": work / len(times), "read back": 0.0},
                modelled=None, started_at=started, captured_at=captured, done_at=t, batch=len(times)))
    return results


def _diagnose(results: Sequence[FrameResult], fps: float, latency: float) -> list[str]:
    right_fps, right_latency = throughput_and_latency(results)
    n = len(results)
    problems = []
    if not _close(fps, right_fps):
        if _close(latency, right_fps) and _close(fps, right_latency):
            return ["you returned (latency, frames per second): the order is (frames per second, latency)"]
        candidates = {
            "you started the clock when the first result was ready; start it when the pipeline began "
            "reading the first frame (results[0].started_at)": n / (results[-1].done_at - results[0].done_at)
            if results[-1].done_at > results[0].done_at else float("nan"),
            "you started the clock when the first frame was captured; the time spent reading it counts "
            "too (results[0].started_at)": n / (results[-1].done_at - results[0].captured_at),
            "count every frame: len(results) frames in the elapsed time, not len(results) - 1":
                (n - 1) / (results[-1].done_at - results[0].started_at),
            "throughput is not 1 / latency: in a batch, frames wait for each other, so a frame's latency "
            "is longer than the time between results": 1 / right_latency,
        }
        for why, value in candidates.items():
            if _close(fps, value):
                problems.append(why)
                break
        else:
            problems.append(f"frames per second should be {right_fps:.3f} for this run, you returned {fps:.3f}: "
                            "frames / (results[-1].done_at - results[0].started_at)")
    if not _close(latency, right_latency):
        if _close(latency, right_latency * 1e3):
            problems.append("latency is in milliseconds; return seconds")
        elif _close(latency, float(np.mean([r.done_at - r.started_at for r in results]))):
            problems.append("latency starts when the frame was captured (captured_at), the moment the picture "
                            "was taken, not when the read began")
        elif _close(latency, float(np.mean([r.total for r in results]))):
            problems.append("the stage seconds of a frame are its share of the batch's work; its latency also "
                            "includes waiting for the rest of the batch: done_at - captured_at")
        elif _close(latency, float(np.median([r.done_at - r.captured_at for r in results]))):
            problems.append("that is the median latency; the exercise asks for the mean")
        else:
            problems.append(f"the mean latency of this run is {right_latency * 1e3:.1f} ms, you returned "
                            f"{latency * 1e3:.1f} ms: mean of done_at - captured_at")
    return problems


@hinted("a function fn(results) returning (frames per second, mean latency in seconds)")
def check_throughput_latency(fn: Callable[[Sequence[FrameResult]], tuple[float, float]]) -> bool:
    """Exercise of notebook 06: ``fn(results) -> (frames per second, mean latency in seconds)``.

    ``fn`` is tried on two made-up runs of a 10 frames/s camera, one frame per kernel run and four
    frames per kernel run, where the right answers are known.
    """
    if not callable(fn):
        raise AnswerError(f"pass your function itself (its name, without calling it), got {type(fn).__name__}")
    runs = {1: _synthetic_run(1, 12, 0.1, 0.02), 4: _synthetic_run(4, 12, 0.1, 0.03)}
    for batch, results in runs.items():
        try:
            answer = fn(results)
        except Exception as exc:  # the student's code: say what happened, do not crash the notebook
            return _verdict(False, f"your function raised {type(exc).__name__}: {exc}")
        try:
            fps, latency = (float(v) for v in answer)
        except (TypeError, ValueError):
            return _verdict(False, f"return two numbers, (frames per second, latency in seconds); got {answer!r}")
        if not (math.isfinite(fps) and math.isfinite(latency)):
            return _verdict(False, f"your function returned ({fps}, {latency}): a NaN or an infinity. Check what "
                                   "you divided by (an empty list, or two equal times).")
        problems = _diagnose(results, fps, latency)
        if problems:
            return _verdict(False, f"with batch {batch}: " + "; ".join(problems) + ".")
    fps1, lat1 = throughput_and_latency(runs[1])
    fps4, lat4 = throughput_and_latency(runs[4])
    return _verdict(True, f"on a 10 frames/s camera, batch 1 gives {fps1:.2f} frames/s with {lat1 * 1e3:.0f} ms "
                          f"latency, batch 4 gives {fps4:.2f} frames/s with {lat4 * 1e3:.0f} ms: batching saved "
                          "a little work per frame, and every frame but the last of a batch waited for the others.")


HUMAN_REL = 0.02  #: a typed answer within 2% counts (students round)


@hinted("a time in seconds (a float), e.g. 0.1")
def check_batch_wait(batch: int, camera_fps: float, answer: float) -> bool:
    """Exercise of notebook 06: how long the *first* frame of a batch waits for the batch to fill (seconds).

    The first frame is captured, then ``batch - 1`` more frames must arrive, one every
    ``1 / camera_fps`` seconds, before the kernel run can start.  Within 2 % counts as right.
    """
    batch_n, fps = _number(batch, "batch"), _number(camera_fps, "camera_fps")
    if batch_n < 1 or fps <= 0:
        raise AnswerError(f"batch must be at least 1 and camera_fps positive, got batch={batch!r}, "
                          f"camera_fps={camera_fps!r}")
    answer = _number(answer, "your answer")
    right = (batch_n - 1) / fps
    if _close(answer, right, HUMAN_REL):
        return _verdict(True, f"{batch_n - 1:g} more frames at {fps:g} frames/s take {format_seconds(right)}: "
                              f"that much latency is added before the PL even starts.")
    mistakes = {
        right: "",
        batch_n / fps: f"the first frame is already there when the wait starts: it waits for the other "
                       f"{batch_n - 1:g} frames, not for {batch_n:g}",
        1 / fps: "that is one frame period; the first frame waits for every other frame of the batch",
        (batch_n - 1) * fps: f"frames/s x frames is not a time: a frame arrives every 1/{fps:g} s, divide",
    }
    for factor, unit in ((1.0, ""), (1e3, "milliseconds"), (1e6, "microseconds")):
        for value, why in mistakes.items():
            if _close(answer, value * factor, HUMAN_REL) and (why or unit):
                in_unit = f"that is in {unit}: answer in seconds (divide by {factor:g})" if unit else ""
                return _verdict(False, "; and ".join(part for part in (why, in_unit) if part) + ".")
    return _verdict(False, f"{format_seconds(answer)} is not it: the frames arrive one every 1/{fps:g} s "
                           f"({format_seconds(1 / fps)}), and the first frame waits until the last of the "
                           f"{batch_n:g} has arrived.")
