"""Classroom: collect a class from 40 Jupyter servers on loopback, and build the report of 10,000 records.

    python benchmarks/classroom.py                 # 40 servers, 10,000 records
    python benchmarks/classroom.py --servers 10    # lighter

Each server is a real ``jupyter_server`` on 127.0.0.1 (a free port, PYNQ's password login),
holding one synthetic student's ``labkit-results.jsonl`` from the bundled synthetic class.
All are started at once (their start-up is printed, not counted); then one collection into a
new SQLite file is timed, and a second one (which must add nothing).  Targets from issue 13:
collection <= 10 s, report <= 5 s, on the project's 2-core VM.  All times are measured
(wall clock) on the machine printed first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests" / "classroom"))

from _common import machine, table  # noqa: E402

from labkit import classroom  # noqa: E402
from labkit.classroom import report  # noqa: E402


def collection(servers: int, base: Path) -> list[tuple[str, str]]:
    from jupyter_servers import records_text, start_servers, stop_servers

    by_student: dict[str, list[dict]] = defaultdict(list)
    for record in classroom.read_records(classroom.SYNTHETIC_CLASS):
        by_student[record["student"]].append(record)
    students = sorted(by_student)
    specs = [{"password": "xilinx",
              "files": {"pynq-transfer-lab/labkit-results.jsonl": records_text(by_student[students[n % len(students)]])}}
             for n in range(servers)]
    start = time.perf_counter()
    running = start_servers(specs, base, timeout=600)
    started = time.perf_counter() - start
    try:
        with classroom.Store(base / "class.sqlite") as store:
            start = time.perf_counter()
            first = classroom.collect_servers([s.url for s in running], store, path="pynq-transfer-lab")
            first_s = time.perf_counter() - start
            start = time.perf_counter()
            second = classroom.collect_servers([s.url for s in running], store, path="pynq-transfer-lab")
            second_s = time.perf_counter() - start
            count = store.count()
    finally:
        stop_servers(running)
    if first.errors or second.new:
        print(first)
        raise SystemExit("collection failed (above)")
    return [(f"start {servers} Jupyter servers at once (not counted)", f"{started:.1f} s"),
            (f"collect {servers} servers -> SQLite ({first.new} records, target <= 10 s)", f"{first_s:.2f} s"),
            (f"collect again (new: {second.new}; store holds {count})", f"{second_s:.2f} s")]


def report_of(records: int, base: Path) -> list[tuple[str, str]]:
    source = list(classroom.read_records(classroom.SYNTHETIC_CLASS))
    many = [{**source[n % len(source)], "id": f"r{n}"} for n in range(records)]
    start = time.perf_counter()
    df = report.frame(many)
    report.html_report(df, base / "report.html")
    report.to_csv(df, base / "report.csv")
    return [(f"report of {records:,} records: tables + HTML + CSV (target <= 5 s)",
             f"{time.perf_counter() - start:.2f} s")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=40)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(f"measured on: {machine()}")
    with tempfile.TemporaryDirectory(prefix="labkit-classroom-bench-") as tmp:
        rows = collection(args.servers, Path(tmp)) + report_of(args.records, Path(tmp))
    print(table(["what (measured, wall clock)", "time"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
