"""The watchdog, live: every call on a timeline against the calibrated threshold, anomalies and
reconfigurations marked, counters and throughput.

>>> wd = watch_accelerator(acc); wd.calibrate(batches[:30])
>>> view = WatchdogView(wd); view                      # in a notebook
>>> wd.run(batches)                                    # the chart follows, at most ~10 redraws a second

Built once; each redraw sets the marks' data inside ``hold_sync`` (one message per mark), over the
last ``window`` calls, as float32.  Times are **measured** (wall clock on this machine).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..timing import format_seconds, this_machine
from ._common import Throttle, f32, hold, measured_label

__all__ = ["WatchdogView"]

OK_COLOR, ANOMALY_COLOR, RECOVERY_COLOR, ALARM_COLOR, THRESHOLD_COLOR = \
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"


class WatchdogView(widgets.VBox):
    """A live view of a :class:`labkit.watchdog.Watchdog` (it subscribes to the watchdog's events)."""

    def __init__(self, watchdog: Any, *, window: int = 500, throttle_s: float = 0.1, **kwargs: Any) -> None:
        self.watchdog = watchdog
        self.window = int(window)
        self._calls: deque[tuple[float, float, bool]] = deque(maxlen=self.window)  # (t, seconds, anomaly)
        self._recoveries: deque[float] = deque(maxlen=self.window)
        self._alarms: deque[float] = deque(maxlen=self.window)
        self._thresholds: deque[tuple[float, float]] = deque(maxlen=self.window)
        self._t0: float | None = None
        self._done = 0
        self._started = time.perf_counter()
        x, y = bq.LinearScale(), bq.LinearScale(min=0.0)
        self.calls = bq.Scatter(x=f32([]), y=f32([]), scales={"x": x, "y": y}, colors=[OK_COLOR],
                                default_size=16, labels=["calls"], display_legend=True)
        self.anomalies = bq.Scatter(x=f32([]), y=f32([]), scales={"x": x, "y": y}, colors=[ANOMALY_COLOR],
                                    marker="cross", default_size=48, labels=["anomalies"], display_legend=True)
        self.threshold = bq.Lines(x=f32([0, 1]), y=f32([0, 0]), scales={"x": x, "y": y}, colors=[THRESHOLD_COLOR],
                                  line_style="dashed", labels=["threshold"], display_legend=True,
                                  interpolation="step-after")
        self.recoveries = bq.Scatter(x=f32([]), y=f32([]), scales={"x": x, "y": y}, colors=[RECOVERY_COLOR],
                                     marker="triangle-up", default_size=48, labels=["reconfigurations"],
                                     display_legend=True)
        self.alarms = bq.Scatter(x=f32([]), y=f32([]), scales={"x": x, "y": y}, colors=[ALARM_COLOR],
                                 marker="diamond", default_size=80, labels=["alarms"], display_legend=True)
        axes = [bq.Axis(scale=x, label="seconds since the first call (measured)"),
                bq.Axis(scale=y, orientation="vertical", label="call time, ms (measured)", tick_format=".1f")]
        self.figure = bq.Figure(marks=[self.threshold, self.calls, self.anomalies, self.recoveries, self.alarms],
                                axes=axes, title=f"watchdog: {watchdog.name}", legend_location="top-left",
                                layout=widgets.Layout(width="100%", height="320px"),
                                fig_margin={"top": 40, "bottom": 40, "left": 60, "right": 20})
        self.counters = widgets.HTML()
        self.note = widgets.HTML(value=f"<small>{measured_label(this_machine())}</small>")
        super().__init__(children=[self.figure, self.counters, self.note], **kwargs)
        self._throttle = Throttle(self._render, throttle_s, defer_while=lambda: False)
        if watchdog.threshold_s is not None:
            self._thresholds.append((0.0, watchdog.threshold_s))
        watchdog.listeners.append(self.on_event)
        self._render()

    # -- events (called in whatever thread runs the watchdog) ------------------------------------------------
    def on_event(self, event: Any) -> None:
        if self._t0 is None:
            self._t0 = event.t
        t = event.t - self._t0
        if event.kind in ("ok", "anomaly") and event.measured is not None:
            self._calls.append((t, event.measured.seconds, event.kind == "anomaly"))
        elif event.kind == "recovery":
            self._recoveries.append(t)
        elif event.kind == "alarm":
            self._alarms.append(t)
        elif event.kind in ("threshold", "calibrated") and self.watchdog.threshold_s is not None:
            self._thresholds.append((t, self.watchdog.threshold_s))
        if event.kind in ("ok", "flagged") and event.index is not None:
            self._done += 1
        self._throttle()

    def flush(self) -> None:
        """Draw what is pending now (the end of a run)."""
        self._throttle.flush()

    def close(self) -> None:
        if self.on_event in self.watchdog.listeners:
            self.watchdog.listeners.remove(self.on_event)
        self._throttle.cancel()
        super().close()

    # -- drawing ------------------------------------------------------------------------------------------------
    def _render(self) -> None:
        calls = np.array(self._calls, dtype=np.float64).reshape(-1, 3)
        t, ms, bad = calls[:, 0], calls[:, 1] * 1e3, calls[:, 2].astype(bool)
        top = float(max(ms.max() if len(ms) else 0.0, (self.watchdog.threshold_s or 0.0) * 1e3)) * 1.1 or 1.0
        end = float(t.max()) if len(t) else 1.0
        steps = list(self._thresholds) or [(0.0, 0.0)]
        tx = [s[0] for s in steps] + [end]
        ty = [s[1] * 1e3 for s in steps] + [steps[-1][1] * 1e3]
        c = self.watchdog.counters()
        elapsed = time.perf_counter() - self._started
        with hold(self.calls, self.anomalies, self.threshold, self.recoveries, self.alarms, self.counters):
            self.calls.x, self.calls.y = f32(t[~bad]), f32(ms[~bad])
            self.anomalies.x, self.anomalies.y = f32(t[bad]), f32(np.minimum(ms[bad], top))
            self.threshold.x, self.threshold.y = f32(tx), f32(ty)
            self.recoveries.x = f32(list(self._recoveries))
            self.recoveries.y = f32([top * 0.95] * len(self._recoveries))
            self.alarms.x, self.alarms.y = f32(list(self._alarms)), f32([top * 0.85] * len(self._alarms))
            self.counters.value = (
                f"<b>calls</b> {c['calls']} &nbsp; <b>anomalies</b> {c['anomalies']} &nbsp; "
                f"<b>recoveries</b> {c['recoveries']} &nbsp; <b>alarms</b> {c['alarms']} &nbsp; "
                f"<b>threshold</b> {format_seconds(self.watchdog.threshold_s or 0.0)} &nbsp; "
                f"<b>throughput</b> {self._done / elapsed if elapsed > 0 else 0.0:.1f} inputs/s (measured)")
