"""Results: what a run, a benchmark cell or a classifier call found -- plain data, no engines.

Widgets, the command line and the classroom tools import these types and never the engines that
make them (``labkit.transfer``, ``labkit.bench``, ``labkit.classifier.accelerator``), so
showing a result never drags a board along, and there are no import circles.

Every duration here is one of three kinds (see :mod:`labkit.timing`): **measured** on the
machine named in the result, **modelled** PL/bus time of the simulated board, **estimated** time
on the simulated board's profile.  ``None`` means "not this kind on this board" (a real board
models nothing and estimates nothing).
"""

from __future__ import annotations

import datetime as _dt
import math
import statistics
import traceback
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import BenchError
from .timing import Timing, format_seconds

__all__ = ["Phase", "TransferResult", "AcceleratorRun", "Stats", "summarize", "PhaseStats", "BenchRecord",
           "modelled_busy_s", "format_size", "profile_of", "labelled"]


def profile_of(label: str) -> str:
    """The board of a result's board label, without how it ran: ``"PYNQ-Z1 (simulated, ...)"`` -> ``"PYNQ-Z1"``."""
    return label.split(" (")[0]


def labelled(seconds: float | None, kind: str, board: str, machine: str) -> Timing | None:
    """One duration of a result as a :class:`~labkit.timing.Timing` that says its kind and source:
    measured on ``machine``; modelled or estimated for ``board`` (None when the board has no such time)."""
    if seconds is None:
        return None
    source = machine if kind == "measured" else (f"{board} model" if kind == "modelled" else
                                                 f"{profile_of(board)} board profile")
    return Timing(float(seconds), kind, source)  # type: ignore[arg-type]  -- kind is checked by Timing


# -- transfers ------------------------------------------------------------------------------------------

@dataclass
class Phase:
    """One phase of a transfer, summed over its repetitions (tiles, chunks)."""

    name: str
    measured: float = 0.0  #: seconds, wall clock on this computer
    modelled: float | None = None  #: PL/bus seconds (simulated board only)
    estimated: float | None = None  #: seconds on the simulated board's profile (simulated board only)
    count: int = 0  #: how many times the phase ran


