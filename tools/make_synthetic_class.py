#!/usr/bin/env python3
"""Generate the bundled synthetic class (labkit/data/synthetic_class.jsonl.gz) from the lab's own runs.

    python tools/make_synthetic_class.py                 # 40 students -> labkit/data/synthetic_class.jsonl.gz
    python tools/make_synthetic_class.py --students 400 --out /tmp/big.jsonl.gz

Notebook 09 and the tests need a class to compare without a classroom. This script first
RUNS the lab on the simulated board (a sweep of every transfer method at 22400 B and 256 KiB,
board pace, on the PYNQ-Z1 and PYNQ-Z2 profiles; the same sweep in host pace; a dram_master
transfer with the sync forgotten; a classifier batch; an energy span) and turns those runs into
records. It then makes each synthetic student's records from them, with this spread
(seeded: the same spread and mistakes every time; the base times are whatever this machine measured):

* boards: 30% "real" PYNQ-Z1/Z2, 65% the simulated board in board pace, 5% in host pace;
* simulated students' measured times: x lognormal(sigma 0.25) per student (laptops differ),
  x lognormal(sigma 0.05) per repeat; board estimates: x lognormal(sigma 0.05);
  modelled times unchanged (the model is deterministic);
* real boards' measured times: the simulated board's estimate x 1.10 x lognormal(sigma 0.12)
  per board -- the synthetic "truth" is that the estimate is 10% optimistic, which the
  calibration view should show;
* mistakes: 3 students timed a sweep once (repeats=1, one cell 3-6x slow); 2 forgot the
  dram_master sync (not verified); host pace as above;
* exercise checks: every check of the lab, tried by 90% of the students, passed after a
  geometric number of attempts (p=0.6), 10% of the tries never pass.

Every record is marked ``"synthetic": true`` and every student is called ``syn-team-NN/sMM``:
whatever shows them says they are synthetic. Timestamps are a fictitious workshop
(2026-11-20, 09:00-12:00 UTC).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import gzip
import json
import os
import sys
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # so the script runs from a plain checkout
os.environ["LABKIT_AUTOSAVE"] = "0"  # the base runs are turned into records here, not saved as the user's
os.environ.setdefault("LABKIT_BOARD", "sim")

OUT = REPO / "labkit" / "data" / "synthetic_class.jsonl.gz"
SIZES = ["22400", "256K"]
CHECKS = ["check_element_address", "check_per_word_prediction", "check_array_slice", "check_packed16",
          "check_dma_max_transfer", "check_dma_status_bit", "check_pingpong_speedup", "check_limiting_stage",
          "check_dram_syncs", "check_throughput_latency", "check_batch_wait", "check_ddr_energy",
          "check_energy_per_image"]
START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)


def base_runs() -> dict[str, object]:
    """Records of the lab's own runs on the simulated board (what every synthetic student is made from)."""
    import labkit
    from labkit.bench import Sweep
    from labkit.classifier import CnnAccelerator
    from labkit.classroom import record_of
    from labkit.power import open_power
    from labkit.transfer import METHODS, make_input, run

    base: dict[str, object] = {}
    for profile in ("PYNQ-Z1", "PYNQ-Z2"):
        ol = labkit.open_board(pace="board", profile=profile)
        sweep = Sweep(list(METHODS), SIZES, overlay=ol, repeats=5, warmup=1, progress=None)
        base[f"board/{profile}"] = [record_of(r) for r in sweep.run()]
    ol = labkit.open_board(pace="host", profile="PYNQ-Z1")
    base["host/PYNQ-Z1"] = [record_of(r) for r in Sweep(list(METHODS), SIZES, overlay=ol, repeats=5, warmup=1,
                                                       progress=None).run()]
    ol = labkit.open_board(pace="board", profile="PYNQ-Z1")
    base["stale"] = record_of(run("dram_master", ol, make_input("dram_master", 22400), sync=False))
    acc = CnnAccelerator(ol)
    acc.classify(np.zeros((16, 28, 28), np.uint8))
    base["classifier"] = record_of(acc.last_run)
    acc.close()
    with open_power(ol).measure("dma 256K", count=1) as energy:
        run("dma", ol, make_input("dma", 256 * 1024))
    base["power"] = record_of(energy)
    return base


