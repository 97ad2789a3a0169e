"""Benchmarks of the transfer methods: warm-up, repeats, median and spread, sweeps, records.

>>> import labkit
>>> from labkit.bench import Sweep
>>> ol = labkit.open_board()
>>> sweep = Sweep(["array_slice", "dma"], ["22400", "1M"], overlay=ol, repeats=5, warmup=1)
>>> records = sweep.run()              # blocking; a progress bar shows how far it got
>>> print(sweep.table())               # per size: median, spread, MB/s, ratio to the fastest
>>> sweep.save_csv("results/bench.csv"); sweep.save_json("results/bench.json")

A :class:`Sweep` goes through every ``(method, size)`` *cell*: it builds the input with
:func:`labkit.transfer.make_input`, prepares one :class:`labkit.transfer.Transfer` (buffers
allocated once), runs it ``warmup`` times (the first of those is kept as the *cold* run) and
then ``repeats`` times, and turns the repeats into one :class:`BenchRecord`.  Observers
(:meth:`Sweep.subscribe`: the widgets of :mod:`labkit.widgets`, a progress bar, your own
function) get each record as soon as it exists.

In a notebook, ``sweep.start()`` runs the sweep in a background thread so the notebook stays
usable; ``sweep.stop()`` stops it after the repeat in progress and ``sweep.join()`` waits for
it.  A cell that fails is recorded (``record.error``) and the sweep goes on with the next cell;
:meth:`Sweep.run` and :meth:`Sweep.join` raise :class:`BenchError` at the end if any cell failed.

Statistics (see :func:`summarize`): the **median** of the repeats' measured totals, the
**spread** as *min-max* (``max_s - min_s``; the table prints the range) and the inter-quartile
range ``iqr_s`` (quartiles with the inclusive method of :func:`statistics.quantiles`).  Every
time is labelled with its kind (DESIGN.md): *measured* on ``record.machine``; *modelled* PL/bus
time and *estimated* board time only on the simulated board (``None`` on a real board).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import json
import math
import re
import statistics
import sys
import threading
import traceback
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from .board import board_label, profile_of
from .classroom.records import autosave
from .errors import LabkitError
from .timing import format_seconds

__all__ = [
    "BenchRecord", "PhaseStats", "Stats", "Sweep", "BenchError", "summarize", "measure", "modelled_busy_s",
    "measuring", "comparison_table", "save_csv", "save_json", "load_csv", "load_json", "parse_size", "parse_sizes",
    "format_size", "TextProgress", "DEFAULT_SIZES",
]

JSON_FORMAT = "labkit-bench"
JSON_VERSION = 1
DEFAULT_SIZES = (22400, 1 << 20)  #: the forum's 70x80 image of 32-bit pixels, and 1 MiB


class BenchError(LabkitError, RuntimeError):
    """A benchmark was set up wrongly, or one of its cells failed (the records say which)."""

    def __init__(self, message: str, records: Sequence["BenchRecord"] = ()) -> None:
        super().__init__(message)
        self.records = list(records)  #: the records of the failed cells


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


# -- sizes -----------------------------------------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str | int) -> int:
    """Bytes from ``22400``, ``"22400"``, ``"64K"``, ``"64KiB"``, ``"1M"``, ``"1.5M"`` (K, M, G are 1024-based)."""
    if isinstance(text, bool):
        raise BenchError(f"a size is a number of bytes, got {text!r}")
    if isinstance(text, int):
        value = text
    else:
        match = _SIZE_RE.match(str(text))
        unit = match.group(2).lower() if match else None
        if not match or unit not in _UNITS:
            raise BenchError(f"cannot read the size {text!r}: expected bytes such as 22400, 64K, 1M or 1MiB "
                             "(K, M and G count in 1024s)")
        value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise BenchError(f"a size must be at least 1 byte, got {text!r}")
    return value


def parse_sizes(text: str | int | Iterable[str | int]) -> list[int]:
    """``"22400,64K,1M"`` or ``[22400, "64K"]`` -> ``[22400, 65536, 1048576]``."""
    if isinstance(text, (str, int)):
        parts = [p for p in str(text).replace(" ", ",").split(",") if p]
    else:
        parts = list(text)
    if not parts:
        raise BenchError("no sizes given: expected e.g. 22400,64K,1M")
    return [parse_size(p) for p in parts]


def format_size(nbytes: int) -> str:
    """1048576 -> '1 MiB', 65536 -> '64 KiB', 22400 -> '22,400 B'."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= factor and nbytes % factor == 0:
            return f"{nbytes // factor} {unit}"
    return f"{nbytes:,} B"