@dataclass
class TransferResult:
    """What one transfer did and how long each part took (three kinds of time, kept apart)."""

    method: str
    kernel: str
    board: str
    simulated: bool
    pace: str | None
    machine: str  #: the computer that measured
    nbytes_in: int  #: payload the PS sent to the PL
    nbytes_out: int  #: results the PS got back
    phases: list[Phase]
    verified: bool
    mismatches: int
    output: np.ndarray = field(repr=False)
    intervals: list = field(default_factory=list, repr=False)  #: modelled PL intervals (simulated board)
    options: dict[str, Any] = field(default_factory=dict)
    scale: str = ""  #: how the board estimate scaled Python time

    @property
    def measured(self) -> float:
        return sum(p.measured for p in self.phases)

    @property
    def modelled(self) -> float | None:
        return None if not self.simulated else sum(p.modelled or 0.0 for p in self.phases)

    @property
    def estimated(self) -> float | None:
        return None if not self.simulated else sum(p.estimated or 0.0 for p in self.phases)

    @property
    def mb_per_s(self) -> float:
        """Measured MB/s of the input payload (10**6 bytes per second)."""
        return self.nbytes_in / self.measured / 1e6 if self.measured else float("inf")

    @property
    def estimated_mb_per_s(self) -> float | None:
        est = self.estimated
        return None if not est else self.nbytes_in / est / 1e6

    def timed(self, kind: str, phase: str | None = None) -> Timing | None:
        """The run's (or one phase's) time of one ``kind``, labelled: ``result.timed("estimated", "write")``."""
        seconds = getattr(self, kind) if phase is None else getattr(self.phase(phase), kind)
        return labelled(seconds, kind, self.board, self.machine)

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(f"{self.method} has no phase {name!r}; phases: {[p.name for p in self.phases]}")

    def table(self) -> str:
        where = f"measured on {self.machine}"
        head = (f"{self.method} ({self.kernel}) on {self.board}: {self.nbytes_in:,} bytes in, "
                f"{self.nbytes_out:,} out, verified: {self.verified}")
        lines = [head, f"{'phase':<12}{'measured':>14}{'modelled PL/bus':>18}{'estimated board':>18}"]
        for p in self.phases + [Phase("TOTAL", self.measured, self.modelled, self.estimated, 1)]:
            mod = format_seconds(p.modelled) if p.modelled is not None else "-"
            est = format_seconds(p.estimated) if p.estimated is not None else "-"
            lines.append(f"{p.name:<12}{format_seconds(p.measured):>14}{mod:>18}{est:>18}")
        lines.append(f"({where}; modelled/estimated: simulated board only)" if self.simulated else f"({where})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.table())

    def to_dict(self) -> dict[str, Any]:
        """A flat record for CSV/JSON (labkit.bench)."""
        record: dict[str, Any] = {
            "method": self.method, "kernel": self.kernel, "board": self.board, "simulated": self.simulated,
            "pace": self.pace, "machine": self.machine, "nbytes_in": self.nbytes_in,
            "nbytes_out": self.nbytes_out, "verified": self.verified, "mismatches": self.mismatches,
            "measured_s": self.measured, "modelled_s": self.modelled, "estimated_s": self.estimated,
            "mb_per_s": self.mb_per_s, "estimated_mb_per_s": self.estimated_mb_per_s,
        }
        for p in self.phases:
            key = p.name.replace(" ", "_")
            record[f"{key}_measured_s"] = p.measured
            record[f"{key}_modelled_s"] = p.modelled
            record[f"{key}_estimated_s"] = p.estimated
        record.update({f"opt_{k}": v for k, v in self.options.items()})
        return record


# -- the classifier accelerator ---------------------------------------------------------------------------

@dataclass
class AcceleratorRun:
    """Where the time of one :meth:`CnnAccelerator.classify` call went (all its batches summed)."""

    images: int
    calls: int  #: kernel runs (DMA transfers each way)
    max_batch: int
    measured: dict[str, float]  #: seconds per stage, wall clock on this computer
    modelled: dict[str, float] | None  #: PL seconds: transfer, compute, read back (simulated board)
    estimated: dict[str, float] | None  #: seconds per stage on the simulated board's profile
    board: str
    machine: str
    intervals: list = field(default_factory=list, repr=False)  #: the modelled PL intervals of the calls

    @property
    def measured_s(self) -> float:
        return sum(self.measured.values())

    @property
    def modelled_s(self) -> float | None:
        return None if self.modelled is None else sum(self.modelled.values())

    @property
    def estimated_s(self) -> float | None:
        return None if self.estimated is None else sum(self.estimated.values())

    def timed(self, kind: str) -> Timing | None:
        """The call's total time of one ``kind`` (measured, modelled, estimated), labelled."""
        return labelled(getattr(self, f"{kind}_s"), kind, self.board, self.machine)

    def table(self) -> str:
        head = f"{self.images} image(s) in {self.calls} kernel run(s) of at most {self.max_batch}, on {self.board}"
        lines = [head, f"{'stage':<11}{'measured':>12}{'estimated board':>17}"]
        for name, seconds in self.measured.items():
            est = format_seconds(self.estimated[name]) if self.estimated else "-"
            lines.append(f"{name:<11}{format_seconds(seconds):>12}{est:>17}")
        total_est = format_seconds(self.estimated_s) if self.estimated else "-"
        lines.append(f"{'TOTAL':<11}{format_seconds(self.measured_s):>12}{total_est:>17}")
        if self.modelled is not None:
            parts = ", ".join(f"{k} {format_seconds(v)}" for k, v in self.modelled.items())
            lines.append(f"modelled PL time {format_seconds(self.modelled_s)}: {parts}")
            lines.append(f"(measured on {self.machine}; modelled and estimated: simulated board)")
        else:
            lines.append(f"(measured on {self.machine})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.table())


# -- statistics ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stats:
    """Median and spread of a list of samples (seconds)."""

    n: int
    median: float
    min: float
    max: float
    q1: float  #: first quartile (inclusive method)
    q3: float  #: third quartile

    @property
    def spread(self) -> float:
        """max - min: the whole range the repeats covered."""
        return self.max - self.min

    @property
    def iqr(self) -> float:
        """q3 - q1: the middle half of the repeats."""
        return self.q3 - self.q1


def summarize(samples: Iterable[float]) -> Stats:
    """Median, min, max and quartiles of ``samples``.

    >>> s = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> s.median, s.spread, s.iqr
    (3.0, 99.0, 2.0)
    """
    values = [float(v) for v in samples]
    if not values:
        raise BenchError("summarize() needs at least one sample, got none")
    if any(math.isnan(v) for v in values):
        raise BenchError(f"summarize() got NaN among its samples: {values}")
    if len(values) == 1:
        q1 = q3 = values[0]
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Stats(len(values), statistics.median(values), min(values), max(values), q1, q3)


def _median_or_none(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def modelled_busy_s(intervals: Iterable[Any], labels: Iterable[str] | None = None,
                    exclude: Iterable[str] = ("stall",)) -> float:
    """Modelled time during which at least one PL stage is busy: the union of ``intervals``.

    Gaps where the PL waits for the PS (to start the next call) are left out, so this is
    the *PL-only* time of a run.  ``labels`` keeps only those stages ("LB", "COM", "SB" ...);
    ``exclude`` drops stages that are not work (by default the "stall" intervals).
    """
    wanted = set(labels) if labels is not None else None
    skip = set(exclude)
    spans = sorted((iv.start, iv.end) for iv in intervals
                   if (wanted is None or iv.label in wanted) and iv.label not in skip and iv.end > iv.start)
    total, cur_start, cur_end = 0.0, None, None
    for start, end in spans:
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


# -- records ---------------------------------------------------------------------------------------------------

@dataclass
class PhaseStats:
    """Median over the repeats of one phase's three kinds of time (seconds)."""

    measured_s: float
    modelled_s: float | None = None
    estimated_s: float | None = None
    count: int = 0  #: how often the phase ran in one transfer


@dataclass
class BenchRecord:
    """One ``(method, size)`` cell of a benchmark: its repeats and their statistics.

    Times are seconds.  ``samples_s`` holds the measured total of every repeat (after the
    warm-up); ``median_s``, ``min_s``, ``max_s``, ``q1_s`` and ``q3_s`` summarise them.
    ``cold_s`` is the first warm-up run (``None`` without warm-up).  ``modelled_s``,
    ``estimated_s`` and ``pl_busy_s`` (the union of the modelled PL intervals, see
    :func:`modelled_busy_s`) are medians too, and ``None`` on a real board.  A cell that
    failed has ``error`` set and no samples.
    """

    method: str
    size: int  #: bytes asked for (make_input's nbytes)
    nbytes_in: int = 0  #: bytes the PS actually sent to the PL
    nbytes_out: int = 0
    repeats: int = 0
    warmup: int = 0
    samples_s: list[float] = field(default_factory=list)
    median_s: float = math.nan
    min_s: float = math.nan
    max_s: float = math.nan
    q1_s: float = math.nan
    q3_s: float = math.nan
    cold_s: float | None = None
    modelled_s: float | None = None
    estimated_s: float | None = None
    pl_busy_s: float | None = None
    verified: bool = False  #: every repeat returned the right answer
    mismatches: int = 0  #: most wrong output words of any repeat
    phases: dict[str, PhaseStats] = field(default_factory=dict)
    kernel: str = ""
    board: str = ""
    simulated: bool = False
    pace: str | None = None
    machine: str = ""  #: the computer whose clock measured
    options: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  #: "ExceptionType: message" if the cell failed
    traceback: str | None = field(default=None, repr=False)
    started_at: str = ""  #: ISO 8601, UTC

    # -- derived ------------------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples_s)

    @property
    def spread_s(self) -> float:
        """max - min of the repeats (what the table calls "spread min-max")."""
        return self.max_s - self.min_s

    @property
    def iqr_s(self) -> float:
        return self.q3_s - self.q1_s

    @property
    def mb_per_s(self) -> float | None:
        """Measured MB/s (10**6 bytes per second) of the input payload at the median time."""
        if not self.ok or not self.median_s:
            return None
        return self.nbytes_in / self.median_s / 1e6

    @property
    def estimated_mb_per_s(self) -> float | None:
        if not self.ok or not self.estimated_s:
            return None
        return self.nbytes_in / self.estimated_s / 1e6

    @property
    def stats(self) -> Stats:
        return summarize(self.samples_s)

    def describe(self) -> str:
        """One line: method, size, median (measured) and spread, or the error."""
        if not self.ok:
            return f"{self.method} @ {format_size(self.size)}: FAILED -- {self.error}"
        text = (f"{self.method} @ {format_size(self.size)}: median {format_seconds(self.median_s)} measured "
                f"(min-max {format_seconds(self.min_s)}-{format_seconds(self.max_s)}, {self.repeats} repeats)")
        if self.estimated_s is not None:
            text += f", {format_seconds(self.estimated_s)} estimated on {profile_of(self.board)}"
        return text if self.verified else text + " -- NOT VERIFIED"

    # -- building ---------------------------------------------------------------------------------------
    @classmethod
    def from_results(cls, method: str, size: int, results: Sequence[Any], cold: Any | None = None,
                     *, warmup: int = 0) -> "BenchRecord":
        """Summarise the :class:`~labkit.transfer.TransferResult` of every repeat of one cell."""
        if not results:
            raise BenchError(f"{method} @ {size} B: no repeats to summarise")
        first = results[0]
        stats = summarize(r.measured for r in results)
        phases: dict[str, PhaseStats] = {}
        for name in [p.name for p in first.phases]:
            found = [r.phase(name) for r in results if any(p.name == name for p in r.phases)]
            phases[name] = PhaseStats(
                measured_s=statistics.median(p.measured for p in found),
                modelled_s=_median_or_none(p.modelled for p in found),
                estimated_s=_median_or_none(p.estimated for p in found),
                count=max(p.count for p in found))
        busy = [modelled_busy_s(r.intervals) for r in results] if first.simulated else []
        return cls(
            method=method, size=int(size), nbytes_in=first.nbytes_in, nbytes_out=first.nbytes_out,
            repeats=len(results), warmup=warmup, samples_s=[float(r.measured) for r in results],
            median_s=stats.median, min_s=stats.min, max_s=stats.max, q1_s=stats.q1, q3_s=stats.q3,
            cold_s=float(cold.measured) if cold is not None else None,
            modelled_s=_median_or_none(r.modelled for r in results),
            estimated_s=_median_or_none(r.estimated for r in results),
            pl_busy_s=statistics.median(busy) if busy else None,
            verified=all(r.verified for r in results), mismatches=max(max(r.mismatches, 0) for r in results),
            phases=phases, kernel=first.kernel, board=first.board, simulated=first.simulated, pace=first.pace,
            machine=first.machine, options=_plain(first.options), started_at=_now())

    @classmethod
    def failed(cls, method: str, size: int, exc: BaseException, *, board: str = "", simulated: bool = False,
               pace: str | None = None, machine: str = "", options: Mapping[str, Any] | None = None) -> "BenchRecord":
        """The record of a cell that raised ``exc``."""
        return cls(method=method, size=int(size), error=f"{type(exc).__name__}: {exc}",
                   traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                   board=board, simulated=simulated, pace=pace, machine=machine, options=_plain(options or {}),
                   started_at=_now())

    # -- (de)serialising -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (``phases`` as nested dicts); :meth:`from_dict` reverses it."""
        data = asdict(self)
        for key in _STAT_FIELDS:
            if isinstance(data[key], float) and math.isnan(data[key]):
                data[key] = None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "BenchRecord":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise BenchError(f"not a labkit bench record: unknown fields {sorted(unknown)}")
        values = dict(data)
        for key in _STAT_FIELDS:
            if values.get(key) is None:
                values[key] = math.nan
        values["phases"] = {name: PhaseStats(**p) for name, p in (values.get("phases") or {}).items()}
        values["samples_s"] = [float(v) for v in values.get("samples_s") or []]
        return cls(**values)


#: the statistics of a record: NaN while it has no samples (None in JSON, which has no NaN)
_STAT_FIELDS = ("median_s", "min_s", "max_s", "q1_s", "q3_s")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _plain(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options as JSON-friendly values (numpy scalars become Python numbers)."""
    out = {}
    for key, value in options.items():
        if hasattr(value, "item") and callable(value.item):
            value = value.item()
        out[str(key)] = value if isinstance(value, (bool, int, float, str, type(None))) else repr(value)
    return out


def format_size(nbytes: int) -> str:
    """1048576 -> '1 MiB', 65536 -> '64 KiB', 22400 -> '22,400 B'."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= factor and nbytes % factor == 0:
            return f"{nbytes // factor} {unit}"
    return f"{nbytes:,} B"
