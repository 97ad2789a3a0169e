"""The simulated board's stream trace as a chart: what an ILA on the AXI-Stream links would show.

>>> chart = StreamTraceChart(ol, last=20); chart     # in a notebook
>>> chart.update()                                   # after the next transfers

One row per stream channel; each hand-over of beats is a bar from the consumer's first to its
last beat -- green when its last beat carried TLAST, red without TLAST, orange with TKEEP low --
and a grey bar before it for the time someone waited (back-pressure or a consumer waiting for
data).  Times are **modelled** (the simulated PL's timeline), in microseconds from the first bar.
On a real board there is no trace: :meth:`labkit.boardprobe.BoardProbe.stream_trace` says to add an ILA.
"""

from __future__ import annotations

from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..board import probe
from ._common import f32, hold, modelled_label

__all__ = ["StreamTraceChart", "TLAST_COLOR", "NO_TLAST_COLOR", "TKEEP_LOW_COLOR", "WAIT_COLOR"]

TLAST_COLOR, NO_TLAST_COLOR, TKEEP_LOW_COLOR, WAIT_COLOR = "#2ca02c", "#d62728", "#ff7f0e", "#c7c7c7"


def _color(record: Any) -> str:
    if not record.tkeep:
        return TKEEP_LOW_COLOR
    return TLAST_COLOR if record.tlast else NO_TLAST_COLOR


class StreamTraceChart(widgets.VBox):
    """The last ``last`` stream hand-overs of the simulated board behind ``overlay``."""

    def __init__(self, overlay: Any, *, last: int = 20, **kwargs: Any) -> None:
        self.probe = probe(overlay)
        self.last = int(last)
        self.x = bq.LinearScale(min=0.0)
        self.y = bq.OrdinalScale()
        self.bars = bq.Lines(x=f32(np.zeros((1, 2))), y=[["", ""]], scales={"x": self.x, "y": self.y},
                             stroke_width=10, colors=[TLAST_COLOR])
        self.waits = bq.Lines(x=f32(np.zeros((1, 2))), y=[["", ""]], scales={"x": self.x, "y": self.y},
                              stroke_width=4, colors=[WAIT_COLOR])
        axes = [bq.Axis(scale=self.x, label="us from the first hand-over (" + modelled_label("stream timeline") + ")"),
                bq.Axis(scale=self.y, orientation="vertical")]
        self.figure = bq.Figure(marks=[self.waits, self.bars], axes=axes, title="stream trace (what an ILA shows)",
                                layout=widgets.Layout(width="100%", height="280px"),
                                fig_margin={"top": 40, "bottom": 45, "left": 330, "right": 20})
        self.legend = widgets.HTML(
            f"<small><span style='color:{TLAST_COLOR}'>&#9632;</span> beats ending in TLAST &nbsp; "
            f"<span style='color:{NO_TLAST_COLOR}'>&#9632;</span> no TLAST &nbsp; "
            f"<span style='color:{TKEEP_LOW_COLOR}'>&#9632;</span> TKEEP low &nbsp; "
            f"<span style='color:{WAIT_COLOR}'>&#9632;</span> waiting (back-pressure, or a consumer "
            "waiting for data)</small>")
        self.text = widgets.HTML()
        super().__init__(children=[self.figure, self.legend, self.text], **kwargs)
        self.update()

    def update(self) -> None:
        """Redraw from the board's trace (one message per mark)."""
        records = self.probe.stream_trace(self.last)
        pending = self.probe.stream_pending()
        if records:
            t0 = min(min(r.offered, r.start) for r in records)
            rows = [f"{r.producer} -> {r.consumer}" for r in records]
            bars = np.array([[(r.start - t0) * 1e6, (r.end - t0) * 1e6] for r in records])
            waits = np.array([[(r.start - r.wait_s - t0) * 1e6, (r.start - t0) * 1e6] for r in records])
            colors = [_color(r) for r in records]
        else:
            rows, bars, waits, colors = [""], np.zeros((1, 2)), np.zeros((1, 2)), [TLAST_COLOR]
        waiting = [p.describe() for p in pending if p.queued_beats or p.waiting]
        with hold(self.bars, self.waits, self.text):
            self.bars.x, self.bars.y, self.bars.colors = f32(bars), [[r, r] for r in rows], colors
            self.waits.x, self.waits.y = f32(waits), [[r, r] for r in rows]
            self.text.value = "<b>waiting now:</b> " + ("<br>".join(waiting) if waiting else "nothing")