# -- measuring one cell ----------------------------------------------------------------------------------------

_timing_now = 0  # how many measure() calls are timing repeats right now (any thread)
_timing_lock = threading.Lock()


def measuring() -> bool:
    """True while some :func:`measure` is timing its runs (widgets wait with their redraws until it is done)."""
    return _timing_now > 0


@contextlib.contextmanager
def _timing() -> Iterator[None]:
    global _timing_now
    with _timing_lock:
        _timing_now += 1
    try:
        yield
    finally:
        with _timing_lock:
            _timing_now -= 1


def measure(method: str, overlay: Any, nbytes: int | str | None = None, *, data: Any = None, repeats: int = 5,
            warmup: int = 1, seed: int = 0, verify: bool = True, stop: threading.Event | None = None,
            keep: list | None = None, **options: Any) -> BenchRecord:
    """Benchmark one method at one size: warm-up, then ``repeats`` timed runs -> a :class:`BenchRecord`.

    Give ``nbytes`` (the input comes from :func:`labkit.transfer.make_input`) or your own
    ``data``.  Raises what the transfer raises (a failed verification is *not* an error: the
    record says ``verified=False``).  ``stop`` (an event) ends the cell early: then a
    :class:`BenchError` is raised.  ``keep``, if given, receives the last
    :class:`~labkit.transfer.TransferResult` (for its modelled intervals).
    """
    from . import transfer

    _check_counts(repeats, warmup)
    if data is None:
        if nbytes is None:
            raise BenchError(f"measure({method!r}) needs nbytes (a size) or data (an input array)")
        size = parse_size(nbytes)
        data = transfer.make_input(method, size, seed=seed)
    else:
        size = int(parse_size(nbytes)) if nbytes is not None else int(getattr(data, "nbytes", 0))
    results = []
    cold = None
    with transfer.Transfer(method, overlay, data, **options) as prepared, _timing():
        for i in range(warmup + repeats):
            if stop is not None and stop.is_set():
                raise BenchError(f"{method} @ {format_size(size)}: stopped before its {repeats} repeats finished")
            result = prepared.run(verify=verify)
            if i == 0 and warmup:
                cold = result
            if i >= warmup:
                results.append(result)
    if keep is not None:
        keep.append(results[-1])
    return BenchRecord.from_results(method, size, results, cold, warmup=warmup)


def _check_counts(repeats: int, warmup: int) -> None:
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise BenchError(f"repeats must be a whole number >= 1 (a median needs samples), got {repeats!r}")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise BenchError(f"warmup must be a whole number >= 0, got {warmup!r}")


# -- progress --------------------------------------------------------------------------------------------------

class TextProgress:
    """A text progress bar for terminals (tqdm, on stderr): one step per cell."""

    def __init__(self, file: Any = None) -> None:
        self.file = file if file is not None else sys.stderr
        self._bar = None

    def begin(self, sweep: "Sweep") -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=len(sweep.cells), file=self.file, unit="cell", desc="labkit bench", leave=False,
                         dynamic_ncols=True)

    def cell(self, method: str, size: int) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"{method} @ {format_size(size)}", refresh=True)

    def record(self, record: BenchRecord) -> None:
        if self._bar is not None:
            if not record.ok:
                self._bar.write(f"FAILED: {record.describe()}", file=self.file)
            self._bar.update(1)

    def end(self, sweep: "Sweep") -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a widget can show progress)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # noqa: BLE001 -- no usable IPython
        return False
    return ip is not None and getattr(ip, "kernel", None) is not None


def _progress_reporter(progress: Any) -> Any:
    if progress in (None, False, "none"):
        return None
    if progress == "auto":
        if in_notebook():
            progress = "widget"
        elif getattr(sys.stderr, "isatty", lambda: False)():
            progress = "text"
        else:
            return None
    if progress is True:
        progress = "widget" if in_notebook() else "text"
    if progress == "text":
        return TextProgress()
    if progress == "widget":
        from .widgets.progress import SweepProgress

        return SweepProgress(auto_display=True)
    if all(hasattr(progress, name) for name in ("begin", "cell", "record", "end")):
        return progress
    raise BenchError(f"progress must be 'auto', 'widget', 'text', None or an object with begin/cell/record/end, "
                     f"got {progress!r}")


