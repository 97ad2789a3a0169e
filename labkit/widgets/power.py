"""PowerMonitor: live board power (bqplot), with markers for what was running and energy per item.

>>> from labkit.widgets.power import PowerMonitor
>>> monitor = PowerMonitor(overlay=ol)       # the figure is built once, here
>>> monitor                                  # show it
>>> monitor.start()                          # sample on a background thread
>>> with monitor.mark("dma", count=10):      # a marked span: energy per transfer in the table
...     for _ in range(10): labkit.transfer.run("dma", ol, data)
>>> monitor.mark("classifier on")            # or a span that lasts until the next mark ...
>>> monitor.mark(None)                       # ... or until this
>>> monitor.stop()

What it shows: the board's total power (its input rail) and every rail, a trailing rolling
average of the total, coloured bars naming what ran, and a table of the energy of each marked
span and per item.  Every title and axis says what kind of power it is -- **measured** (a board
with sensors), **modelled** (the simulated board) or **estimated** (a board without sensors) --
and time is measured on the machine running the notebook.

How it keeps the kernel free (STYLE.md 4): one background thread samples every ``interval``
seconds into bounded buffers (``window_s`` of history); the figure is updated at most every
``refresh_s`` seconds, each update inside ``hold_sync()`` of every mark it touches, so one message
per widget per refresh, with float32 arrays.  :meth:`stop` ends the thread.
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import bqplot as bq
import ipywidgets as widgets

from labkit.power import EnergyMeasurement, PowerSource, format_joules, format_watts, integrate_j, open_power
from labkit.timing import format_seconds

from ._common import f32, hold

__all__ = ["PowerMonitor", "Mark"]

PALETTE = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
TOTAL_COLOR, AVERAGE_COLOR = "#222222", "#ff7f0e"
MAX_MARKS = 64  #: marked spans kept (the table lists all of them, in a scrolling box)
BAND_Y = 0.96  #: where the "what ran" bars sit, on a 0..1 scale over the plot
LABEL_ROWS = 3  #: span numbers cycle through this many heights, so neighbours do not collide
LABEL_EM = 0.018  #: room one digit of a span's number needs, as a share of the time axis (about 12 px of 700)
HEADROOM = 1.45  #: y axis up to this x the highest line: the bars and their numbers sit above the data


@dataclass
class Mark:
    """A span of time labelled with what ran; its energy once it has ended."""

    label: str
    count: int
    start: float  #: perf_counter time
    color: str
    end: float | None = None
    energy: EnergyMeasurement | None = None
    number: int = 0  #: 1, 2, 3 ... in the order the spans were marked: the plot writes it, the table names it
    _monitor: "PowerMonitor | None" = None
    _measure: Any = None

    def __enter__(self) -> "Mark":
        return self

    def __exit__(self, *exc) -> None:
        if self._monitor is not None:
            self._monitor._end_mark(self)

    @property
    def open(self) -> bool:
        return self.end is None


class PowerMonitor:
    """Live board power over time, what was running, and energy per marked item.

    Parameters
    ----------
    source:
        A :class:`labkit.power.PowerSource`; default ``labkit.power.open_power(overlay)``.
    interval:
        Seconds between samples (default 0.1: 10 Hz).
    window_s:
        Seconds of history kept and shown.
    refresh_s:
        Shortest time between two figure updates.
    average_s:
        Length of the trailing rolling average of the total.
    rails:
        Show every rail (True), none (False) or the named ones.
    """

    def __init__(self, source: PowerSource | None = None, *, overlay=None, interval: float = 0.1,
                 window_s: float = 60.0, refresh_s: float = 0.5, average_s: float = 1.0,
                 rails: bool | list[str] = True) -> None:
        if interval <= 0 or window_s <= interval or refresh_s < 0:
            raise ValueError("need interval > 0, window_s > interval and refresh_s >= 0")
        self.source = source if source is not None else open_power(overlay)
        self.interval = float(interval)
        self.window_s = float(window_s)
        self.refresh_s = float(refresh_s)
        self.average_s = float(average_s)
        if rails is True:
            self.rail_names = [n for n in self.source.rails if n != self.source.total_rail]
        elif rails is False:
            self.rail_names = []
        else:
            self.rail_names = list(rails)
        n = int(round(window_s / interval)) + 2
        self._t: deque[float] = deque(maxlen=n)
        self._total: deque[float] = deque(maxlen=n)
        self._rails: deque[tuple[float, ...]] = deque(maxlen=n)
        self._marks: deque[Mark] = deque(maxlen=MAX_MARKS)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dirty = False
        self._last_refresh = 0.0
        self.t0 = time.perf_counter()
        self.samples_taken = 0
        self.refreshes = 0
        self.errors: list[str] = []
        self._marked = 0  #: spans marked so far: the next one's number is this + 1
        self._build()

    # -- the figure, built once ------------------------------------------------------------------------------
    def _build(self) -> None:
        kind = self.source.reading_kind
        self.x_scale = bq.LinearScale()
        self.y_scale = bq.LinearScale(min=0.0)
        band = bq.LinearScale(min=0.0, max=1.0)
        empty = np.zeros(0, dtype=np.float32)
        # No bqplot legend: it sits on the plot (and on the total line). The legend is HTML, beside it.
        self.rail_lines = bq.Lines(x=empty, y=np.zeros((max(1, len(self.rail_names)), 0), dtype=np.float32),
                                   scales={"x": self.x_scale, "y": self.y_scale},
                                   colors=PALETTE[: max(1, len(self.rail_names))], labels=self.rail_names or [""],
                                   display_legend=False, stroke_width=1.5, visible=bool(self.rail_names))
        self.total_line = bq.Lines(x=empty, y=empty, scales={"x": self.x_scale, "y": self.y_scale},
                                   colors=[TOTAL_COLOR], labels=[f"total ({self.source.total_rail or 'sum'})"],
                                   display_legend=False, stroke_width=2)
        self.average_line = bq.Lines(x=empty, y=empty, scales={"x": self.x_scale, "y": self.y_scale},
                                     colors=[AVERAGE_COLOR], labels=[f"total, {self.average_s:g} s average"],
                                     display_legend=False, stroke_width=3, line_style="dashed")
        self.span_lines = bq.Lines(x=np.zeros((1, 2), np.float32), y=np.full((1, 2), BAND_Y, np.float32),
                                   scales={"x": self.x_scale, "y": band}, colors=["white"], stroke_width=10,
                                   visible=False)
        self.span_labels = bq.Label(x=empty, y=empty, text=[], scales={"x": self.x_scale, "y": band},
                                    colors=[TOTAL_COLOR], default_size=12, font_weight="bold", y_offset=16,
                                    align="middle")
        axes = [bq.Axis(scale=self.x_scale, label="time (s, measured on this computer)"),
                bq.Axis(scale=self.y_scale, orientation="vertical", label=f"power (W, {kind})")]
        self.figure = bq.Figure(marks=[self.rail_lines, self.total_line, self.average_line, self.span_lines,
                                       self.span_labels],
                                axes=axes, title=f"Board power ({kind})",  # short: a bqplot title does not wrap
                                animation_duration=0, fig_margin=dict(top=50, bottom=50, left=60, right=15),
                                layout=widgets.Layout(flex="1 1 0%", min_width="0", height="380px"))
        self.legend = widgets.HTML(value=self._legend_html(), layout=widgets.Layout(flex="0 0 auto",
                                                                                     margin="50px 0 0 0"))
        self.table = widgets.HTML(value=self._table_html())
        self.status = widgets.HTML(value=self._status_html())
        self.widget = widgets.VBox([widgets.HBox([self.figure, self.legend]), self.status, self.table])

    def _legend_html(self) -> str:
        """Which line is which, outside the plot: rails, the total, its average, the numbered spans."""
        def row(color: str, dash: str, width: int, label: str) -> str:
            return (f"<div style='white-space:nowrap'><span style='display:inline-block;width:26px;"
                    f"border-top:{width}px {dash} {color};vertical-align:middle;margin-right:6px'></span>"
                    f"{html.escape(label)}</div>")
        rows = [row(TOTAL_COLOR, "solid", 2, self.total_line.labels[0]),
                row(AVERAGE_COLOR, "dashed", 3, self.average_line.labels[0])]
        rows += [row(color, "solid", 2, name) for name, color in zip(self.rail_names, PALETTE)]
        rows.append("<div style='margin-top:6px'><small>coloured bars at the top: what ran,<br>"
                    "numbered as in the table below</small></div>")
        return "<div style='font-size:12px;line-height:1.6'>" + "".join(rows) + "</div>"

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- sampling ----------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "PowerMonitor":
        """Start sampling on a background thread (a second start raises)."""
        if self.running:
            raise RuntimeError("this PowerMonitor is already sampling; call stop() first")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="labkit-power-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sampling, end an open mark, and draw what was sampled."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for mark in list(self._marks):
            if mark.open:
                self._end_mark(mark)
        self.refresh(force=True)

    def _run(self) -> None:
        next_at = time.perf_counter()
        while not self._stop.is_set():
            try:
                self.sample()
                if time.perf_counter() - self._last_refresh >= self.refresh_s:
                    self.refresh()
            except Exception as exc:  # noqa: BLE001 -- keep sampling, but say what went wrong
                if len(self.errors) < 20:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
            next_at += self.interval
            delay = next_at - time.perf_counter()
            if delay < 0:  # fell behind (a slow sensor, a busy host): do not try to catch up
                next_at = time.perf_counter()
                delay = 0.0
            self._stop.wait(delay)

    def sample(self) -> None:
        """Take one reading now (the thread calls this; tests may too)."""
        reading = self.source.read()
        now = time.perf_counter()  # a sensor read faster than it converts repeats its value, as on a board
        with self._lock:
            self._t.append(now - self.t0)
            self._total.append(reading.total_w)
            self._rails.append(tuple(reading.rails_w.get(name, np.nan) for name in self.rail_names))
            self.samples_taken += 1
            self._dirty = True

    @property
    def sample_rate_hz(self) -> float:
        """Achieved samples per second over the kept window (measured)."""
        with self._lock:
            span = self._t[-1] - self._t[0] if len(self._t) > 1 else 0.0
            return (len(self._t) - 1) / span if span > 0 else 0.0

    # -- marks ----------------------------------------------------------------------------------------------------
    def mark(self, label: str | None, count: int = 1) -> Mark | None:
        """Start a span called ``label`` (ending the open one); ``None`` only ends the open span.

        Use the returned :class:`Mark` as a context manager to end it with the block.  ``count``
        is how many items (transfers, frames) the span holds: the table shows energy per item.
        """
        with self._lock:
            current = next((m for m in self._marks if m.open), None)
        if current is not None:
            self._end_mark(current)
        if label is None:
            return None
        colors = {m.label: m.color for m in self._marks}
        color = colors.get(label, PALETTE[len(colors) % len(PALETTE)])
        self._marked += 1
        mark = Mark(str(label), max(1, int(count)), time.perf_counter(), color, _monitor=self, number=self._marked)
        if self.source.kind != "measured":
            mark._measure = self.source.measure(mark.label, mark.count)
            mark.energy = mark._measure.__enter__()
        with self._lock:
            self._marks.append(mark)
            self._dirty = True
        return mark

    def _end_mark(self, mark: Mark) -> None:
        if not mark.open:
            return
        mark.end = time.perf_counter()
        if mark._measure is not None:
            mark._measure.__exit__(None, None, None)
            mark._measure = None
        else:
            mark.energy = self._integrate(mark)
        with self._lock:
            self._dirty = True

    def _integrate(self, mark: Mark) -> EnergyMeasurement:
        """Energy of a span from this monitor's own samples of a real sensor (trapezoids)."""
        self.sample()
        with self._lock:
            t = np.array(self._t) + self.t0
            p = np.array(self._total)
        inside = (t >= mark.start) & (t <= mark.end)
        ts, ps = t[inside], p[inside]
        if ts.size > 1:
            energy = integrate_j(ts, ps)
        else:
            energy = (float(ps[0]) if ps.size else 0.0) * (mark.end - mark.start)
        return EnergyMeasurement(mark.label, mark.count, mark.end - mark.start, energy, "measured",
                                 f"{self.source.source}, {ts.size} samples integrated")

    @property
    def marks(self) -> list[Mark]:
        with self._lock:
            return list(self._marks)

    # -- drawing ----------------------------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Push new samples and marks to the figure (one message per changed widget). False if nothing new."""
        with self._lock:
            if not (self._dirty or force):
                return False
            t = np.array(self._t, dtype=np.float64)
            total = np.array(self._total, dtype=np.float64)
            rails = np.array(self._rails, dtype=np.float64).reshape(len(t), len(self.rail_names)).T
            marks = list(self._marks)
            self._dirty = False
        self._last_refresh = time.perf_counter()
        if t.size:
            keep = t >= t[-1] - self.window_s
            t, total, rails = t[keep], total[keep], rails[:, keep]
        average = _trailing_mean(t, total, self.average_s)
        now = (time.perf_counter() - self.t0)
        lo = max(0.0, now - self.window_s)
        spans = [(max(m.start - self.t0, lo), (m.end if m.end is not None else time.perf_counter()) - self.t0, m)
                 for m in marks]
        spans = [s for s in spans if s[1] >= lo]
        x32 = f32(t)
        peaks = ([float(total.max())] if total.size else []) + ([float(rails.max())] if rails.size else [])
        highest = max(peaks, default=0.0)
        with hold(self.total_line, self.average_line, self.rail_lines, self.span_lines, self.span_labels,
                  self.table, self.status, self.y_scale):
            if highest > 0:
                self.y_scale.max = highest * HEADROOM
            self.total_line.x, self.total_line.y = x32, f32(total)
            self.average_line.x, self.average_line.y = x32, f32(average)
            if self.rail_names:
                self.rail_lines.x, self.rail_lines.y = x32, f32(rails)
            if spans:
                self.span_lines.x = np.array([[a, b] for a, b, _ in spans], dtype=np.float32)
                self.span_lines.y = np.full((len(spans), 2), BAND_Y, dtype=np.float32)
                self.span_lines.colors = [m.color for _, _, m in spans]
                self.span_lines.visible = True
                self.span_labels.x = np.array([(a + b) / 2 for a, b, _ in spans], dtype=np.float32)
                # numbers, not names (names of short spans run into each other), on cycling heights; a
                # number that would still touch its neighbour on the same height is left out (the table has it)
                self.span_labels.y = np.array([BAND_Y - 0.06 * (m.number % LABEL_ROWS) for _, _, m in spans],
                                              dtype=np.float32)
                self.span_labels.text = _spaced_numbers([((a + b) / 2, m.number) for a, b, m in spans],
                                                        width=max(1e-9, (t[-1] if t.size else now) - lo))
            else:
                self.span_lines.visible = False
                self.span_labels.text = []
            self.table.value = self._table_html(marks)
            self.status.value = self._status_html()
        self.refreshes += 1
        return True

    def _status_html(self) -> str:
        last = f"{format_watts(self._total[-1])}" if self._total else "-"
        state = "sampling" if self.running else "stopped"
        return (f"<small>{html.escape(self.source.reading_kind)} by: {html.escape(self.source.source)}<br>"
                f"{state}; last total {last} ({html.escape(self.source.reading_kind)}); "
                f"{self.samples_taken} samples, {self.sample_rate_hz:.1f} Hz achieved (measured)</small>")

    def _table_html(self, marks: list[Mark] | None = None) -> str:
        done = [m for m in (marks or []) if not m.open and m.energy is not None]
        if not done:
            return "<small>No marked spans yet: <code>with monitor.mark('dma', count=10): ...</code></small>"
        kind = html.escape(done[-1].energy.kind)
        head = ("<tr><th>#</th><th>what ran</th><th>time (measured)</th><th>items</th>"
                f"<th>energy ({kind})</th><th>per item</th><th>average power</th></tr>")
        rows = []
        for m in done:
            e = m.energy
            rows.append(f"<tr><td style='color:{m.color}'><b>{m.number}</b></td>"
                        f"<td style='color:{m.color}'><b>{html.escape(m.label)}</b></td>"
                        f"<td>{format_seconds(e.seconds)}</td><td>{m.count}</td><td>{format_joules(e.energy_j)}</td>"
                        f"<td>{format_joules(e.per_item_j)}</td><td>{format_watts(e.average_w)}</td></tr>")
        # Every span (up to MAX_MARKS), not the last few: the lesson's text refers to the early rows.
        return (f"<div style='max-height:330px;overflow-y:auto'><table>{head}{''.join(rows)}</table></div>")

    def energy_table(self) -> list[dict]:
        """The finished marks as records (label, count, seconds, energy, per item, kind ...)."""
        return [m.energy.to_dict() for m in self.marks if not m.open and m.energy is not None]


def _spaced_numbers(centres: list[tuple[float, int]], width: float) -> list[str]:
    """The text of each span's label: its number, or "" where it would touch the previous one on its height."""
    last: dict[int, float] = {}
    texts = []
    for x, number in centres:
        row, text = number % LABEL_ROWS, str(number)
        room = LABEL_EM * width * (len(text) + 1)
        if row in last and x - last[row] < room:
            texts.append("")
            continue
        last[row] = x
        texts.append(text)
    return texts


def _trailing_mean(t: np.ndarray, y: np.ndarray, span_s: float) -> np.ndarray:
    """Mean of ``y`` over the ``span_s`` seconds up to each sample (sample-weighted)."""
    if y.size == 0:
        return y
    csum = np.concatenate([[0.0], np.cumsum(y)])
    first = np.searchsorted(t, t - span_s, side="left")
    idx = np.arange(1, y.size + 1)
    return (csum[idx] - csum[first]) / (idx - first)
