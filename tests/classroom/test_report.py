"""The instructor's tables on the bundled synthetic class, and the `labkit results` commands."""

from __future__ import annotations

import copy
import json
import time

import pytest

from labkit import classroom
from labkit.classroom import report
from labkit.classroom.exercises import check_calibration_ratio
from labkit.cli import main


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(classroom.read_records(classroom.SYNTHETIC_CLASS))


@pytest.fixture(scope="module")
def df(records):
    return report.frame(records)


def test_synthetic_class_is_forty_labelled_students(df):
    assert df["student"].nunique() == 40 and df["synthetic"].all()
    assert all(s.startswith("syn-") for s in df["student"])
    assert set(df["board_kind"]) == {"real", "simulated (board pace)", "simulated (host pace)"}


def test_outliers_find_each_planted_mistake_with_its_cause(df):
    flagged = report.outliers(df)
    host = set(df.loc[df["pace"] == "host", "student"])
    assert set(flagged.loc[flagged["cause"].str.contains("host pace"), "student"]) == host
    stale = flagged[flagged["cause"].str.startswith("stale sync")]
    assert len(stale) == 2 and set(stale["subject"]) == {"dram_master"}
    once = set(flagged.loc[flagged["cause"].str.contains("timed once"), "student"])
    assert once == {"syn-team-02/s05", "syn-team-05/s17", "syn-team-08/s29"}


def test_far_from_the_class_is_flagged(records):
    sweeps = [r for r in records if r["kind"] == "sweep" and r["subject"] == "dma" and not r["simulated"]]
    slow = copy.deepcopy(sweeps[0])
    slow["id"] = "slow-one"
    slow["times"]["measured"]["seconds"] *= 10
    flagged = report.outliers(report.frame(sweeps + [slow]))
    row = flagged[flagged["id"] == "slow-one"]
    assert len(row) == 1 and row["cause"].iloc[0].startswith("far from the class")


def test_calibration_shows_the_synthetic_truth(df):
    table = report.calibration(df)
    assert set(table["profile"]) == {"PYNQ-Z1", "PYNQ-Z2"}
    # the generator makes real boards 1.10x the estimate with a 12% spread between boards
    assert 1.0 < table["ratio"].median() < 1.25
    assert (table["real_runs"] > 0).all() and (table["simulated_runs"] > 0).all()


def test_completion_counts_attempts(df):
    table = report.completion(df)
    assert table.shape[0] == 40
    assert all(cell == "" or cell.startswith(("passed (", "tried (")) for cell in table.to_numpy().ravel())


def test_html_and_csv(df, tmp_path):
    page = report.html_report(df, tmp_path / "r.html").read_text()
    assert "SYNTHETIC CLASS" in page and "<script" not in page and "Calibration" in page
    csv = report.to_csv(df, tmp_path / "r.csv").read_text().splitlines()
    assert len(csv) == len(df) + 1 and "measured_s" in csv[0] and "estimated_s" in csv[0]


def test_exercise_check_hints(df, capsys):
    table = report.calibration(df)
    z2 = table[table["profile"] == "PYNQ-Z2"]["ratio"]
    assert check_calibration_ratio(df, "PYNQ-Z2", z2.median())
    assert not check_calibration_ratio(df, "PYNQ-Z2", 1 / z2.median())
    assert "upside down" in capsys.readouterr().out
    assert not check_calibration_ratio(df, "PYNQ-Z2", "fast")
    assert not check_calibration_ratio(df, "KV260", 1.0)
    assert "no real KV260" in capsys.readouterr().out


def test_report_of_ten_thousand_records_is_quick(records, tmp_path):
    """The issue's target is <= 5 s on the 2-core VM; 20 s here leaves room for a loaded machine."""
    many = []
    while len(many) < 10_000:
        for r in records:
            many.append({**r, "id": f"{r['id']}-{len(many)}"})
    many = many[:10_000]
    start = time.perf_counter()
    report.html_report(report.frame(many), tmp_path / "big.html")
    assert time.perf_counter() - start < 20.0


def test_cli_collect_report_export(tmp_path, records, capsys):
    folder = tmp_path / "handed-in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:200]))
    db = tmp_path / "class.sqlite"
    assert main(["results", "collect", "--folder", str(folder), "--db", str(db)]) == 0
    assert main(["results", "collect", "--folder", str(folder), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "200 new" in out and "0 new" in out and "200 records" in out
    assert main(["results", "report", "--db", str(db), "--html", str(tmp_path / "r.html"),
                 "--csv", str(tmp_path / "r.csv")]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out and (tmp_path / "r.html").is_file()
    assert main(["results", "export", str(tmp_path / "all.jsonl"), "--db", str(db)]) == 0
    assert len(list(classroom.read_records(tmp_path / "all.jsonl"))) == 200
    (folder / "bad.jsonl").write_text("nope\n")
    assert main(["results", "collect", "--folder", str(folder), "--db", str(db)]) == 1
    assert main(["results", "report", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert "collect into it first" in capsys.readouterr().err


def test_cli_student(results_env, capsys):
    assert main(["results", "student", "team-9"]) == 0
    assert "'team-9'" in capsys.readouterr().out and classroom.student() == "team-9"
