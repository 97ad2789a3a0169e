"""Every result a student produces as one record with provenance (JSON Lines), and the autosave hook.

This module is the **only** place that knows the lab's result classes.  The engines call
:func:`autosave` with their result at one point each; :func:`record_of` turns any result into a
record; :func:`save` appends one to the results file.  When the result classes change, only
the ``_from_*`` adapters below change.

A record (schema ``pynq-transfer-lab/record``, version 1) is one JSON object per line::

    {"schema": "pynq-transfer-lab/record", "version": 1, "id": "9f0c...",   # id: unique, dedups collections
     "kind": "transfer" | "sweep" | "classifier" | "pipeline" | "power" | "check",
     "time": "2026-12-03T22:15:03.123456+00:00",                           # when it was made (UTC)
     "student": "team-3", "synthetic": false,
     "board": "PYNQ-Z1 (simulated, board pace)", "simulated": true, "profile": "PYNQ-Z1", "pace": "board",
     "machine": "host (CPU, 2 cores)", "pynq": "4.0.0", "labkit": "0.1.0", "overlay": "transfer_lab",
     "subject": "dma",           # the method, check, classifier or power label the record is about
     "size": 1048576,            # bytes in (null when not a transfer)
     "ok": true,                 # verified / passed / no error
     "times": {"measured":  {"seconds": 0.0012, "machine": "host (...)"},
               "modelled":  {"seconds": 0.0009, "model": "simulated PYNQ-Z1 PL/bus model"},
               "estimated": {"seconds": 0.0031, "profile": "PYNQ-Z1"}},
     "detail": {...}}            # the kind's own fields (phases, repeats, attempts, energy ...)

Three kinds of time stay apart and labelled: ``measured`` names the machine whose clock
measured, ``modelled`` the model that computed it, ``estimated`` the board profile it was
estimated for.  Only the simulated board has modelled and estimated times.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import sys
import threading
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from .._pynq_compat import chosen_active_device
from .._version import __version__
from ..board import board_label
from ..errors import LabkitError
from ..results import profile_of
from ..run import timing_in_progress
from ..timing import this_machine
from . import config

__all__ = ["SCHEMA", "SCHEMA_VERSION", "KINDS", "RecordError", "CheckResult", "record_of", "save", "autosave",
           "validate", "read_records", "parse_lines", "provenance"]

SCHEMA = "pynq-transfer-lab/record"
SCHEMA_VERSION = 1
KINDS = ("transfer", "sweep", "classifier", "pipeline", "power", "check")
_REQUIRED = {"schema": str, "version": int, "id": str, "kind": str, "time": str, "student": str, "board": str,
             "simulated": bool, "machine": str, "subject": str, "ok": bool, "times": dict, "detail": dict}
_WRITE_LOCK = threading.Lock()  # one line at a time from the sweep thread and the notebook


class RecordError(LabkitError, ValueError):
    """A record does not follow the schema (the message says which field and what was expected)."""


@dataclass
class CheckResult:
    """One evaluation of an exercise check: which check, passed or not, and what it told the student."""

    passed: bool
    message: str
    name: str = field(default_factory=lambda: _calling_check())


def _calling_check() -> str:
    """The name of the ``check_*`` function being evaluated (the nearest one on the call stack)."""
    frame = sys._getframe(1)
    for _ in range(12):  # _verdict is called directly by the check: a few frames at most
        if frame is None:
            break
        if frame.f_code.co_name.startswith("check_"):
            return frame.f_code.co_name
        frame = frame.f_back
    return "check"


# -- provenance -------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _versions() -> tuple[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pynq_version = version("pynq")
    except PackageNotFoundError:
        pynq_version = "not installed"
    return pynq_version, __version__


def _active_device() -> Any:
    """pynq's active device if one is already chosen (never probes for devices just to label a record)."""
    return chosen_active_device()


def _overlay_of(device: Any) -> str:
    name = getattr(device, "bitfile_name", None)
    return Path(str(name)).stem if name else ""


def provenance(board: str | None = None, simulated: bool | None = None, pace: str | None = None,
               machine: str | None = None) -> dict[str, Any]:
    """Who, where and with what: student, board (real or simulated, profile, pace), machine, versions, overlay."""
    device = _active_device()
    if board is None:
        board, simulated, pace = board_label(device) if device is not None else ("no board", False, None)
    pynq_version, labkit_version = _versions()
    return {"student": config.student(), "synthetic": False, "board": board, "simulated": bool(simulated),
            "profile": profile_of(board), "pace": pace, "machine": machine or this_machine(),
            "pynq": pynq_version, "labkit": labkit_version, "overlay": _overlay_of(device)}


