"""``PingPongTimeline``: load (LB), compute (COM) and store (SB), single vs double buffering.

>>> single = labkit.transfer.run("dma", ol, data)
>>> double = labkit.transfer.run("dma_pingpong", ol, data)
>>> PingPongTimeline(single, double)
>>> PingPongTimeline.from_board(ol, nbytes=256 * 1024)      # the same, runs both for you

A Gantt chart per run, one row per stage, on the same time axis (microseconds from the
first interval of each run), single buffering above double buffering.  These are the
**modelled PL times of the simulated board**: the intervals its model booked for every
kernel call, never measured.  With one buffer, load and compute take turns; with two, the
load of chunk ``i+1`` runs while chunk ``i`` is computed, and the bars overlap.

On a real board nothing models the PL, so there is no timeline: the widget says so and
shows the *measured* phases of the PS instead (summed per phase, laid end to end).
"""

from __future__ import annotations

from typing import Any, Sequence

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..bench import measure, parse_size
from ..results import TransferResult, format_size, modelled_busy_s, profile_of
from ..transfer import make_input
from ..timing import format_seconds
from ._common import KIND_COLORS, f32, hold, html_escape, measured_label, stage_color

__all__ = ["PingPongTimeline", "gantt_rows"]

STAGES = ("LB", "COM", "SB")
MAX_INTERVALS = 2000  #: intervals drawn per run (the first ones): a bounded window
ZOOM_CALLS = 4  #: the opening view: the first few calls, where taking turns vs overlapping is visible
IDLE_GAP = 4.0  #: the opening view stops before an idle gap this many times longer than what it shows