# -- the sweep -------------------------------------------------------------------------------------------------

Observer = Callable[[BenchRecord], Any]


class Sweep:
    """Benchmark every method at every size.

    Parameters
    ----------
    methods:
        Names from :data:`labkit.transfer.METHODS` (a list, or one comma-separated string).
    sizes:
        Input sizes in bytes (ints or strings like ``"64K"``, ``"1M"``; see :func:`parse_size`).
    overlay:
        The lab's overlay (``labkit.open_board()``); opened with default settings if not given.
    repeats, warmup:
        Timed runs per cell, and untimed runs before them (the first one is the *cold* run).
    options:
        Options per method, e.g. ``{"dma": {"chunk_words": 4096}}`` (see :func:`labkit.transfer.run`).
    seed, verify:
        Passed to ``make_input`` and ``Transfer.run``.
    keep_results:
        Keep the last :class:`~labkit.transfer.TransferResult` of every cell in :attr:`results`
        (for timelines: it holds the modelled intervals).
    progress:
        ``"auto"`` (a widget in a notebook, a text bar in a terminal), ``"widget"``, ``"text"``,
        ``None``, or your own object with ``begin(sweep)``, ``cell(method, size)``,
        ``record(record)`` and ``end(sweep)``.

    Cells run in order: every size of the first method, then the next method.
    """

    def __init__(self, methods: Iterable[str] | str, sizes: Iterable[int | str] | int | str, *,
                 overlay: Any = None, repeats: int = 5, warmup: int = 1,
                 options: Mapping[str, Mapping[str, Any]] | None = None, seed: int = 0, verify: bool = True,
                 keep_results: bool = False, progress: Any = "auto") -> None:
        from .transfer import METHODS

        names = [m.strip() for m in methods.split(",") if m.strip()] if isinstance(methods, str) else list(methods)
        if not names:
            raise BenchError(f"no methods given; methods: {', '.join(METHODS)}")
        unknown = [m for m in names if m not in METHODS]
        if unknown:
            raise BenchError(f"unknown method(s) {', '.join(map(repr, unknown))}; methods: {', '.join(METHODS)}")
        _check_counts(repeats, warmup)
        options = dict(options or {})
        stray = [m for m in options if m not in names]
        if stray:
            raise BenchError(f"options given for {', '.join(map(repr, stray))}, which this sweep does not run "
                             f"(methods: {', '.join(names)})")
        for name, opts in options.items():
            if not isinstance(opts, Mapping):
                raise BenchError(f"options[{name!r}] must be a dict of options, e.g. {{'chunk_words': 4096}}, "
                                 f"got {opts!r}")
        self.methods: list[str] = list(dict.fromkeys(names))
        self.sizes: list[int] = list(dict.fromkeys(parse_sizes(sizes)))
        self.repeats = repeats
        self.warmup = warmup
        self.options: dict[str, dict[str, Any]] = {m: dict(options.get(m, {})) for m in self.methods}
        self.seed = seed
        self.verify = verify
        self.keep_results = keep_results
        self.overlay = overlay
        self.records: list[BenchRecord] = []  #: every record so far, failed cells included
        self.results: dict[tuple[str, int], Any] = {}  #: last TransferResult per cell (keep_results=True)
        self.observer_errors: list[BaseException] = []
        self._observers: list[Observer] = []
        self._finishers: list[tuple[Observer, Callable[["Sweep"], Any]]] = []
        self._progress_arg = progress
        self._progress: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()  # held while cells run (run() or the background thread)
        self._lock = threading.Lock()
        self.stopped = False  #: stop() ended the sweep before every cell ran

    # -- what it does -----------------------------------------------------------------------------------
    @property
    def cells(self) -> list[tuple[str, int]]:
        """Every ``(method, size)`` in the order they run."""
        return [(m, s) for m in self.methods for s in self.sizes]

    @property
    def errors(self) -> list[BenchRecord]:
        """Records of the cells that failed."""
        return [r for r in self.records if r.error is not None]

    @property
    def running(self) -> bool:
        return self._busy.locked()

    @property
    def done(self) -> bool:
        """Every cell has a record (or the sweep was stopped) and nothing runs."""
        return not self.running and (self.stopped or len(self.records) == len(self.cells))

    def __repr__(self) -> str:
        state = "running" if self.running else ("stopped" if self.stopped else "idle")
        return (f"Sweep(methods={self.methods}, sizes={[format_size(s) for s in self.sizes]}, repeats={self.repeats}, "
                f"warmup={self.warmup}; {len(self.records)}/{len(self.cells)} cells, {state})")

    # -- observers ----------------------------------------------------------------------------------------
    def subscribe(self, observer: Observer | Any, *, on_finish: Callable[["Sweep"], Any] | None = None) -> Observer:
        """Call ``observer(record)`` for every new record (objects with ``.add(record)`` work too).

        Observers run in the thread that runs the sweep, between cells: never while a repeat
        is being timed.  Records that already exist are passed on at once, so a widget
        subscribed late still shows everything.  ``on_finish(sweep)`` is called when a run
        ends (all cells done, stopped, or failed).
        """
        fn = observer.add if hasattr(observer, "add") and not callable(observer) else observer
        if not callable(fn):
            raise BenchError(f"an observer is a function taking a BenchRecord (or has .add(record)), got {observer!r}")
        with self._lock:
            self._observers.append(fn)
            if on_finish is not None:
                self._finishers.append((fn, on_finish))
            existing = list(self.records)
        for record in existing:
            self._call(fn, record)
        return observer

    def unsubscribe(self, observer: Observer | Any) -> None:
        fn = observer.add if hasattr(observer, "add") and not callable(observer) else observer
        with self._lock:
            self._observers = [o for o in self._observers if o is not fn and o != fn]
            self._finishers = [(o, f) for o, f in self._finishers if o is not fn and o != fn]

    def _call(self, fn: Observer, record: BenchRecord) -> None:
        try:
            fn(record)
        except Exception as exc:  # noqa: BLE001 -- an observer must not kill the benchmark; it is reported
            self.observer_errors.append(exc)
            warnings.warn(f"labkit.bench: observer {getattr(fn, '__qualname__', fn)!r} failed on "
                          f"{record.method} @ {format_size(record.size)}: {type(exc).__name__}: {exc}",
                          RuntimeWarning, stacklevel=2)

    def _publish(self, record: BenchRecord) -> None:
        autosave(record)  # classroom record of this cell, as soon as it exists
        with self._lock:
            self.records.append(record)
            observers = list(self._observers)
        if self._progress is not None:
            self._call(self._progress.record, record)
        for fn in observers:
            self._call(fn, record)

    # -- running ------------------------------------------------------------------------------------------
    def _open(self) -> None:
        if self.overlay is None:
            import labkit

            self.overlay = labkit.open_board()

    def _begin(self) -> None:
        self._open()
        self._stop.clear()
        self.stopped = False
        self._progress = _progress_reporter(self._progress_arg)
        if self._progress is not None:
            self._progress.begin(self)

    def _end(self) -> None:
        try:
            if self._progress is not None:
                self._progress.end(self)
        finally:
            self._progress = None
            with self._lock:
                finishers = [f for _, f in self._finishers]
            for finish in finishers:
                try:
                    finish(self)
                except Exception as exc:  # noqa: BLE001 -- reported like an observer's error
                    self.observer_errors.append(exc)
                    warnings.warn(f"labkit.bench: an on_finish callback failed: {type(exc).__name__}: {exc}",
                                  RuntimeWarning, stacklevel=2)

    def _cells(self) -> Iterator[BenchRecord]:
        board, simulated, pace = board_label(getattr(self.overlay, "device", None))
        from .timing import this_machine

        for method, size in self.cells:
            if self._stop.is_set():
                self.stopped = True
                return
            if self._progress is not None:
                try:
                    self._progress.cell(method, size)
                except Exception as exc:  # noqa: BLE001 -- progress display must not stop the benchmark
                    self.observer_errors.append(exc)
                    warnings.warn(f"labkit.bench: the progress display failed: {type(exc).__name__}: {exc}",
                                  RuntimeWarning, stacklevel=2)
            keep: list = []
            try:
                record = measure(method, self.overlay, size, repeats=self.repeats, warmup=self.warmup,
                                 seed=self.seed, verify=self.verify, stop=self._stop, keep=keep,
                                 **self.options[method])
            except Exception as exc:  # noqa: BLE001 -- recorded, re-raised at the end by run()/join()
                if self._stop.is_set():
                    self.stopped = True
                    return
                record = BenchRecord.failed(method, size, exc, board=board, simulated=simulated, pace=pace,
                                            machine=this_machine(), options=self.options[method])
            if keep and self.keep_results:
                self.results[(method, size)] = keep[-1]
            self._publish(record)
            yield record

    def iterate(self) -> Iterator[BenchRecord]:
        """Run the cells in this thread, yielding each record as it is made (failed cells too)."""
        if not self._busy.acquire(blocking=False):
            raise BenchError("this sweep is already running; wait with sweep.join() or stop it with sweep.stop()")
        try:
            self._begin()
            try:
                yield from self._cells()
            finally:
                self._end()
        finally:
            self._busy.release()

    def run(self, *, raise_errors: bool = True) -> list[BenchRecord]:
        """Run every cell here and now (blocking); returns the records of this run.

        Raises :class:`BenchError` at the end if a cell failed (``raise_errors=False``: don't);
        the records, failed ones included, are in :attr:`records` either way.
        """
        before = len(self.records)
        for _ in self.iterate():
            pass
        new = self.records[before:]
        if raise_errors:
            self._raise_errors(new)
        return new

    def start(self) -> "Sweep":
        """Run the sweep in a background thread and return at once (the notebook stays usable)."""
        if self._thread is not None and self._thread.is_alive() or self.running:
            raise BenchError("this sweep is already running; wait with sweep.join() or stop it with sweep.stop()")
        self._busy.acquire()
        try:
            self._begin()  # in the caller's thread: opening the board, showing the progress widget
        except BaseException:
            self._busy.release()
            raise
        self._thread = threading.Thread(target=self._background, name="labkit-bench", daemon=True)
        self._thread.start()
        return self

    def _background(self) -> None:
        try:
            for _ in self._cells():
                pass
        except BaseException as exc:  # noqa: BLE001 -- kept for join(); nothing outside a cell should raise
            self.observer_errors.append(exc)
        finally:
            try:
                self._end()
            finally:
                self._busy.release()

    def stop(self) -> None:
        """Ask the sweep to stop after the repeat in progress (returns at once; join() waits)."""
        self._stop.set()

    def join(self, timeout: float | None = None, *, raise_errors: bool = True) -> list[BenchRecord]:
        """Wait for a background sweep to finish (at most ``timeout`` seconds); returns all records.

        Raises :class:`BenchError` if a cell failed (``raise_errors=False``: don't), and
        :class:`~labkit.errors.LabTimeoutError` if the sweep is still running after ``timeout``.
        """
        from .errors import LabTimeoutError

        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise LabTimeoutError(f"the sweep is still running after {timeout} s "
                                      f"({len(self.records)}/{len(self.cells)} cells done); sweep.stop() stops it")
        if raise_errors:
            self._raise_errors(self.records)
        return list(self.records)

    @staticmethod
    def _raise_errors(records: Sequence[BenchRecord]) -> None:
        failed = [r for r in records if r.error is not None]
        if failed:
            lines = "\n".join(f"  {r.method} @ {format_size(r.size)}: {r.error}" for r in failed)
            raise BenchError(f"{len(failed)} of {len(records)} benchmark cells failed (their records are in "
                             f"sweep.records, with .traceback):\n{lines}", failed)

    # -- results ----------------------------------------------------------------------------------------------
    def table(self) -> str:
        """The comparison table of the records so far (see :func:`comparison_table`)."""
        return comparison_table(self.records)

    def __str__(self) -> str:
        return self.table() if self.records else repr(self)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def save_csv(self, path: str | Path) -> Path:
        return save_csv(self.records, path)

    def save_json(self, path: str | Path) -> Path:
        return save_json(self.records, path)