def _times(measured: float | None, machine: str, modelled: float | None, estimated: float | None,
           profile: str) -> dict[str, dict[str, Any]]:
    times: dict[str, dict[str, Any]] = {}
    if measured is not None and math.isfinite(measured):
        times["measured"] = {"seconds": float(measured), "machine": machine}
    if modelled is not None:
        times["modelled"] = {"seconds": float(modelled), "model": f"simulated {profile} PL/bus model"}
    if estimated is not None:
        times["estimated"] = {"seconds": float(estimated), "profile": profile}
    return times


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to numbers, NaN/inf to None, tuples to lists, keys to strings."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _record(kind: str, prov: Mapping[str, Any], subject: str, ok: bool, times: dict, detail: dict,
            size: int | None = None, time: str | None = None) -> dict[str, Any]:
    record = {"schema": SCHEMA, "version": SCHEMA_VERSION, "id": uuid.uuid4().hex, "kind": kind,
              "time": time or _now()}
    record.update(prov)
    record.update({"subject": subject, "size": size, "ok": bool(ok), "times": times, "detail": _plain(detail)})
    return record


# -- adapters: one per result class of the lab (the only code that knows them) -----------------------------

def _from_transfer(r: Any) -> dict[str, Any]:
    prov = provenance(r.board, r.simulated, r.pace, r.machine)
    phases = [{"name": p.name, "measured_s": p.measured, "modelled_s": p.modelled, "estimated_s": p.estimated,
               "count": p.count} for p in r.phases]
    detail = {"kernel": r.kernel, "nbytes_in": r.nbytes_in, "nbytes_out": r.nbytes_out, "verified": r.verified,
              "mismatches": r.mismatches, "phases": phases, "options": dict(r.options), "scale": r.scale,
              "repeats": 1}
    return _record("transfer", prov, r.method, r.verified,
                   _times(r.measured, r.machine, r.modelled, r.estimated, prov["profile"]), detail, r.nbytes_in)


def _from_bench(r: Any) -> dict[str, Any]:
    prov = provenance(r.board, r.simulated, r.pace, r.machine)
    data = r.to_dict()
    data.pop("traceback", None)
    detail = {k: data[k] for k in ("size", "nbytes_out", "repeats", "warmup", "samples_s", "min_s", "max_s", "q1_s",
                                   "q3_s", "cold_s", "pl_busy_s", "verified", "mismatches", "kernel", "options",
                                   "error", "started_at", "phases")}
    measured = r.median_s if r.ok else None
    return _record("sweep", prov, r.method, r.ok and r.verified,
                   _times(measured, r.machine, r.modelled_s, r.estimated_s, prov["profile"]), detail,
                   r.nbytes_in or r.size)


def _from_accelerator(r: Any) -> dict[str, Any]:
    device = _active_device()
    pace = None
    if device is not None:
        label, _, device_pace = board_label(device)
        pace = device_pace if label == r.board else None
    prov = provenance(r.board, r.modelled is not None, pace, r.machine)
    detail = {"images": r.images, "calls": r.calls, "max_batch": r.max_batch, "measured_s": dict(r.measured),
              "modelled_s": r.modelled, "estimated_s": r.estimated}
    return _record("classifier", prov, "cnn_classifier", True,
                   _times(r.measured_s, r.machine, r.modelled_s, r.estimated_s, prov["profile"]), detail)


def _from_frames(results: list) -> dict[str, Any]:
    from ..classifier.pipeline import summarize

    prov = provenance()
    summary = summarize(results)
    detail = dict(summary)
    detail["time_kinds"] = "fps, latency and stages measured; modelled_pl_s modelled (simulated board)"
    modelled = sum(summary["modelled_pl_s"].values()) if summary.get("modelled_pl_s") else None
    return _record("pipeline", prov, f"pipeline ({summary['engine']})", True,
                   _times(summary["latency_s"], prov["machine"], modelled, None, prov["profile"]), detail)


def _from_energy(r: Any) -> dict[str, Any]:
    prov = provenance()
    detail = r.to_dict()
    detail["energy_kind"] = r.kind  # the energy figure's own kind: measured (sensors), modelled or estimated
    detail["energy_profile"] = r.profile
    return _record("power", prov, r.label or "power", math.isfinite(r.energy_j),
                   _times(r.seconds, prov["machine"], None, None, prov["profile"]), detail)


def _from_check(r: CheckResult) -> dict[str, Any]:
    prov = provenance()
    detail = {"message": r.message, "attempt": _attempts(r.name, prov["student"]) + 1}
    return _record("check", prov, r.name, r.passed, {}, detail)


_ADAPTERS = {"TransferResult": _from_transfer, "BenchRecord": _from_bench, "AcceleratorRun": _from_accelerator,
             "EnergyMeasurement": _from_energy, "CheckResult": _from_check}


def record_of(result: Any) -> dict[str, Any]:
    """The record of a lab result: a ``TransferResult``, ``BenchRecord``, ``AcceleratorRun``, a list of the
    pipeline's ``FrameResult``, an ``EnergyMeasurement`` or a :class:`CheckResult` (a record is returned as is)."""
    if isinstance(result, Mapping) and result.get("schema") == SCHEMA:
        validate(result)
        return dict(result)
    if isinstance(result, list) and result and type(result[0]).__name__ == "FrameResult":
        return _from_frames(result)
    adapter = _ADAPTERS.get(type(result).__name__)
    if adapter is None:
        raise RecordError(f"cannot make a record of a {type(result).__name__}; results that can be saved: "
                          f"{', '.join(_ADAPTERS)}, a list of FrameResult, or a record dict")
    return adapter(result)


