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

from .board import board_label, open_board
from .classroom.records import autosave
from .errors import BenchError, LabTimeoutError
from .results import (BenchRecord, PhaseStats, Stats, _now, _plain, format_size, modelled_busy_s, profile_of,
                      summarize)
from .run import DEFAULT_TIMEOUT_S, timing, timing_in_progress
from .timing import format_seconds, this_machine
from . import transfer
from ._version import __version__
from .transfer import METHODS

__all__ = [
    "BenchRecord", "PhaseStats", "Stats", "Sweep", "BenchError", "summarize", "measure", "modelled_busy_s",
    "measuring", "comparison_table", "save_csv", "save_json", "load_csv", "load_json", "parse_size", "parse_sizes",
    "format_size", "TextProgress", "DEFAULT_SIZES",
]

JSON_FORMAT = "labkit-bench"
JSON_VERSION = 1
DEFAULT_SIZES = (22400, 1 << 20)  #: the forum's 70x80 image of 32-bit pixels, and 1 MiB


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


# -- measuring one cell ----------------------------------------------------------------------------------------

def measuring() -> bool:
    """True while some run or :func:`measure` is timing (widgets wait with their redraws until it is done)."""
    return timing_in_progress()


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
    with transfer.Transfer(method, overlay, data, **options) as prepared, timing():
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
            self.overlay = open_board()

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
        The default bounds the wait by what the sweep can take: every run of every cell is itself
        bounded by :data:`labkit.run.DEFAULT_TIMEOUT_S` per wait.
        """
        if timeout is None:
            timeout = len(self.cells) * (self.repeats + self.warmup) * DEFAULT_TIMEOUT_S

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
