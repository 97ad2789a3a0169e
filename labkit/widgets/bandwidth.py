"""``BandwidthPlot``: input size against MB/s, one line per method, with the limits drawn in.

>>> plot = BandwidthPlot(["array_slice", "dma", "dram_master"], overlay=ol)
>>> plot
>>> sweep = plot.start(ol, sizes=["4K", "64K", "1M", "4M"])   # fills in, in the background

Both axes are logarithmic.  Solid lines: *measured* MB/s on this computer.  Dashed lines (simulated
board): *estimated* MB/s on the board, from its profile.  Dotted horizontal lines: the limits --
this computer's ``numpy.copyto`` bandwidth (*measured*) and, on the simulated board, the *modelled*
bandwidth of one HP port (data width x PL clock) and of AXI-Lite over the GP port (4 bytes per
access).  Small transfers sit far below the limits: fixed costs (Python, starting the PL, waiting)
dominate until the data is large enough.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Iterable

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..results import format_size
from ..transfer import METHODS
from ..timing import this_machine
from ._common import (KIND_COLORS, Limit, RecordView, SweepFollower, Throttle, decade_ticks, estimated_label, f32,
                      hold, html_escape, measured_label, method_color, port_limits, view_of)

__all__ = ["BandwidthPlot"]

MAX_POINTS = 64  #: sizes kept per method (the oldest is dropped): a bounded window
#: what the chart writes at the right end of each limit's line (the full label is in the caption)
LIMIT_NAMES = {"copy": "numpy.copyto", "hp": "HP port", "axi_lite": "AXI-Lite, GP port"}
LABEL_MARGIN_PX = 200  #: room right of the plot for the limits' names, so no data line crosses them


def limit_tag(limit: Limit) -> str:
    """Short name of a limit for the chart: ``"HP port 800 MB/s (modelled)"``."""
    return f"{LIMIT_NAMES.get(limit.name, limit.name)} {limit.mb_per_s:,.0f} MB/s ({limit.kind})"


def _size_ticks(lo: float, hi: float) -> list[int]:
    """Powers of two between lo and hi, every 4x (every 2x if that gives fewer than 3 ticks)."""
    powers = [1 << k for k in range(0, 40) if lo <= (1 << k) <= hi]
    every4 = [p for p in powers if (p.bit_length() - 1) % 2 == 0]
    return every4 if len(every4) >= 3 else powers


class BandwidthPlot(SweepFollower, widgets.VBox):
    """MB/s against bytes per transfer (log-log), one line per method, limits as labelled lines.

    Parameters
    ----------
    methods:
        One line each (default: every method of :data:`labkit.transfer.METHODS`).
    overlay:
        The board the limits are taken from (default: the active simulated board, if any).
        On a real board only the measured copy bandwidth is drawn.
    measure_copy:
        Measure ``numpy.copyto`` once (about 0.1 s) and draw it as a limit.
    """

    default_sizes = ("4K", "64K", "1M")

    def __init__(self, methods: Iterable[str] | None = None, *, overlay: Any = None, measure_copy: bool = True,
                 throttle_s: float = 0.1, height: str = "420px", **kwargs: Any) -> None:
        self.methods = list(methods) if methods is not None else list(METHODS)
        if not self.methods:
            raise ValueError("BandwidthPlot needs at least one method to show")
        self._lock = threading.Lock()
        self._points: dict[str, dict[int, RecordView]] = {m: {} for m in self.methods}
        self.limits: list[Limit] = port_limits(overlay, measure_copy=measure_copy)

        # Built once; render() only changes traits.
        self._x = bq.LogScale(min=1e3, max=1e7)
        self._y = bq.LogScale()
        scales = {"x": self._x, "y": self._y}
        empty = f32([])
        self._measured: dict[str, bq.Lines] = {}
        self._estimated: dict[str, bq.Lines] = {}
        for m in self.methods:
            color = method_color(m)
            self._measured[m] = bq.Lines(x=empty, y=empty, scales=scales, colors=[color], marker="circle",
                                         marker_size=24, labels=[f"{m} (measured)"], display_legend=False,
                                         tooltip=bq.Tooltip(fields=["x", "y"], labels=["bytes", "MB/s measured"],
                                                            formats=[",.0f", ".3g"]))
            self._estimated[m] = bq.Lines(x=empty, y=empty, scales=scales, colors=[color], line_style="dashed",
                                          marker="triangle-up", marker_size=16, labels=[f"{m} (estimated)"],
                                          display_legend=False, opacities=[0.7],
                                          tooltip=bq.Tooltip(fields=["x", "y"], labels=["bytes", "MB/s estimated"],
                                                             formats=[",.0f", ".3g"]))
        self._limit_lines = [
            bq.Lines(x=f32([1e3, 1e7]), y=f32([lim.mb_per_s] * 2), scales=scales, colors=[KIND_COLORS[lim.kind]],
                     line_style="dotted", stroke_width=2, labels=[lim.label], display_legend=False)
            for lim in self.limits]
        # The limits' names, right of the plot at the end of their lines: outside the data, so no line
        # crosses them (apply_clip=False lets them sit in the figure's right margin).
        self._limit_labels = bq.Label(x=f32([1e7] * len(self.limits)), y=f32([lim.mb_per_s for lim in self.limits]),
                                      text=[limit_tag(lim) for lim in self.limits], scales=scales, default_size=11,
                                      colors=[KIND_COLORS[lim.kind] for lim in self.limits], align="start",
                                      x_offset=6, y_offset=4, apply_clip=False)
        # Log axes: ticks at sizes in KiB/MiB and at decades of MB/s (d3's own log ticks overlap).
        self._x_axis = bq.Axis(scale=self._x, label="bytes per transfer (log scale)",
                               tick_values=np.array(_size_ticks(1e3, 1e7)),
                               tick_labels={v: format_size(v) for v in _size_ticks(1e3, 1e7)})
        self._y_axis = bq.Axis(scale=self._y, orientation="vertical", label="MB/s (log scale)",
                               tick_format=",~g", label_offset="55px")
        self._figure = bq.Figure(
            marks=self._limit_lines + [self._limit_labels] + list(self._estimated.values())
            + list(self._measured.values()),
            axes=[self._x_axis, self._y_axis],
            title="bandwidth against transfer size",
            fig_margin=dict(top=40, bottom=50, left=80, right=LABEL_MARGIN_PX if self.limits else 20),
            layout=widgets.Layout(width="98%", height=height))  # 100% + the output's padding scrolls sideways
        self._caption = widgets.HTML(value=self._caption_html("", "", False))
        super().__init__(children=[self._caption, self._figure], **kwargs)
        self._throttle = Throttle(self._render, throttle_s)

    @property
    def figure(self) -> bq.Figure:
        return self._figure

    # -- data ----------------------------------------------------------------------------------------------
    def add(self, record: Any) -> None:
        """Add one result (BenchRecord or TransferResult); redraws at most every ``throttle_s`` seconds."""
        view = view_of(record)
        if view.method not in self._points or not view.ok:
            return
        with self._lock:
            points = self._points[view.method]
            points.pop(view.size, None)
            points[view.size] = view
            while len(points) > MAX_POINTS:
                points.pop(next(iter(points)))
        self._throttle()

    def clear(self) -> None:
        with self._lock:
            for points in self._points.values():
                points.clear()
        self._throttle()

    # -- drawing -------------------------------------------------------------------------------------------
    def _render(self) -> None:
        with self._lock:
            snapshot = {m: sorted(p.values(), key=lambda v: v.nbytes_in) for m, p in self._points.items()}
        views = [v for vs in snapshot.values() for v in vs]
        xs = [v.nbytes_in for v in views]
        x_lo, x_hi = (min(xs) / 2, max(xs) * 2) if xs else (1e3, 1e7)
        machine = views[0].machine if views else ""
        simulated = any(v.simulated for v in views)
        profile = views[0].profile if views else ""
        marks = list(self._measured.values()) + list(self._estimated.values()) + self._limit_lines
        ys = [v.mb_per_s for v in views] + [v.estimated_mb_per_s for v in views if v.estimated_mb_per_s]
        ys += [lim.mb_per_s for lim in self.limits]
        y_lo, y_hi = (10.0 ** math.floor(math.log10(min(ys)) - 0.3), 10.0 ** math.ceil(math.log10(max(ys)) + 0.3)
                      ) if ys else (0.1, 1e4)
        ticks = _size_ticks(x_lo, x_hi)
        with hold(self._x, self._y, self._x_axis, self._y_axis, self._limit_labels, *marks, self._caption):
            self._x.min, self._x.max = float(x_lo), float(x_hi)
            self._y.min, self._y.max = float(y_lo), float(y_hi)
            self._x_axis.tick_values = np.array(ticks)
            self._x_axis.tick_labels = {v: format_size(v) for v in ticks}
            self._y_axis.tick_values = np.array(decade_ticks(y_lo, y_hi))
            self._limit_labels.x = f32([x_hi] * len(self.limits))
            for m, vs in snapshot.items():
                self._measured[m].x = f32([v.nbytes_in for v in vs])
                self._measured[m].y = f32([v.mb_per_s for v in vs])
                est = [v for v in vs if v.estimated_mb_per_s]
                self._estimated[m].x = f32([v.nbytes_in for v in est])
                self._estimated[m].y = f32([v.estimated_mb_per_s for v in est])
            for line in self._limit_lines:
                line.x = f32([x_lo, x_hi])
            self._caption.value = self._caption_html(machine, profile, simulated)

    def _caption_html(self, machine: str, profile: str, simulated: bool) -> str:
        """Short lines: what is plotted, which colour is which method, what each line style is, the limits.

        The legend is here rather than in the plot: a bqplot legend sits on the data (and long labels
        run out of the figure).
        """
        machine = machine or this_machine()
        chips = " &nbsp; ".join(f"<span style='color:{method_color(m)}'>&#9632;</span> {html_escape(m)}"
                                for m in self.methods)
        styles = [f"solid: <b>{html_escape(measured_label(machine))}</b>"]
        if simulated:
            styles.append(f"dashed: <b>{html_escape(estimated_label(profile))}</b> (simulated board)")
        if self.limits:
            styles.append("dotted: limits, named at the right")
        text = ("<b>Bandwidth</b>: median MB/s of the input (10^6 bytes per second) against bytes per transfer"
                f"<br>{chips}<br>" + " &nbsp;&middot;&nbsp; ".join(styles))
        if self.limits:
            text += ("<br><small>limits: " + "; ".join(html_escape(lim.label) for lim in self.limits)
                     + "</small>")
        return text