# -- files -----------------------------------------------------------------------------------------------------

def save_json(records: Iterable[BenchRecord], path: str | Path) -> Path:
    """Write records to a JSON file (creates the folder); :func:`load_json` reads it back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from . import __version__

    doc = {"format": JSON_FORMAT, "version": JSON_VERSION, "labkit": __version__, "saved_at": _now(),
           "units": "seconds; MB = 10**6 bytes", "records": [r.to_dict() for r in records]}
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return path


def load_json(path: str | Path) -> list[BenchRecord]:
    """Records from a file written by :func:`save_json` (or ``labkit bench --json``)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BenchError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise BenchError(f"{path} is not a labkit bench file (expected \"format\": \"{JSON_FORMAT}\")")
    if doc.get("version") != JSON_VERSION:
        raise BenchError(f"{path} is version {doc.get('version')} of the bench format; "
                         f"this labkit reads version {JSON_VERSION}")
    return [BenchRecord.from_dict(r) for r in doc["records"]]


#: CSV columns written for every record, in order (phase columns and a JSON copy of the phases follow).
CSV_COLUMNS = ["method", "size", "nbytes_in", "nbytes_out", "repeats", "warmup", "median_s", "min_s", "max_s",
               "q1_s", "q3_s", "spread_s", "iqr_s", "mb_per_s", "cold_s", "modelled_s", "estimated_s",
               "estimated_mb_per_s", "pl_busy_s", "verified", "mismatches", "kernel", "board", "simulated", "pace",
               "machine", "error", "started_at", "samples_s", "options", "phases"]
