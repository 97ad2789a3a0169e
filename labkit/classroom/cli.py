"""``labkit results``: the classroom records on the command line (export, collect, report, student)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from .collect import PYNQ_PASSWORD, PYNQ_PORT

__all__ = ["add_parser", "run"]

DEFAULT_DB = "class.sqlite"


def add_parser(sub: Any, func: Callable[[argparse.Namespace], int]) -> None:
    results = sub.add_parser("results", help="classroom records: export, collect, report",
                             description="Every result a student makes is a record (JSON Lines, one schema). "
                                         "Collect a class's records into SQLite and compare them.")
    rsub = results.add_subparsers(dest="results_command", required=True)

    export = rsub.add_parser("export", help="write records as JSON Lines (from a store, or this folder's file)")
    export.add_argument("out", help="the JSON Lines file to write")
    export.add_argument("--db", help="the store to export (default: this folder's labkit-results.jsonl)")
    export.set_defaults(func=func)

    collect = rsub.add_parser(
        "collect", help="collect records from boards' Jupyter servers and/or folders into a store",
        description="Servers: URLs, hosts or address ranges (192.168.2.10-49, 10.0.0.0/28, board7:8888). "
                    "Each is read through Jupyter's contents API; a board offline or a wrong password is "
                    "reported and the others go on. Re-running adds no duplicates.")
    collect.add_argument("servers", nargs="*", help="servers to collect from")
    collect.add_argument("--folder", action="append", default=[], help="a folder of results files (repeatable)")
    collect.add_argument("--db", default=DEFAULT_DB, help=f"the SQLite store (default: {DEFAULT_DB})")
    collect.add_argument("--path", default="", help="folder on each server to search (default: its root)")
    collect.add_argument("--port", type=int, default=PYNQ_PORT, help=f"port of hosts given without one "
                                                                     f"(default: {PYNQ_PORT}, as on PYNQ images)")
    auth = collect.add_mutually_exclusive_group()
    auth.add_argument("--password", default=PYNQ_PASSWORD, help="Jupyter password (default: PYNQ's 'xilinx')")
    auth.add_argument("--token", help="Jupyter token instead of a password")
    collect.add_argument("--timeout", type=float, default=5.0, help="seconds per request (default: 5)")
    collect.add_argument("--workers", type=int, default=16, help="servers read at once (default: 16)")
    collect.set_defaults(func=func)

    report = rsub.add_parser("report", help="tables of a store: comparison, calibration, outliers, completion")
    report.add_argument("--db", default=DEFAULT_DB, help=f"the SQLite store (default: {DEFAULT_DB})")
    report.add_argument("--jsonl", help="read records from a JSON Lines file instead of a store")
    report.add_argument("--html", help="write a static HTML report")
    report.add_argument("--csv", help="write the records as CSV (one row each)")
    report.set_defaults(func=func)

    student = rsub.add_parser("student", help="show or set the student/team label results are saved under")
    student.add_argument("label", nargs="?", help="the label to keep")
    student.set_defaults(func=func)


def _say(text: str) -> None:
    print(text, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        return {"export": _export, "collect": _collect, "report": _report,
                "student": _student}[args.results_command](args)
    except (OSError, ValueError) as exc:
        print(f"labkit results {args.results_command}: {exc}", file=sys.stderr)
        return 2


def _export(args: argparse.Namespace) -> int:
    from .config import results_path
    from .records import read_records
    from .store import Store

    if args.db:
        if not Path(args.db).is_file():
            raise FileNotFoundError(f"no store {args.db}; collect into it first (labkit results collect)")
        with Store(args.db) as store:
            path = store.export_jsonl(args.out)
            count = store.count()
    else:
        source = results_path()
        records = list(read_records(source))
        import json

        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        path, count = Path(args.out), len(records)
    _say(f"{count} records -> {path}")
    return 0


def _collect(args: argparse.Namespace) -> int:
    from .collect import collect_folder, collect_servers
    from .store import Store

    if not args.servers and not args.folder:
        raise ValueError("give servers (URLs, hosts, address ranges) and/or --folder DIR")
    failed = 0
    with Store(args.db) as store:
        def progress(done: int, total: int, report: Any) -> None:
            _say(f"[{done}/{total}] {report}")

        if args.servers:
            result = collect_servers(args.servers, store, path=args.path, token=args.token,
                                     password=None if args.token else args.password, port=args.port,
                                     workers=args.workers, timeout=args.timeout, progress=progress)
            failed += len(result.errors)
            _say(str(result).splitlines()[0])
        for folder in args.folder:
            result = collect_folder(folder, store, progress=progress)
            failed += len(result.errors)
            _say(f"{folder}: " + str(result).splitlines()[0])
        _say(f"{args.db}: {store.count()} records from {len(store.students())} students")
    return 1 if failed else 0


def _report(args: argparse.Namespace) -> int:
    from . import report
    from .records import read_records
    from .store import Store

    if args.jsonl:
        df = report.frame(read_records(args.jsonl))
    else:
        if not Path(args.db).is_file():
            raise FileNotFoundError(f"no store {args.db}; collect into it first (labkit results collect)")
        with Store(args.db) as store:
            df = report.frame(store.records())
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 12, "display.max_rows", 60):
        if df["synthetic"].any():
            _say("SYNTHETIC CLASS (generated, not real students)")
        _say(f"{len(df)} records from {df['student'].nunique()} students")
        _say("\nCalibration (estimated = simulated board's estimate, measured = real boards):")
        _say(report.calibration(df).to_string(index=False))
        flagged = report.outliers(df)
        _say(f"\nOutliers: {len(flagged)}")
        if not flagged.empty:
            _say(flagged[["cause", "student", "subject", "size"]].to_string(index=False))
    if args.csv:
        _say(f"records -> {report.to_csv(df, args.csv)}")
    if args.html:
        _say(f"report -> {report.html_report(df, args.html)}")
    return 0


def _student(args: argparse.Namespace) -> int:
    from .config import set_student, student

    if args.label:
        _say(f"kept in {set_student(args.label)}")
    _say(f"results are saved as {student()!r}")
    return 0