# -- schema --------------------------------------------------------------------------------------------------

def validate(record: Mapping[str, Any]) -> None:
    """Raise :class:`RecordError` unless ``record`` follows the schema (version :data:`SCHEMA_VERSION`)."""
    if not isinstance(record, Mapping):
        raise RecordError(f"a record is a JSON object, got {type(record).__name__}")
    if record.get("schema") != SCHEMA:
        raise RecordError(f"not a lab record: \"schema\" is {record.get('schema')!r}, expected {SCHEMA!r}")
    if record.get("version") != SCHEMA_VERSION:
        raise RecordError(f"record version {record.get('version')!r}; this labkit reads version {SCHEMA_VERSION} "
                          "(update labkit on the instructor's machine, or export the records with a matching one)")
    for key, kind in _REQUIRED.items():
        if not isinstance(record.get(key), kind):
            raise RecordError(f"field {key!r} should be {kind.__name__}, got {record.get(key)!r}")
    if record["kind"] not in KINDS:
        raise RecordError(f"kind {record['kind']!r} is not one of {', '.join(KINDS)}")
    for kind, entry in record["times"].items():
        label = {"measured": "machine", "modelled": "model", "estimated": "profile"}.get(kind)
        if label is None or not isinstance(entry, Mapping) or label not in entry or "seconds" not in entry:
            raise RecordError(f"times[{kind!r}] must be {{'seconds': ..., one of machine/model/profile}}, got {entry!r}")


def parse_lines(text: str, source: str = "") -> tuple[list[dict[str, Any]], list[str]]:
    """Records in JSON Lines ``text``, and one error per line that is not a valid record (never raises)."""
    records, errors = [], []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
            validate(record)
        except (ValueError, RecordError) as exc:
            errors.append(f"{source or 'records'} line {number}: {exc}")
            continue
        records.append(record)
    return records, errors


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """The valid records of a JSON Lines file (``.jsonl`` or ``.jsonl.gz``); invalid lines raise RecordError."""
    path = Path(path)
    if path.suffix == ".gz":
        import gzip

        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    records, errors = parse_lines(text, str(path))
    if errors:
        raise RecordError(f"{len(errors)} invalid line(s) in {path}:\n" + "\n".join(errors[:10]))
    yield from records


# -- saving ------------------------------------------------------------------------------------------------------

def _attempts(check: str, student: str) -> int:
    """How often ``student`` already ran ``check`` according to the results file (0 if none)."""
    path = config.results_path()
    needle = f'"subject": "{check}"'
    try:
        with open(path, encoding="utf-8") as lines:
            return sum(1 for line in lines if needle in line and '"kind": "check"' in line
                       and f'"student": {json.dumps(student)}' in line)
    except OSError:
        return 0


def save(result: Any, path: str | Path | None = None) -> dict[str, Any]:
    """Append the record of ``result`` (or a record) to the results file; returns the record.

    ``path`` defaults to ``labkit-results.jsonl`` in the notebook's folder (``$LABKIT_RESULTS``).
    Works whether or not automatic saving is on.
    """
    record = record_of(result)
    line = json.dumps(record, allow_nan=False) + "\n"
    target = Path(path) if path is not None else config.results_path()
    with _WRITE_LOCK:
        if target.parent != Path(""):
            target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8") as out:
            out.write(line)
    return record


def _warn_once(message: str, _said: set = set()) -> None:  # noqa: B006 -- a set of messages already shown
    if message not in _said:
        _said.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def autosave(result: Any) -> Any:
    """The engines' hook: save ``result`` if automatic saving is on, and return it. Never raises
    (a warning says why a result could not be saved).

    Transfers run by a benchmark are not saved one by one: the sweep's record holds them.  A live
    classifier saves at most one run per second (:data:`THROTTLED`).
    """
    if not config.autosave_enabled():
        return result
    try:
        kind = type(result).__name__
        if kind == "TransferResult" and _benchmark_is_timing():
            return result
        if kind in THROTTLED and not _due(kind):
            return result
        save(result)
    except Exception as exc:  # noqa: BLE001 -- saving must never break a student's run
        _warn_once(f"labkit could not save a result to {config.results_path()}: {type(exc).__name__}: {exc}. "
                   "Set LABKIT_RESULTS to a writable file, or turn saving off: "
                   "labkit.classroom.set_autosave(False)")
    return result


#: results made many times a second by live views, saved at most once per this many seconds (per results file):
#: a live classifier at camera rate would otherwise write thousands of lines per student
THROTTLED = {"AcceleratorRun": 1.0}
_last_saved: dict[tuple[str, str], float] = {}  # (results file, result class) -> monotonic time of its last save


def _due(kind: str) -> bool:
    import time

    key = (str(config.results_path().resolve()), kind)
    now = time.monotonic()
    if now - _last_saved.get(key, -math.inf) < THROTTLED[kind]:
        return False
    _last_saved[key] = now
    return True


def _benchmark_is_timing() -> bool:
    """A benchmark cell is timing its repeats (a single run has finished timing when it is saved)."""
    return timing_in_progress()