_JSON_COLUMNS = {"samples_s", "options", "phases"}
_DERIVED = {"spread_s", "iqr_s", "mb_per_s", "estimated_mb_per_s"}


def save_csv(records: Iterable[BenchRecord], path: str | Path) -> Path:
    """Write records to CSV, one row per cell (times in seconds).

    ``samples_s``, ``options`` and ``phases`` are JSON in their cells; every phase also gets
    flat ``phase:<name>:measured_s`` / ``:modelled_s`` / ``:estimated_s`` columns for spreadsheets.
    """
    records = list(records)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    phase_names = list(dict.fromkeys(name for r in records for name in r.phases))
    phase_cols = [f"phase:{n}:{k}" for n in phase_names for k in ("measured_s", "modelled_s", "estimated_s")]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS + phase_cols)
        for r in records:
            data = r.to_dict()
            row = []
            for col in CSV_COLUMNS:
                value = getattr(r, col) if col in _DERIVED else data[col]
                if col in _JSON_COLUMNS:
                    value = json.dumps(value)
                row.append(_csv_cell(value))
            for name in phase_names:
                p = r.phases.get(name)
                row += [_csv_cell(getattr(p, k) if p else None) for k in ("measured_s", "modelled_s", "estimated_s")]
            writer.writerow(row)
    return path


