"""A class's records as tables: comparisons, calibration, outliers with their likely cause, exercise completion.

Everything here is plain pandas (notebook 09 draws it with bqplot; ``labkit results report``
writes it as CSV and a static HTML page).  Every time column says its kind in its name
(``measured_s``, ``modelled_s``, ``estimated_s``) and the tables keep the board each came from.
"""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["frame", "comparison", "calibration", "outliers", "completion", "to_csv", "html_report",
           "FAR_FACTOR", "MIN_REPEATS", "board_kind"]

FAR_FACTOR = 3.0  #: a run more than 3x from its group's median (either way) is flagged
MIN_REPEATS = 3  #: a sweep cell timed fewer times than this is "timed once/too few times"
_COLUMNS = ["id", "kind", "time", "student", "synthetic", "board", "simulated", "profile", "pace", "machine",
            "subject", "size", "ok", "measured_s", "modelled_s", "estimated_s", "repeats", "mismatches", "attempt",
            "error"]


def board_kind(simulated: bool, pace: Any) -> str:
    """``"real"``, ``"simulated (board pace)"`` or ``"simulated (host pace)"``."""
    if not simulated:
        return "real"
    return f"simulated ({pace or 'board'} pace)"


def frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per record, the three kinds of time as ``measured_s``/``modelled_s``/``estimated_s``."""
    rows = []
    for r in records:
        times, detail = r.get("times") or {}, r.get("detail") or {}
        rows.append((r["id"], r["kind"], r["time"], r["student"], bool(r.get("synthetic")), r.get("board"),
                     bool(r.get("simulated")), r.get("profile"), r.get("pace"), r.get("machine"), r.get("subject"),
                     r.get("size"), bool(r.get("ok")),
                     (times.get("measured") or {}).get("seconds"), (times.get("modelled") or {}).get("seconds"),
                     (times.get("estimated") or {}).get("seconds"), detail.get("repeats"), detail.get("mismatches"),
                     detail.get("attempt"), detail.get("error")))
    df = pd.DataFrame.from_records(rows, columns=_COLUMNS)
    for col in ("measured_s", "modelled_s", "estimated_s"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["size"] = pd.to_numeric(df["size"], errors="coerce").astype("Int64")
    df["repeats"] = pd.to_numeric(df["repeats"], errors="coerce").astype("Int64")
    df["mismatches"] = pd.to_numeric(df["mismatches"], errors="coerce").astype("Int64")
    df["board_kind"] = [board_kind(s, p) for s, p in zip(df["simulated"], df["pace"])]
    return df


def _timed(df: pd.DataFrame) -> pd.DataFrame:
    """Transfer and sweep rows that have a measured time (what comparisons are made of)."""
    return df[df["kind"].isin(["transfer", "sweep"]) & df["measured_s"].notna()]


def comparison(df: pd.DataFrame) -> pd.DataFrame:
    """Per method, size, board profile and board kind: how many runs, and the medians of each kind of time."""
    timed = _timed(df)
    if timed.empty:
        return pd.DataFrame(columns=["subject", "size", "profile", "board_kind", "runs", "students",
                                     "measured_median_s", "measured_q1_s", "measured_q3_s", "estimated_median_s"])
    groups = timed.groupby(["subject", "size", "profile", "board_kind"], dropna=False)
    table = groups.agg(runs=("id", "size"), students=("student", "nunique"),
                       measured_median_s=("measured_s", "median"),
                       measured_q1_s=("measured_s", lambda s: s.quantile(0.25)),
                       measured_q3_s=("measured_s", lambda s: s.quantile(0.75)),
                       estimated_median_s=("estimated_s", "median")).reset_index()
    return table.sort_values(["subject", "size", "profile", "board_kind"]).reset_index(drop=True)


def calibration(df: pd.DataFrame) -> pd.DataFrame:
    """The simulated board's estimates against real boards' measurements, per method, size and profile.

    ``estimated_s``: median board estimate of simulated runs in board pace; ``measured_real_s``: median
    measured time on real boards of that profile; ``ratio`` = measured / estimated (1.0: the estimate is right).
    """
    timed = _timed(df)
    keys = ["subject", "size", "profile"]
    sim = timed[timed["simulated"] & (timed["pace"] != "host") & timed["estimated_s"].notna()]
    real = timed[~timed["simulated"]]
    est = sim.groupby(keys).agg(estimated_s=("estimated_s", "median"), simulated_runs=("id", "size"))
    meas = real.groupby(keys).agg(measured_real_s=("measured_s", "median"), real_runs=("id", "size"))
    table = est.join(meas, how="inner").reset_index()
    table["ratio"] = table["measured_real_s"] / table["estimated_s"]
    return table.sort_values(keys).reset_index(drop=True)


def outliers(df: pd.DataFrame, far: float = FAR_FACTOR) -> pd.DataFrame:
    """Runs that probably went wrong, each with its likely cause.

    * ``host pace``: a simulated board in host pace: its PL ran as fast as the host, so its times
      are not a board's;
    * ``stale sync``: the output did not verify (in ``dram_master`` this is the missing
      ``sync_to_device``/``invalidate`` of lesson 05);
    * ``failed``: the benchmark cell raised;
    * ``timed once``: a sweep cell with fewer than :data:`MIN_REPEATS` repeats (one run's noise);
    * ``far from the class``: more than ``far`` times from the median of the same method, size,
      profile and board kind (with ``timed once`` as the cause when it was a single run).
    """
    timed = _timed(df).copy()
    causes: dict[Any, list[str]] = {}

    def flag(index: Iterable[Any], cause: str) -> None:
        for i in index:
            causes.setdefault(i, []).append(cause)

    flag(timed.index[timed["simulated"] & (timed["pace"] == "host")],
         "host pace: the simulated PL ran at the host's speed, not the board's")
    not_ok = timed[~timed["ok"] & timed["error"].isna()]
    flag(not_ok.index[not_ok["subject"] == "dram_master"],
         "stale sync: output not verified (missing sync_to_device / invalidate, lesson 05)")
    flag(not_ok.index[not_ok["subject"] != "dram_master"], "not verified: the PL's output differs from the model")
    failed = df[(df["kind"] == "sweep") & df["error"].notna()]
    flag(failed.index, "failed")
    few = timed[(timed["kind"] == "sweep") & (timed["repeats"].fillna(1) < MIN_REPEATS)]
    flag(few.index, f"timed once: fewer than {MIN_REPEATS} repeats")
    usual = timed[~timed.index.isin(list(causes))]
    medians = usual.groupby(["subject", "size", "profile", "board_kind"])["measured_s"].median()
    keyed = timed.join(medians.rename("class_median_s"), on=["subject", "size", "profile", "board_kind"])
    ratio = keyed["measured_s"] / keyed["class_median_s"]
    far_rows = keyed.index[(ratio > far) | (ratio < 1 / far)]
    for i in far_rows:
        if i in causes:
            continue
        single = timed.at[i, "kind"] == "transfer" or (timed.at[i, "repeats"] or 1) < MIN_REPEATS
        why = f"{ratio[i]:.1f}x the class median"
        causes[i] = [f"timed once: {why}" if single else f"far from the class: {why}"]
    rows = df.loc[list(causes), ["student", "board", "board_kind", "kind", "subject", "size", "measured_s",
                                 "estimated_s", "repeats", "time", "id"]].copy() if causes else \
        pd.DataFrame(columns=["student", "board", "board_kind", "kind", "subject", "size", "measured_s",
                              "estimated_s", "repeats", "time", "id"])
    rows.insert(0, "cause", ["; ".join(causes[i]) for i in rows.index])
    rows["class_median_s"] = keyed["class_median_s"].reindex(rows.index) if causes else []
    return rows.sort_values(["cause", "student", "subject"]).reset_index(drop=True)


def completion(df: pd.DataFrame) -> pd.DataFrame:
    """Students x exercise checks: ``"passed (n)"``, ``"tried (n)"`` or ``""`` (n: attempts)."""
    checks = df[df["kind"] == "check"]
    if checks.empty:
        return pd.DataFrame()
    grouped = checks.groupby(["student", "subject"]).agg(passed=("ok", "any"), attempts=("id", "size"))
    grouped["status"] = [f"{'passed' if p else 'tried'} ({n})" for p, n in zip(grouped["passed"],
                                                                                grouped["attempts"])]
    table = grouped["status"].unstack("subject").fillna("")
    table.columns.name = None
    return table


def to_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """The flat records (one row each, times labelled by kind) as CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.drop(columns=["id"]).to_csv(path, index=False)
    return path


def _seconds(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return ""
    from ..timing import format_seconds

    return format_seconds(float(value))


def _table(table: pd.DataFrame, seconds: Iterable[str] = ()) -> str:
    if table.empty:
        return "<p><em>none</em></p>"
    shown = table.copy()
    for col in seconds:
        if col in shown:
            shown[col] = [_seconds(v) for v in shown[col]]
    return shown.to_html(index=not isinstance(shown.index, pd.RangeIndex), escape=True, na_rep="", border=0,
                         classes="t")


def html_report(df: pd.DataFrame, path: str | Path, title: str = "pynq-transfer-lab: class comparison") -> Path:
    """A static HTML page (no scripts): comparison, calibration, outliers, completion. Synthetic data is said so."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic = bool(df["synthetic"].any()) if not df.empty else False
    machines = ", ".join(sorted(set(df.loc[df["kind"].isin(["transfer", "sweep"]), "machine"].dropna()))[:5])
    banner = ("<p class='syn'>SYNTHETIC CLASS: generated by tools/make_synthetic_class.py from the lab's own runs "
              "with a documented spread; not real students.</p>" if synthetic else "")
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>", f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}.t{border-collapse:collapse;font-size:90%}"
        ".t td,.t th{border:1px solid #ccc;padding:2px 6px}.syn{background:#fde68a;padding:.5em;font-weight:bold}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1>", banner,
        f"<p>{len(df)} records from {df['student'].nunique() if not df.empty else 0} students, made {now}. "
        "Times: <b>measured</b> = wall clock on the machine that ran it (real board: the board's ARM; simulated: "
        f"the student's computer, e.g. {html.escape(machines or '-')}); <b>estimated</b> = the simulated board's "
        "estimate for its board profile; <b>modelled</b> = the simulated PL's cycles / clock.</p>",
        "<h2>Methods by board (medians)</h2>",
        _table(comparison(df), ["measured_median_s", "measured_q1_s", "measured_q3_s", "estimated_median_s"]),
        "<h2>Calibration: simulated-board estimates vs real-board measurements</h2>",
        _table(calibration(df), ["estimated_s", "measured_real_s"]),
        "<h2>Outliers and their likely cause</h2>",
        _table(outliers(df).drop(columns=["id"], errors="ignore"), ["measured_s", "estimated_s", "class_median_s"]),
        "<h2>Exercise completion</h2>", _table(completion(df)),
        "</body></html>"]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
