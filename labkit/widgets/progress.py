"""A progress bar for :class:`labkit.bench.Sweep` in a notebook (the text bar's twin).

``Sweep(..., progress="auto")`` shows one by itself in a notebook; make your own to put it
somewhere else::

    progress = SweepProgress()
    display(progress)
    Sweep(methods, sizes, progress=progress).start()
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets

from ..bench import BenchRecord, format_size
from ..timing import format_seconds
from ._common import Throttle, hold, html_escape, measured_label

__all__ = ["SweepProgress"]


class SweepProgress(widgets.VBox):
    """Cells done out of cells to do, the cell running now, and any cell that failed.

    Updated from the sweep's thread through a :class:`~labkit.widgets._common.Throttle`
    (at most ``1 / throttle_s`` updates a second), always by setting traits, never by printing.
    """

    def __init__(self, *, throttle_s: float = 0.1, auto_display: bool = False, **kwargs: Any) -> None:
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description="bench", bar_style="info",
                                       layout=widgets.Layout(width="60%"))
        self.label = widgets.HTML(value="waiting to start")
        self.failures = widgets.HTML(value="")
        super().__init__(children=[widgets.HBox([self.bar, self.label]), self.failures], **kwargs)
        self.auto_display = auto_display
        self._throttle = Throttle(self._render, throttle_s, trailing=False)  # no drawing while a cell is timed
        self._total = 0
        self._done = 0
        self._current = ""
        self._failed: list[str] = []
        self._machine = ""
        self._started = 0.0
        self._finished: str | None = None

    # -- the reporter protocol of labkit.bench.Sweep ----------------------------------------------------
    def begin(self, sweep: Any) -> None:
        """Called in the caller's thread before the first cell: resets and (if asked) displays the bar."""
        self._total = len(sweep.cells)
        self._done = 0
        self._failed = []
        self._finished = None
        self._current = "starting"
        self._started = time.perf_counter()
        self._throttle.cancel()
        self._render()
        if self.auto_display:
            from IPython.display import display

            display(self)

    def cell(self, method: str, size: int) -> None:
        self._current = f"running {html_escape(method)} @ {format_size(size)}"
        self._throttle()

    def record(self, record: BenchRecord) -> None:
        self._done += 1
        self._machine = record.machine or self._machine
        if not record.ok:
            self._failed.append(html_escape(record.describe()))
        self._throttle()

    def end(self, sweep: Any) -> None:
        elapsed = time.perf_counter() - self._started
        state = "stopped" if getattr(sweep, "stopped", False) else "done"
        self._finished = (f"{state}: {self._done}/{self._total} cells in {format_seconds(elapsed)} "
                          f"({measured_label(self._machine)})")
        self._throttle.cancel()
        self._render()

    # -- drawing -------------------------------------------------------------------------------------------
    def _render(self) -> None:
        if self._finished is not None:
            style = "danger" if self._failed else ("warning" if self._finished.startswith("stopped") else "success")
            text = self._finished
        else:
            style = "danger" if self._failed else "info"
            text = f"{self._done}/{self._total} cells -- {self._current}"
        failed = ("<span style='color:#d62728'>failed: " + "<br>".join(self._failed[-10:]) + "</span>"
                  if self._failed else "")
        with hold(self.bar, self.label, self.failures):
            self.bar.max = max(1, self._total)
            self.bar.value = min(self._done, self.bar.max)
            self.bar.bar_style = style
            self.label.value = text
            self.failures.value = failed

    def flush(self) -> None:
        self._throttle.flush()