def _csv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


_INT_FIELDS = {"size", "nbytes_in", "nbytes_out", "repeats", "warmup", "mismatches"}
_FLOAT_FIELDS = {"median_s", "min_s", "max_s", "q1_s", "q3_s", "cold_s", "modelled_s", "estimated_s", "pl_busy_s"}
_BOOL_FIELDS = {"verified", "simulated"}


def load_csv(path: str | Path) -> list[BenchRecord]:
    """Records from a file written by :func:`save_csv` (the flat phase columns are ignored)."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as src:
        reader = csv.DictReader(src)
        missing = [c for c in ("method", "size", "median_s", "samples_s") if c not in (reader.fieldnames or [])]
        if missing:
            raise BenchError(f"{path} is not a labkit bench CSV: columns {missing} are missing")
        records = []
        for line, row in enumerate(reader, start=2):
            values: dict[str, Any] = {}
            try:
                for col in CSV_COLUMNS:
                    if col in _DERIVED or col not in row:
                        continue
                    text = row[col]
                    if col in _JSON_COLUMNS:
                        values[col] = json.loads(text) if text else None
                    elif text == "":
                        values[col] = None
                    elif col in _INT_FIELDS:
                        values[col] = int(text)
                    elif col in _FLOAT_FIELDS:
                        values[col] = float(text)
                    elif col in _BOOL_FIELDS:
                        values[col] = text == "True"
                    else:
                        values[col] = text
            except ValueError as exc:
                raise BenchError(f"{path}, line {line}, column {col!r}: cannot read {row.get(col)!r} ({exc})") from exc
            for col in ("kernel", "board", "machine"):
                values[col] = values.get(col) or ""
            for col in ("verified", "simulated"):
                values[col] = bool(values.get(col))
            for col in ("nbytes_in", "nbytes_out", "repeats", "warmup", "mismatches"):
                values[col] = values.get(col) or 0
            values["options"] = values.get("options") or {}
            records.append(BenchRecord.from_dict(values))
    return records


# -- the comparison table --------------------------------------------------------------------------------------

def _table(groups: Sequence[tuple[str, Sequence[str]]], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    """A plain table with a group title over each run of columns ("measured", "estimated" ...)."""
    headers = [h for _, names in groups for h in names]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    titles, col = [], 0
    for title, names in groups:
        span = sum(widths[col: col + len(names)]) + 3 * (len(names) - 1)
        extra = max(0, len(title) - span)  # widen the group's last column until its title fits
        widths[col + len(names) - 1] += extra
        titles.append(title.center(span + extra) if title else " " * span)
        col += len(names)

    def fmt(row: Sequence[str]) -> str:
        return " | ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                          for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    return [" | ".join(titles).rstrip(), fmt(headers), "-+-".join("-" * w for w in widths)] + [fmt(r) for r in rows]


def _mb(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _ratio(value: float, best: float) -> str:
    return f"{value / best:.2f}x" if best > 0 else "-"


def comparison_table(records: Iterable[BenchRecord]) -> str:
    """A plain-text table per size (and per board/machine): the methods side by side.

    Columns: bytes the PS sent, median and min-max of the *measured* totals (warm runs), measured
    MB/s, the ratio to the fastest method (``1.00x`` is the fastest; ``12.5x`` takes 12.5 times
    as long) and the cold run (the first warm-up, reported apart from the warm ones).  For the
    simulated board also the *modelled* PL/bus time, the *estimated* board time, its MB/s and
    its ratio to the fastest estimate -- labelled, never mixed with the measured columns.
    """
    records = list(records)
    if not records:
        return "(no benchmark records yet)"
    groups: dict[tuple[str, str], list[BenchRecord]] = {}
    for r in records:
        groups.setdefault((r.machine, r.board), []).append(r)
    out: list[str] = []
    for (machine, board), group in groups.items():
        simulated = any(r.simulated for r in group)
        profile = profile_of(board) or "board"
        repeats = sorted({(r.repeats, r.warmup) for r in group if r.ok})
        runs = ", ".join(f"{n} repeats after {w} warm-up" for n, w in repeats) or "no successful cells"
        out.append(f"board: {board or 'unknown'}")
        out.append(f"measured on: {machine or 'unknown'} (median of {runs})")
        if simulated:
            out.append(f"kinds of time: 'measured' = wall clock on the machine above; 'modelled' = PL/bus time "
                       f"computed by the simulated board; 'estimated' = what a {profile} would take "
                       f"(board profile; simulated board only)")
        else:
            out.append("kinds of time: every time here is measured on this board")
        for size in sorted({r.size for r in group}):
            cell = [r for r in group if r.size == size]
            ok = [r for r in cell if r.ok]
            best = min((r.median_s for r in ok), default=0.0)
            best_est = min((r.estimated_s for r in ok if r.estimated_s), default=0.0)
            columns: list[tuple[str, Sequence[str]]] = [
                ("", ["method", "bytes in"]),
                ("measured" if simulated else f"measured on {profile}",
                 ["median", "min - max", "MB/s", "vs fastest", "cold (1st run)"])]
            if simulated:
                columns += [("modelled", ["PL/bus"]), (f"estimated {profile}", ["time", "MB/s", "vs fastest"])]
            headers = [h for _, names in columns for h in names]
            rows = []
            for r in sorted(ok, key=lambda r: r.median_s) + [r for r in cell if not r.ok]:
                if not r.ok:
                    rows.append([r.method, "-", f"FAILED: {r.error}"] + [""] * (len(headers) - 3))
                    continue
                name = r.method if r.verified else f"{r.method} (NOT VERIFIED)"
                row = [name, f"{r.nbytes_in:,}", format_seconds(r.median_s),
                       f"{format_seconds(r.min_s)} - {format_seconds(r.max_s)}", _mb(r.mb_per_s),
                       _ratio(r.median_s, best), format_seconds(r.cold_s) if r.cold_s is not None else "-"]
                if simulated:
                    row += [format_seconds(r.modelled_s) if r.modelled_s is not None else "-",
                            format_seconds(r.estimated_s) if r.estimated_s is not None else "-",
                            _mb(r.estimated_mb_per_s),
                            _ratio(r.estimated_s, best_est) if r.estimated_s else "-"]
                rows.append(row)
            out.append("")
            out.append(f"size {format_size(size)} (asked for; 'bytes in' is what each method sends)")
            out += _table(columns, rows, right=set(range(1, len(headers))))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
