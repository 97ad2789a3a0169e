"""A live view of the camera classifier: frame, preprocessed input, top-3 scores, where the time goes.

>>> import labkit
>>> from labkit.widgets.classifier import ClassifierView
>>> view = ClassifierView(labkit.open_board())     # the first frame source that works
>>> view                                           # shows it; press Start (or view.start())
>>> view.stop()                                    # or view.run_for(2.0) in a script

The work runs in a background thread (:class:`~labkit.classifier.Pipeline`, one frame at a time),
so the notebook stays usable.  The widgets are built once; the thread changes their values at
most ``update_hz`` times a second, each widget's changes inside one ``hold_sync()`` (one message).
Every time shown says what kind it is: **measured** on this computer, or **modelled** PL time of
the simulated board.
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from typing import Any

import cv2
import ipywidgets as widgets
import numpy as np
from bqplot import Axis, Bars, Figure, LinearScale, OrdinalScale

from labkit.board import board_label
from labkit.results import profile_of
from labkit.camera import FrameSource
from labkit.classifier.pipeline import PL_STAGES, STAGES, FrameResult, Pipeline
from labkit.classifier.preprocessing import annotate
from labkit.timing import format_seconds, this_machine

from ._common import f32, hold

__all__ = ["ClassifierView", "STAGE_COLORS"]

#: One colour per pipeline stage (capture, preprocess, transfer, compute, read back).
STAGE_COLORS = ["#8c8c8c", "#4c78a8", "#f58518", "#54a24b", "#b279a2"]
ENGINE_OPTIONS = [("software (PS)", "software"), ("accelerator (PL)", "accelerator")]
INPUT_ZOOM = 4  #: the 28x28 input is shown 4x larger, pixels kept square
JPEG_QUALITY = 80
STOP_TIMEOUT_S = 5.0
DEFAULT_FPS = 30.0  #: frame rate cap for a source that does not say its own (a typical camera)


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes() if ok else b""


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    return data.tobytes() if ok else b""


def _placeholder(height: int, width: int, text: str) -> np.ndarray:
    """A grey picture saying what will appear there (an empty Image widget shows a broken-image icon)."""
    picture = np.full((height, width, 3), 235, np.uint8)
    scale = width / 400
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.putText(picture, text, ((width - w) // 2, (height + h) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (90, 90, 90), 1, cv2.LINE_AA)
    return picture


class ClassifierView(widgets.VBox):
    """The live classifier: camera frame with the digit's box, model input, top-3 scores, timing.

    Args:
        overlay: the lab's overlay (``labkit.open_board()``); None for the software path only.
        source: a frame source; default :func:`labkit.camera.open_source` (a camera if there is
            one, else the demo clip), closed with the view.
        use_accelerator: start with the PL (True) or numpy on the PS (False); the toggle changes it.
        batch: frames per kernel run (see :class:`~labkit.classifier.Pipeline`).
        update_hz: how often the widgets are refreshed at most.
        max_fps: frames per second at most: the loop sleeps between frames (outside the timed
            stages) so that it does not take the whole CPU and a video plays at a speed a person
            can follow. ``"source"`` (default): the source's frame rate, or 30 if it has none;
            None: as fast as the source delivers.
        window: how many recent frames the averages (time per stage, speedup) cover.
        pipeline: an existing :class:`~labkit.classifier.Pipeline` instead of the above.
    """

    def __init__(self, overlay: Any = None, source: FrameSource | None = None, *, use_accelerator: bool = True,
                 batch: int = 1, update_hz: float = 8.0, max_fps: float | str | None = "source", window: int = 30,
                 pipeline: Pipeline | None = None, **kwargs: Any) -> None:
        if update_hz <= 0:
            raise ValueError(f"update_hz must be > 0, got {update_hz}")
        if pipeline is None:
            use_accelerator = use_accelerator and overlay is not None
            # With no source the pipeline opens (and later closes) the default one.
            pipeline = Pipeline(overlay, source, use_accelerator=use_accelerator, batch=batch)
            self._owns_pipeline = True
        else:
            self._owns_pipeline = False
        self.pipeline = pipeline
        self.update_hz = float(update_hz)
        if max_fps == "source":
            max_fps = pipeline.source.fps or DEFAULT_FPS
        elif max_fps is not None and (isinstance(max_fps, str) or max_fps <= 0):
            raise ValueError(f'max_fps must be a number > 0, "source" or None, got {max_fps!r}')
        self.max_fps = max_fps
        self.window = int(window)
        label, self.simulated, _ = board_label(getattr(pipeline.overlay, "device", None))
        self.board = profile_of(label)

        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._recent: deque[FrameResult] = deque(maxlen=self.window)
        self._classify_s = {"software": deque(maxlen=self.window), "accelerator": deque(maxlen=self.window)}
        self.frames = 0  #: frames processed since the view was made
        self.last: FrameResult | None = None  #: the newest result
        self.error: BaseException | None = None  #: what stopped the loop, if it failed

        children = self._build(pipeline.use_accelerator)
        super().__init__(children=children, **kwargs)

    # -- building (once) ----------------------------------------------------------------------------
    def _build(self, use_accelerator: bool) -> list[widgets.Widget]:
        where = (f"simulated {self.board} on {html.escape(this_machine())}" if self.simulated
                 else html.escape(self.board))
        self.header = widgets.HTML(
            f"<b>Camera &rarr; OpenCV (PS) &rarr; classifier</b> &nbsp; source: "
            f"{html.escape(self.pipeline.source.describe())}; board: {where}")
        self.frame_image = widgets.Image(value=_jpeg(_placeholder(240, 320, "press Start")), format="jpeg", width=320)
        self.input_image = widgets.Image(value=_png(_placeholder(28 * INPUT_ZOOM, 28 * INPUT_ZOOM, "28x28")),
                                         format="png", width=28 * INPUT_ZOOM, height=28 * INPUT_ZOOM)
        self.answer = widgets.HTML("<i>not started</i>")

        xs, ys = OrdinalScale(), LinearScale()
        self.score_bars = Bars(x=["-", "-", "-"], y=f32(np.zeros(3)), scales={"x": xs, "y": ys},
                               colors=["#54a24b", "#9ecae9", "#9ecae9"], padding=0.3)
        self.score_fig = Figure(marks=[self.score_bars], title="top 3 scores",
                                axes=[Axis(scale=xs, label="digit"),
                                      Axis(scale=ys, orientation="vertical", label="score (int32)",
                                           tick_format=".2s")],
                                fig_margin={"top": 40, "bottom": 40, "left": 60, "right": 10},
                                layout=widgets.Layout(width="260px", height="240px"))

        # On the simulated board a second bar shows the PL's modelled time; a real board has no model.
        self.time_labels = ["measured (this computer)", "modelled PL"] if self.simulated else ["measured"]
        tx, ty = OrdinalScale(), LinearScale(min=0.0)
        self.time_bars = Bars(x=self.time_labels, y=f32(np.zeros((len(STAGES), len(self.time_labels)))),
                              scales={"x": tx, "y": ty}, type="stacked", colors=STAGE_COLORS,
                              labels=list(STAGES), padding=0.4)
        self.time_fig = Figure(marks=[self.time_bars], title="time per frame (ms)",
                               axes=[Axis(scale=tx), Axis(scale=ty, orientation="vertical", label="ms",
                                                          tick_format=".2f")],
                               fig_margin={"top": 40, "bottom": 40, "left": 60, "right": 10},
                               layout=widgets.Layout(width="330px", height="280px"))
        # The legend, with the numbers: a bqplot legend would sit on the bars, and the PL's bar is short.
        self.time_table = widgets.HTML(self._time_table(np.zeros(len(STAGES)), None))

        self.engine = widgets.ToggleButtons(options=ENGINE_OPTIONS,
                                            value="accelerator" if use_accelerator else "software",
                                            description="classify on", style={"button_width": "150px"})
        if self.pipeline.overlay is None:
            self.engine.disabled = True
        self.engine.observe(self._on_engine, names="value")
        self.start_button = widgets.Button(description="Start", button_style="success", icon="play")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.status = widgets.HTML("")
        self.speed = widgets.HTML("")

        #: the widgets the loop updates (what the message-count tests watch)
        self.live_widgets = [self.frame_image, self.input_image, self.answer, self.score_bars, self.time_bars,
                             self.time_table, self.status, self.speed]
        top = widgets.HBox([self.frame_image,
                            widgets.VBox([widgets.HTML("model input (28x28)"), self.input_image, self.answer]),
                            self.score_fig])
        controls = widgets.VBox([self.engine, widgets.HBox([self.start_button, self.stop_button]),
                                 self.status, self.speed])
        return [self.header, top, widgets.HBox([self.time_fig, self.time_table, controls])]

    def _time_table(self, measured_ms: np.ndarray, modelled_ms: np.ndarray | None) -> str:
        """Legend of the stacked bars: one row per stage, its colour, and its milliseconds."""
        head = "<th></th><th>stage</th><th>measured</th>" + ("<th>modelled PL</th>" if self.simulated else "")
        rows = []
        for k, (stage, color) in enumerate(zip(STAGES, STAGE_COLORS)):
            cells = (f"<td style='color:{color};font-size:large'>&#9632;</td><td>{stage}</td>"
                     f"<td align='right'>{measured_ms[k]:.3f}</td>")
            if self.simulated:
                pl = "-" if modelled_ms is None or stage not in PL_STAGES else f"{modelled_ms[k]:.3f}"
                cells += f"<td align='right'>{pl}</td>"
            rows.append(f"<tr>{cells}</tr>")
        return (f"<table style='font-size:small;margin-top:40px'><tr>{head}</tr>{''.join(rows)}"
                f"<tr><td></td><td colspan='3'><i>ms per frame, mean of recent frames</i></td></tr></table>")

    # -- control ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the loop in a background thread (does nothing if it is running)."""
        if self.running:
            return
        if self.pipeline.closed:
            self.status.value = ("<b>this view has released its camera and accelerator</b>: run the cell that "
                                 "makes the ClassifierView again for a new one")
            self._buttons(running=False)
            self.start_button.disabled = True
            return
        self._stop.clear()
        self.error = None
        self._thread = threading.Thread(target=self._loop, name="ClassifierView", daemon=True)
        self._buttons(running=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the loop and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"the classifier loop did not stop within {timeout} s "
                                   "(a camera read or a PL wait is stuck)")
        self._thread = None
        self._buttons(running=False)

    def _buttons(self, running: bool) -> None:
        with hold(self.start_button, self.stop_button):
            self.start_button.disabled, self.stop_button.disabled = running, not running

    def run_for(self, seconds: float) -> None:
        """Start, let it run for ``seconds`` (this call blocks), stop: for scripts and headless runs."""
        self.start()
        deadline = time.perf_counter() + seconds
        while self.running and time.perf_counter() < deadline:
            time.sleep(0.02)
        self.stop()

    def release(self) -> None:
        """Stop the loop and close the pipeline if the view made it (camera, accelerator), keeping the view.

        What the student saw last stays on screen (frame, scores, times); only Start is disabled.
        Use this at the end of a notebook; :meth:`close` also removes the widgets from the page.
        """
        try:
            self.stop()
        finally:
            if self._owns_pipeline:
                self.pipeline.close()
            self.start_button.disabled = True
            self.stop_button.disabled = True
            self.status.value += " &nbsp; <i>(stopped; camera and accelerator released)</i>"

    def close(self) -> None:
        """Stop the loop, close the pipeline (if the view made it) and every widget (they leave the page)."""
        try:
            self.stop()
        finally:
            if self._owns_pipeline:
                self.pipeline.close()
            for child in self._all_widgets():
                child.close()
            super().close()

    def _all_widgets(self) -> list[widgets.Widget]:
        found, todo = [], list(self.children)
        while todo:
            w = todo.pop()
            found.append(w)
            for attr in ("children", "marks", "axes"):
                todo.extend(getattr(w, attr, ()) or ())
            for attr in ("scales",):
                value = getattr(w, attr, None)
                if isinstance(value, dict):
                    todo.extend(value.values())
            for attr in ("scale", "scale_x", "scale_y", "layout"):
                value = getattr(w, attr, None)
                if isinstance(value, widgets.Widget):
                    todo.append(value)
        unique = {id(w): w for w in found}
        return list(unique.values())

    def _on_engine(self, change: dict) -> None:
        self.pipeline.use_accelerator = change["new"] == "accelerator"

    # -- the loop (background thread) ---------------------------------------------------------------
    def _loop(self) -> None:
        next_update = 0.0
        min_period = 1.0 / self.max_fps if self.max_fps else 0.0
        ended = False
        try:
            while not self._stop.is_set():
                began = time.perf_counter()
                result = self.pipeline.step()
                if result is None:
                    ended = True
                    break
                self._record(result)
                now = time.perf_counter()
                if now >= next_update:
                    self._show(result)
                    next_update = now + 1.0 / self.update_hz
                rest = min_period - (time.perf_counter() - began)
                if rest > 0:
                    self._stop.wait(rest)
        except Exception as exc:  # shown in the view; the thread must not die silently
            self.error = exc
            self.status.value = f"<span style='color:#b00'>stopped by an error: {html.escape(repr(exc))}</span>"
            return
        finally:
            self._buttons(running=False)
        if self.last is not None:
            self._show(self.last)
        if ended:
            self.status.value = self.status.value + "<br/><i>the source has no more frames</i>"

    def _record(self, result: FrameResult) -> None:
        with self._lock:
            self.frames += 1
            self.last = result
            self._recent.append(result)
            if result.label is not None:
                s = result.seconds
                self._classify_s[result.engine].append(s["transfer"] + s["compute"] + s["read back"])

    @property
    def fps(self) -> float | None:
        """Frames per second over the recent window (measured), None before two frames."""
        with self._lock:
            times = [r.done_at for r in self._recent]
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])

    def _show(self, result: FrameResult) -> None:
        """Push the newest result to the widgets: one hold_sync (one message) per widget."""
        pre = result.preprocessed
        if result.label is not None:
            text = f"{result.label}"
        else:
            text = None
        self.frame_image.value = _jpeg(annotate(result.frame, pre, text))
        if pre.found:
            self.input_image.value = _png(cv2.resize(pre.input, (28 * INPUT_ZOOM, 28 * INPUT_ZOOM),
                                                     interpolation=cv2.INTER_NEAREST))
        truth = f" (true: {result.truth})" if result.truth is not None else ""
        self.answer.value = (f"<b style='font-size:x-large'>{result.label}</b>{truth}" if result.label is not None
                             else f"<i>no digit</i>{truth}<br/><small>{html.escape(pre.reason)}</small>")
        top = result.top(3)
        if top:
            with self.score_bars.hold_sync():
                self.score_bars.x = [str(d) for d, _ in top]
                self.score_bars.y = f32([s for _, s in top])

        with self._lock:
            recent = list(self._recent)
            sw = list(self._classify_s["software"])
            hw = list(self._classify_s["accelerator"])
        measured = f32([[np.mean([r.seconds[k] for r in recent]) * 1e3] for k in STAGES])
        pl = [r.modelled for r in recent if r.modelled]
        modelled = f32([[np.mean([m[k] for m in pl]) * 1e3 if (pl and k in PL_STAGES) else 0.0] for k in STAGES])
        with self.time_bars.hold_sync():
            self.time_bars.y = np.hstack([measured, modelled]) if self.simulated else measured
        self.time_table.value = self._time_table(measured[:, 0], modelled[:, 0] if pl else None)

        fps = self.fps
        rate = f"{fps:.1f} frames/s" if fps else "-"
        per_frame = float(measured.sum()) / 1e3
        capacity = f"; the pipeline alone: {format_seconds(per_frame)} per frame" if per_frame > 0 else ""
        self.status.value = (f"<b>{rate}</b> (measured over the last {len(recent)} frames{capacity}); "
                             f"frames: {self.frames}; classified on: {result.engine}")
        self.speed.value = self._speed_text(sw, hw, pl)

    def _speed_text(self, sw: list[float], hw: list[float], pl: list[dict]) -> str:
        parts = []
        if sw:
            parts.append(f"software (numpy on the PS): {format_seconds(float(np.mean(sw)))} per digit")
        if hw:
            parts.append(f"accelerator: {format_seconds(float(np.mean(hw)))} per digit, PS side included")
        text = "; ".join(parts) + " (measured)" if parts else ""
        if sw and hw:
            ratio = np.mean(sw) / np.mean(hw)
            if self.simulated:
                # Not a headline: the accelerator's measured time here is this computer simulating the PL.
                text += (f"<br/>software / accelerator, both measured here: {ratio:.2f}x. Not the PL's speed: "
                         "on the simulated board the accelerator's measured time is this computer running the "
                         "simulation.")
            else:
                text += f"<br/><b>speedup {ratio:.2f}x</b> (measured)"
        if pl and sw:
            modelled_pl = float(np.mean([sum(m.values()) for m in pl]))
            text += (f"<br/><b>the PL itself: {format_seconds(modelled_pl)} per digit (modelled) = "
                     f"{np.mean(sw) / modelled_pl:.1f}x faster than this computer's numpy</b>")
        return text