def gantt_rows(segments: dict[str, list[tuple[float, float]]], rows: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """x and y arrays (rows x points, float32) drawing each row's segments as one line with NaN gaps.

    Row ``i`` (counted from the bottom) is drawn at height ``i``; segment ``(a, b)`` becomes the
    points ``(a, i), (b, i), (NaN, NaN)``, so one Lines mark draws every bar of a row.  Each row
    ends on a real point (its last one, repeated), never on NaN.
    """
    length = max([3 * len(segments.get(r, [])) for r in rows] + [2])
    x = np.full((len(rows), length), np.nan, dtype=np.float32)
    y = np.full((len(rows), length), np.nan, dtype=np.float32)
    for i, row in enumerate(rows):
        row_segments = segments.get(row, [])
        for j, (a, b) in enumerate(row_segments):
            x[i, 3 * j: 3 * j + 2] = (a, b)
            y[i, 3 * j: 3 * j + 2] = i
        # A line must not end on NaN: bqplot places its label at the last point, and a NaN there is
        # "translate(undefined,undefined)" in the browser's console. Repeat the last point instead
        # (a zero-length piece draws nothing).
        last = 3 * len(row_segments) - 2 if row_segments else None
        x[i, (last or 0) + (1 if last is not None else 0):] = x[i, last] if last is not None else 0.0
        y[i, (last or 0) + (1 if last is not None else 0):] = i
    return x, y


def first_calls_end(segments: dict[str, list[tuple[float, float]]], calls: int = ZOOM_CALLS) -> float:
    """Where the opening view of a run ends: after its first ``calls`` calls, or before a long idle gap.

    A call is an interval of the row with the most intervals.  The view stops early before a gap
    ``IDLE_GAP`` times longer than what it already shows (the PS busy between calls), so the bars
    stay wide; it keeps at least one call, and every interval that starts inside it.
    """
    busiest = sorted(max(segments.values(), key=len, default=[]))
    if not busiest:
        return 0.0
    cutoff = busiest[0][1]
    for start, end in busiest[1:calls]:
        if start - cutoff > IDLE_GAP * cutoff:
            break
        cutoff = end
    return max(b for segs in segments.values() for a, b in segs if a <= cutoff)


class _Panel:
    """One run's Gantt chart: a figure, one Lines mark (one line per row), built once."""

    def __init__(self, title: str, height: str, bar_px: float) -> None:
        self.x = x_scale = bq.LinearScale(min=0.0, max=1.0)
        self.y = bq.LinearScale(min=-0.6, max=len(STAGES) - 0.4)
        self.y_axis = bq.Axis(scale=self.y, orientation="vertical", grid_lines="none",
                              tick_values=f32(range(len(STAGES))),
                              tick_labels={i: s for i, s in enumerate(reversed(STAGES))})
        self.lines = bq.Lines(x=f32(np.full((len(STAGES), 2), np.nan)), y=f32(np.full((len(STAGES), 2), np.nan)),
                              scales={"x": x_scale, "y": self.y}, stroke_width=bar_px,
                              colors=[stage_color(s) for s in reversed(STAGES)], labels=list(reversed(STAGES)),
                              display_legend=False)
        self.figure = bq.Figure(
            marks=[self.lines], title=title, fig_margin=dict(top=35, bottom=40, left=60, right=20),
            axes=[bq.Axis(scale=x_scale, label="microseconds from the first interval of the run"), self.y_axis],
            layout=widgets.Layout(width="100%", height=height))
        # Drag to pan, wheel to zoom along the time axis (the x scale is shared: both panels follow).
        self.figure.interaction = bq.interacts.PanZoom(scales={"x": [x_scale]})
        self.span_us = 0.0
        self.first_calls_us = 0.0  #: end of the first ZOOM_CALLS calls of the drawn run
        self.busy_s = 0.0  #: modelled PL-only time of the drawn run (0 when it has no modelled intervals)

    def widgets_to_hold(self) -> list:
        return [self.x, self.y, self.y_axis, self.lines, self.figure]

    def draw(self, segments: dict[str, list[tuple[float, float]]], rows: Sequence[str], colors: Sequence[str],
             title: str) -> None:
        """Set every trait for one run (the caller holds the syncs)."""
        bottom_up = list(reversed(rows))
        x, y = gantt_rows(segments, bottom_up)
        self.y.min, self.y.max = -0.6, len(rows) - 0.4
        self.y_axis.tick_values = f32(range(len(rows)))
        self.y_axis.tick_labels = {i: r for i, r in enumerate(bottom_up)}
        self.lines.x, self.lines.y = x, y
        self.lines.colors = list(reversed(list(colors)))
        self.lines.labels = bottom_up
        self.figure.title = title
        ends = [b for segs in segments.values() for _, b in segs]
        self.span_us = max(ends) if ends else 0.0
        self.first_calls_us = first_calls_end(segments)


class PingPongTimeline(widgets.VBox):
    """Modelled LB / COM / SB intervals of a single-buffered and a double-buffered transfer.

    Parameters
    ----------
    single, double:
        :class:`~labkit.transfer.TransferResult` of a ``"dma"`` and a ``"dma_pingpong"`` run
        (any two results work; the labels name their methods).  Either may be left out and
        given later with :meth:`show`.
    stages:
        Interval labels to draw, one row each (top to bottom).
    """

    def __init__(self, single: Any = None, double: Any = None, *, stages: Sequence[str] = STAGES,
                 max_intervals: int = MAX_INTERVALS, height: str = "190px", bar_px: float = 14.0,
                 **kwargs: Any) -> None:
        self.stages = tuple(stages)
        if not self.stages:
            raise ValueError("PingPongTimeline needs at least one stage to draw, e.g. ('LB', 'COM', 'SB')")
        self.max_intervals = int(max_intervals)
        # One time axis per run: the same range for the whole run (compare durations), each its own for
        # the first calls (see how the stages take turns or overlap).
        self._single = _Panel("single buffering (dma)", height, bar_px)
        self._double = _Panel("double buffering (dma_pingpong)", height, bar_px)
        self._caption = widgets.HTML(value="<b>Ping-pong timeline</b>: no runs yet (call .show(single, double))")
        self._summary = widgets.HTML(value="")
        self.zoom = widgets.ToggleButtons(
            options=[("first calls", "start"), ("whole run", "all")], value="start",
            description="show", style={"button_width": "110px"},
            tooltips=["where load and compute take turns or overlap", "every chunk of the transfer"])
        self.zoom.observe(lambda _: self._apply_zoom(), names="value")
        hint = widgets.HTML("<small>drag to pan, scroll to zoom the time axis</small>")
        super().__init__(children=[self._caption, widgets.HBox([self.zoom, hint]), self._single.figure,
                                   self._double.figure, self._summary], **kwargs)
        self.results: tuple[Any, Any] = (None, None)
        if single is not None or double is not None:
            self.show(single, double)

    @property
    def figures(self) -> tuple[bq.Figure, bq.Figure]:
        return self._single.figure, self._double.figure

    @classmethod
    def from_board(cls, overlay: Any, nbytes: int | str = 256 * 1024, *, seed: int = 0, **options: Any
                   ) -> "PingPongTimeline":
        """Run ``dma`` and ``dma_pingpong`` on the same input (after a warm-up run each) and show both."""
        data = make_input("dma_pingpong", parse_size(nbytes), seed=seed)
        results: list = []  # measure() leaves each method's timed run here
        for method in ("dma", "dma_pingpong"):
            measure(method, overlay, nbytes, data=data, repeats=1, warmup=1, keep=results, **options)
        return cls(*results)

    # -- drawing -------------------------------------------------------------------------------------------
    def show(self, single: Any = None, double: Any = None) -> None:
        """Draw one or both runs (a run left out keeps what it showed)."""
        for name, result in (("single", single), ("double", double)):
            if result is not None and not isinstance(result, TransferResult):
                raise TypeError(f"PingPongTimeline.show({name}=...) needs a TransferResult from "
                                f"labkit.transfer.run(...) (it holds the modelled intervals), got "
                                f"{type(result).__name__}; from a sweep use Sweep(..., keep_results=True).results")
        old_single, old_double = self.results
        single = single if single is not None else old_single
        double = double if double is not None else old_double
        self.results = (single, double)
        panels = [(self._single, single, "single buffering"), (self._double, double, "double buffering")]
        held = [self._caption, self._summary] + [w for p, _, _ in panels for w in p.widgets_to_hold()]
        with hold(*held):
            notes = []
            for panel, result, what in panels:
                if result is not None:
                    notes.append(self._draw(panel, result, what))
            self._apply_zoom()
            self._caption.value = self._caption_html(single, double)
            self._summary.value = self._summary_html(single, double, notes)

    @property
    def x_scales(self) -> tuple[bq.LinearScale, bq.LinearScale]:
        return self._single.x, self._double.x

    def _apply_zoom(self) -> None:
        """Time axes: each run's first calls (default), or the whole run on one range for both."""
        whole = max(self._single.span_us, self._double.span_us)
        for panel in (self._single, self._double):
            span = panel.first_calls_us if self.zoom.value == "start" else whole
            panel.x.min, panel.x.max = 0.0, float(span * 1.02 if span > 0 else 1.0)

    def _draw(self, panel: _Panel, result: Any, what: str) -> str:
        """Draw one run; returns a note for the summary."""
        intervals = sorted((iv for iv in result.intervals if iv.label in self.stages), key=lambda iv: iv.start)
        if intervals:
            shown = intervals[: self.max_intervals]
            t0 = shown[0].start
            segments: dict[str, list[tuple[float, float]]] = {s: [] for s in self.stages}
            for iv in shown:
                segments[iv.label].append(((iv.start - t0) * 1e6, (iv.end - t0) * 1e6))
            panel.busy_s = busy = modelled_busy_s(intervals)
            span = max(iv.end for iv in intervals) - t0
            title = (f"{what} ({result.method}), {format_size(result.nbytes_in)}: modelled PL time, "
                     f"PL busy {format_seconds(busy)} of {format_seconds(span)}")
            panel.draw(segments, self.stages, [stage_color(s) for s in self.stages], title)
            cut = f" (first {len(shown)} of {len(intervals)} intervals drawn)" if len(shown) < len(intervals) else ""
            return f"{html_escape(result.method)}: {len(intervals)} intervals{cut}"
        # No modelled intervals: a real board (or a method without these stages) -- show measured phases.
        panel.busy_s = 0.0
        cursor = 0.0
        segments = {}
        for p in result.phases:
            segments[p.name] = [(cursor * 1e6, (cursor + p.measured) * 1e6)]
            cursor += p.measured
        rows = [p.name for p in result.phases]
        where = "real board: no modelled PL timeline" if not result.simulated else \
            f"no {'/'.join(self.stages)} intervals in this run"
        title = (f"{what} ({result.method}): {where}; measured PS phases on {result.machine}, "
                 f"summed per phase, laid end to end")
        panel.draw(segments, rows, [KIND_COLORS["measured"]] * len(rows), title)
        return (f"{html_escape(result.method)}: {html_escape(where)} -- shown instead: the measured time of each "
                f"phase, summed over its {sum(p.count for p in result.phases)} repetitions and laid end to end "
                "(not their real order)")

    def _caption_html(self, single: Any, double: Any) -> str:
        results = [r for r in (single, double) if r is not None]
        if not results:
            return "<b>Ping-pong timeline</b>: no runs yet"
        stages = ", ".join(self.stages)
        if any(r.intervals for r in results):
            board = next(r.board for r in results if r.intervals)
            return (f"<b>Ping-pong timeline</b> -- <b>modelled PL time (simulated board)</b>, {html_escape(board)}: "
                    f"the intervals the board model booked for {stages}, not measured; microseconds from each "
                    "run's first interval. <i>first calls</i>: each run up to its first few calls (or its first "
                    "long idle gap); <i>whole run</i>: both runs on the same time axis.")
        return (f"<b>Ping-pong timeline</b> -- this is a real board: there is no modelled PL timeline. "
                f"Shown instead: <b>{html_escape(measured_label(results[0].machine))}</b> PS phases.")

    def _summary_html(self, single: Any, double: Any, notes: list[str]) -> str:
        parts = list(notes)
        if single is not None and double is not None and single.intervals and double.intervals:
            b1, b2 = self._single.busy_s, self._double.busy_s
            if b1 > 0 and b2 > 0:
                parts.append(f"modelled PL-only time (union of the {'/'.join(self.stages)} intervals): "
                             f"{html_escape(single.method)} {format_seconds(b1)}, "
                             f"{html_escape(double.method)} {format_seconds(b2)}: "
                             f"<b>{b1 / b2:.2f}x</b> (two buffers can at most halve it)")
            parts.append(f"measured on {html_escape(single.machine)}: {html_escape(single.method)} "
                         f"{format_seconds(single.measured)}, {html_escape(double.method)} "
                         f"{format_seconds(double.measured)}: {single.measured / double.measured:.2f}x")
            if single.estimated and double.estimated:
                parts.append(f"estimated {html_escape(profile_of(single.board))} (board profile): "
                             f"{format_seconds(single.estimated)} vs {format_seconds(double.estimated)}: "
                             f"{single.estimated / double.estimated:.2f}x")
        return "<br>".join(parts)