def _scale_times(record: dict, measured: float, estimated: float, real: bool, machine: str,
                 rng: np.random.Generator) -> dict:
    r = copy.deepcopy(record)
    r["id"] = uuid.UUID(bytes=rng.bytes(16)).hex
    times = r["times"]
    if "measured" in times:
        times["measured"] = {"seconds": times["measured"]["seconds"] * measured, "machine": machine}
    if real:
        times.pop("modelled", None)
        times.pop("estimated", None)
    elif "estimated" in times:
        times["estimated"]["seconds"] *= estimated
    d = r["detail"]
    for key in ("samples_s",):
        if d.get(key):
            d[key] = [v * measured for v in d[key]]
    for key in ("min_s", "max_s", "q1_s", "q3_s", "cold_s"):
        if d.get(key) is not None:
            d[key] *= measured
    for phase in (d.get("phases") or {}).values() if isinstance(d.get("phases"), dict) else d.get("phases") or []:
        phase["measured_s"] *= measured
        if real:
            phase["modelled_s"] = phase["estimated_s"] = None
        elif phase.get("estimated_s") is not None:
            phase["estimated_s"] *= estimated
    if real:
        d["pl_busy_s"] = None
    return r


def students(base: dict, count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    timed_once = {5, 17, 29}
    stale = {8, 22}
    for i in range(1, count + 1):
        label = f"syn-team-{(i - 1) // 4 + 1:02d}/s{i:02d}"
        slot = i % 20
        profile = "PYNQ-Z1" if i % 2 else "PYNQ-Z2"
        if slot in (0, 3, 6, 10, 13, 16):  # 30%: real boards
            kind, real, pace = "real", True, None
        elif slot == 9:  # 5%: host pace
            kind, real, pace, profile = "host", False, "host", "PYNQ-Z1"
        else:
            kind, real, pace = "board", False, "board"
        sweep = base["host/PYNQ-Z1"] if kind == "host" else base[f"board/{profile}"]
        if real:
            board, machine = profile, f"synthetic {profile} board {i:02d} (ARM Cortex-A9, 2 cores)"
        else:
            board, machine = f"{profile} (simulated, {pace} pace)", f"synthetic laptop {i:02d} (x86_64, 4 cores)"
        laptop = float(rng.lognormal(0.0, 0.25))
        board_factor = 1.10 * float(rng.lognormal(0.0, 0.12))
        clock = START + dt.timedelta(minutes=float(rng.uniform(0, 20)))

        def stamp(rec: dict) -> dict:
            nonlocal clock
            clock += dt.timedelta(seconds=float(rng.uniform(20, 240)))
            rec["time"] = clock.isoformat(timespec="microseconds")
            rec.update({"student": label, "synthetic": True, "board": board, "simulated": not real,
                        "profile": profile, "pace": pace, "machine": machine})
            return rec

        spike = int(rng.integers(len(sweep)))
        for n, cell in enumerate(sweep):
            if real:
                est = (cell["times"].get("estimated") or cell["times"]["measured"])["seconds"]
                measured = est * board_factor / cell["times"]["measured"]["seconds"]
            else:
                measured = laptop * float(rng.lognormal(0.0, 0.05))
            rec = _scale_times(cell, measured, float(rng.lognormal(0.0, 0.05)), real, machine, rng)
            if i in timed_once:
                rec["detail"]["repeats"] = 1
                rec["detail"]["samples_s"] = rec["detail"]["samples_s"][:1]
                if n == spike:
                    rec["times"]["measured"]["seconds"] *= float(rng.uniform(3, 6))
            out.append(stamp(rec))
        if i in stale:
            out.append(stamp(_scale_times(base["stale"], laptop if not real else 1.0, 1.0, real, machine, rng)))
        extra = [base["classifier"], base["power"]]
        for rec in extra:
            out.append(stamp(_scale_times(rec, laptop if not real else 3.0, 1.0, real, machine, rng)))
        for check in CHECKS:
            if rng.random() > 0.9:
                continue
            tries = int(rng.geometric(0.6))
            never = rng.random() < 0.1
            for attempt in range(1, tries + 1):
                passed = attempt == tries and not never
                out.append(stamp({
                    "schema": base["power"]["schema"], "version": base["power"]["version"],
                    "id": uuid.UUID(bytes=rng.bytes(16)).hex, "kind": "check", "time": "", "student": label,
                    "pynq": base["power"]["pynq"], "labkit": base["power"]["labkit"], "overlay": "transfer_lab",
                    "subject": check, "size": None, "ok": passed, "times": {},
                    "detail": {"message": "synthetic attempt", "attempt": attempt}}))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from labkit.classroom import validate

    records = students(base_runs(), args.students, args.seed)
    for rec in records:
        validate(rec)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, allow_nan=False, sort_keys=True) + "\n" for r in records)
    # mtime=0: the file depends only on its records, not on when it was written
    args.out.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    print(f"{len(records)} synthetic records of {args.students} students -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
