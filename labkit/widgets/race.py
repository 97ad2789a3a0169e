"""``TransferRace``: the transfer methods side by side, filling in as results arrive.

>>> race = TransferRace(["per_word", "array_slice", "dma"])
>>> race                                   # in a notebook: two empty bar charts
>>> sweep = race.start(ol, sizes=["22400"])  # benchmark in the background; bars grow as cells finish
>>> race.stop()                            # if you get bored

Left: median time per transfer (log scale), right: MB/s (log scale).  Blue bars are
*measured* on this computer; on the simulated board orange bars show the *estimated* board
time (board profile).  One size at a time: pick it in the drop-down.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Iterable

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..bench import parse_size
from ..results import format_size
from ..transfer import METHODS
from ..timing import format_seconds
from ._common import (KIND_COLORS, RecordView, SweepFollower, Throttle, decade_ticks, estimated_label, f32, hold,
                      html_escape, measured_label, view_of)

__all__ = ["TransferRace"]

MAX_SIZES = 32  #: sizes remembered (the oldest is dropped): a bounded window


def _decades(values: list[float], default: tuple[float, float]) -> tuple[float, float]:
    """Log-scale limits: whole decades around the values (the lower one is where bars start)."""
    good = [v for v in values if v and v > 0 and math.isfinite(v)]
    if not good:
        return default
    lo = 10.0 ** math.floor(math.log10(min(good)))
    hi = 10.0 ** math.ceil(math.log10(max(good)))
    if lo >= min(good) * (1 - 1e-6):  # a value on a decade would get a bar of length zero
        lo /= 10
    if hi <= max(good) * (1 + 1e-6):
        hi *= 10
    return lo, hi


class TransferRace(SweepFollower, widgets.VBox):
    """Horizontal bars, one row per method: median time and MB/s, measured (and estimated).

    Parameters
    ----------
    methods:
        The rows, top to bottom (default: every method of :data:`labkit.transfer.METHODS`).
    size:
        The input size to show (bytes, or ``"64K"`` ...); default: the first size that arrives.
    throttle_s:
        Least time between two redraws (results can arrive much faster).

    Feed it with :meth:`add` (a :class:`~labkit.bench.BenchRecord` or a
    :class:`~labkit.transfer.TransferResult`), :meth:`follow` (a running sweep) or :meth:`start`.
    """

    default_sizes = (22400,)

    def __init__(self, methods: Iterable[str] | None = None, *, size: int | str | None = None,
                 throttle_s: float = 0.1, height: str = "280px", **kwargs: Any) -> None:
        self.methods = list(methods) if methods is not None else list(METHODS)
        if not self.methods:
            raise ValueError("TransferRace needs at least one method to show")
        self._lock = threading.Lock()
        self._views: dict[tuple[str, int], RecordView] = {}
        self._sizes: list[int] = []
        self._size: int | None = parse_size(size) if size is not None else None
        n = len(self.methods)

        # Built once; render() only changes traits.
        self._time_y = bq.LogScale(min=1e-6, max=1.0)
        self._rate_y = bq.LogScale(min=0.1, max=1000.0)
        rows_t, rows_r = bq.OrdinalScale(domain=self.methods, reverse=True), bq.OrdinalScale(domain=self.methods,
                                                                                            reverse=True)
        colors = [KIND_COLORS["measured"], KIND_COLORS["estimated"]]
        tooltip = bq.Tooltip(fields=["x", "y"], labels=["method", "value"], formats=["", ".3g"])
        self._time_bars = bq.Bars(
            x=self.methods, y=f32(np.full((2, n), 1e-6)), base=1e-6, scales={"x": rows_t, "y": self._time_y},
            orientation="horizontal", type="grouped", colors=colors, labels=["measured", "estimated"],
            display_legend=False, tooltip=tooltip)
        self._rate_bars = bq.Bars(
            x=self.methods, y=f32(np.full((2, n), 0.1)), base=0.1, scales={"x": rows_r, "y": self._rate_y},
            orientation="horizontal", type="grouped", colors=colors, labels=["measured", "estimated"],
            display_legend=False, tooltip=bq.Tooltip(fields=["x", "y"], labels=["method", "MB/s"],
                                                     formats=["", ".3g"]))
        margin = dict(top=40, bottom=45, left=100, right=20)
        # Log axes get one tick per decade (d3 would label every 2, 3, 4 ... and overlap).
        self._time_axis = bq.Axis(scale=self._time_y, orientation="horizontal", label="seconds (SI prefixes)",
                                  tick_format="~s", tick_values=np.array(decade_ticks(1e-6, 1.0)))
        self._rate_axis = bq.Axis(scale=self._rate_y, orientation="horizontal", label="MB/s (10^6 bytes per second)",
                                  tick_format=",~g", tick_values=np.array(decade_ticks(0.1, 1000.0)))
        self._time_fig = bq.Figure(
            marks=[self._time_bars], title="median time per transfer (log scale)", fig_margin=margin,
            axes=[bq.Axis(scale=rows_t, orientation="vertical", grid_lines="none"), self._time_axis],
            layout=widgets.Layout(width="49%", height=height))
        self._rate_fig = bq.Figure(
            marks=[self._rate_bars], title="MB/s of the input (log scale)", fig_margin=margin,
            axes=[bq.Axis(scale=rows_r, orientation="vertical", grid_lines="none"), self._rate_axis],
            layout=widgets.Layout(width="49%", height=height))
        # The caption shrinks and wraps; the size picker keeps its width, so it is never pushed past the edge.
        self._caption = widgets.HTML(value="<b>Transfer race</b>: waiting for results",
                                     layout=widgets.Layout(flex="1 1 0%", min_width="0"))
        self._size_pick = widgets.Dropdown(options=[], description="size", style={"description_width": "35px"},
                                           layout=widgets.Layout(width="180px", flex="0 0 auto", margin="0 12px 0 8px"))
        self._size_pick.observe(self._picked, names="value")
        self._footer = widgets.HTML(value="")
        super().__init__(children=[widgets.HBox([self._caption, self._size_pick]),
                                   widgets.HBox([self._time_fig, self._rate_fig]), self._footer], **kwargs)
        self._rendering = False
        self._throttle = Throttle(self._render, throttle_s)

    # -- the figures, for tests and for styling ----------------------------------------------------------
    @property
    def figures(self) -> tuple[bq.Figure, bq.Figure]:
        return self._time_fig, self._rate_fig

    @property
    def size(self) -> int | None:
        return self._size

    @size.setter
    def size(self, value: int | str) -> None:
        self._size = parse_size(value)
        self._throttle()

    def _picked(self, change: dict) -> None:
        if self._rendering:  # our own update of the drop-down, not the student's choice
            return
        if change["new"] is not None and change["new"] != self._size:
            self._size = change["new"]
            self._throttle()

    # -- data ----------------------------------------------------------------------------------------------
    def add(self, record: Any) -> None:
        """Show one result (BenchRecord or TransferResult); redraws at most every ``throttle_s`` seconds."""
        view = view_of(record)
        with self._lock:
            if view.size not in self._sizes:
                self._sizes.append(view.size)
                if len(self._sizes) > MAX_SIZES:
                    old = self._sizes.pop(0)
                    self._views = {k: v for k, v in self._views.items() if k[1] != old}
            if view.method not in self.methods:
                return
            self._views[(view.method, view.size)] = view
            if self._size is None:
                self._size = view.size
        self._throttle()

    def clear(self) -> None:
        """Forget every result (the figures stay)."""
        with self._lock:
            self._views.clear()
            self._sizes.clear()
        self._throttle()

    # -- drawing -------------------------------------------------------------------------------------------
    def _render(self) -> None:
        with self._lock:
            size = self._size
            views = {m: self._views.get((m, size)) for m in self.methods}
            sizes = sorted(self._sizes)
        ok = {m: v for m, v in views.items() if v is not None and v.ok}
        times = [v.median_s for v in ok.values()] + [v.estimated_s for v in ok.values() if v.estimated_s]
        rates = [v.mb_per_s for v in ok.values()] + [v.estimated_mb_per_s for v in ok.values()
                                                     if v.estimated_mb_per_s]
        t_lo, t_hi = _decades(times, (1e-6, 1.0))
        r_lo, r_hi = _decades(rates, (0.1, 1000.0))
        t = np.full((2, len(self.methods)), t_lo)
        r = np.full((2, len(self.methods)), r_lo)
        for i, m in enumerate(self.methods):
            v = ok.get(m)
            if v is None:
                continue
            t[0, i], r[0, i] = v.median_s, v.mb_per_s
            if v.estimated_s:
                t[1, i], r[1, i] = v.estimated_s, v.estimated_mb_per_s
        any_view = next(iter(ok.values()), None) or next((v for v in views.values() if v is not None), None)
        machine = any_view.machine if any_view else ""
        simulated = any(v.simulated for v in ok.values())
        profile = any_view.profile if any_view else "board"
        labels = [measured_label(machine), estimated_label(profile) if simulated else "estimated: none (real board)"]
        options = [(format_size(s), s) for s in sizes]
        self._rendering = True
        try:
            with hold(self._time_bars, self._rate_bars, self._time_y, self._rate_y, self._time_axis,
                      self._rate_axis, self._caption, self._footer, self._size_pick):
                self._time_y.min, self._time_y.max = float(t_lo), float(t_hi)
                self._rate_y.min, self._rate_y.max = float(r_lo), float(r_hi)
                self._time_axis.tick_values = np.array(decade_ticks(t_lo, t_hi))
                self._rate_axis.tick_values = np.array(decade_ticks(r_lo, r_hi))
                self._time_bars.base, self._rate_bars.base = float(t_lo), float(r_lo)
                self._time_bars.y, self._rate_bars.y = f32(t), f32(r)
                self._time_bars.labels = labels
                self._rate_bars.labels = labels
                if list(self._size_pick.options) != options:
                    self._size_pick.options = options
                if size is not None and self._size_pick.value != size:
                    self._size_pick.value = size
                self._caption.value = self._caption_html(size, ok, machine, profile, simulated)
                self._footer.value = self._footer_html(views, ok)
        finally:
            self._rendering = False

    @staticmethod
    def _caption_html(size: int | None, ok: dict[str, RecordView], machine: str, profile: str,
                      simulated: bool) -> str:
        if size is None:
            return "<b>Transfer race</b>: waiting for results"
        repeats = sorted({v.repeats for v in ok.values()})
        median = (f"median of {'/'.join(map(str, repeats))} repeat(s)" if repeats else "no results yet")
        text = (f"<b>Transfer race</b>, {format_size(size)} per transfer. "
                f"<span style='color:{KIND_COLORS['measured']}'>&#9632; measured</span> on "
                f"{html_escape(machine)} ({median})")
        if simulated:
            text += (f"; <span style='color:{KIND_COLORS['estimated']}'>&#9632; estimated</span> "
                     f"{html_escape(profile)} time from its board profile (simulated board)")
        return text

    @staticmethod
    def _footer_html(views: dict[str, RecordView | None], ok: dict[str, RecordView]) -> str:
        parts = []
        if ok:
            ranked = sorted(ok.values(), key=lambda v: v.median_s)
            best = ranked[0]
            parts.append("measured, vs the fastest (" + html_escape(best.method) + ", "
                         + format_seconds(best.median_s) + "): "
                         + ", ".join(f"{html_escape(v.method)} {v.median_s / best.median_s:.1f}x" for v in ranked[1:]))
            est = [v for v in ok.values() if v.estimated_s]
            if est:
                best_e = min(est, key=lambda v: v.estimated_s)
                parts.append("estimated board, vs the fastest (" + html_escape(best_e.method) + ", "
                             + format_seconds(best_e.estimated_s) + "): "
                             + ", ".join(f"{html_escape(v.method)} {v.estimated_s / best_e.estimated_s:.1f}x"
                                         for v in sorted(est, key=lambda v: v.estimated_s) if v is not best_e))
            unverified = [v.method for v in ok.values() if not v.verified]
            if unverified:
                parts.append("<span style='color:#d62728'>NOT VERIFIED (wrong output): "
                             + html_escape(", ".join(unverified)) + "</span>")
        failed = [v for v in views.values() if v is not None and not v.ok]
        if failed:
            parts.append("<span style='color:#d62728'>failed: "
                         + "; ".join(f"{html_escape(v.method)}: {html_escape(v.error)}" for v in failed) + "</span>")
        return "<br>".join(parts)
