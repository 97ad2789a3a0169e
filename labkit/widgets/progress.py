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

from ..results import BenchRecord, format_size
from ..timing import format_seconds, this_machine
from ._common import Throttle, hold, html_escape, measured_label

__all__ = ["SweepProgress", "transfer_progress"]


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


def transfer_progress(method: str, total_bytes: int, *, throttle_s: float = 0.2) -> Any:
    """A progress bar for one long transfer (``labkit.transfer.run(..., progress=True)``), displayed now.

    Returns the ``progress(bytes_done, bytes_total)`` function the transfer calls between its
    tiles or chunks; the bar redraws at most every ``throttle_s`` seconds and shows the total
    when done.  Its time is measured on this computer (a wall clock, not a board estimate).
    """
    from IPython.display import display

    bar = widgets.IntProgress(value=0, min=0, max=max(1, int(total_bytes)), description=method,
                              bar_style="info", layout=widgets.Layout(width="60%"))
    label = widgets.HTML(value=f"0 of {format_size(int(total_bytes))}")
    display(widgets.HBox([bar, label]))
    started = time.perf_counter()
    last = [float("-inf")]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < throttle_s:
            return
        last[0] = now
        with hold(bar, label):
            bar.value = int(done)
            text = f"{format_size(int(done))} of {format_size(int(total))}, {format_seconds(now - started)}"
            label.value = html_escape(f"{text} ({measured_label(this_machine())})" if done >= total else text)
            if done >= total:
                bar.bar_style = "success"

    return progress
