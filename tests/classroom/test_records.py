"""Every kind of result becomes a record with provenance; the schema round-trips; the switch works."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labkit import classroom
from labkit.bench import Sweep
from labkit.classroom import RecordError, read_records, record_of, validate
from labkit.transfer import make_input, run


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_transfer_run_is_saved_with_provenance_and_three_labelled_times(board, results_env):
    classroom.set_student("team-3")
    result = run("dma", board, make_input("dma", 4096))
    (record,) = lines(results_env)
    validate(record)
    assert record["kind"] == "transfer" and record["subject"] == "dma" and record["ok"] is True
    assert record["student"] == "team-3" and record["simulated"] is True and record["profile"] == "PYNQ-Z1"
    assert record["pace"] == "host" and record["overlay"] == "transfer_lab" and record["pynq"] and record["labkit"]
    times = record["times"]
    assert times["measured"] == {"seconds": pytest.approx(result.measured), "machine": result.machine}
    assert times["modelled"]["seconds"] == pytest.approx(result.modelled) and "PYNQ-Z1" in times["modelled"]["model"]
    assert times["estimated"] == {"seconds": pytest.approx(result.estimated), "profile": "PYNQ-Z1"}
    assert record["size"] == result.nbytes_in == record["detail"]["nbytes_in"]


def test_stale_sync_run_is_recorded_as_not_ok(board, results_env):
    result = run("dram_master", board, make_input("dram_master", 4096), sync=False)
    (record,) = lines(results_env)
    assert result.verified is False and record["ok"] is False and record["detail"]["mismatches"] > 0


def test_sweep_saves_one_record_per_cell_and_not_its_transfers(board, results_env):
    sweep = Sweep(["array_slice", "dma"], ["4K"], overlay=board, repeats=3, warmup=1, progress=None)
    sweep.run()
    records = lines(results_env)
    assert [r["kind"] for r in records] == ["sweep", "sweep"]
    assert [r["subject"] for r in records] == ["array_slice", "dma"]
    for record, cell in zip(records, sweep.records):
        assert record["detail"]["repeats"] == 3 and record["detail"]["samples_s"] == cell.samples_s
        assert record["times"]["measured"]["seconds"] == pytest.approx(cell.median_s)
        assert record["times"]["estimated"]["seconds"] == pytest.approx(cell.estimated_s)


def test_classifier_run_is_saved(board, results_env):
    from labkit.classifier import CnnAccelerator

    acc = CnnAccelerator(board)
    try:
        acc.classify(np.zeros((3, 28, 28), np.uint8))
    finally:
        acc.close()
    (record,) = lines(results_env)
    assert record["kind"] == "classifier" and record["detail"]["images"] == 3
    assert set(record["times"]) == {"measured", "modelled", "estimated"}


def test_power_span_is_saved_with_the_energy_kind(board, results_env):
    from labkit.power import open_power

    with open_power(board).measure("dma 4K") as energy:
        run("dma", board, make_input("dma", 4096))
    records = lines(results_env)
    power = [r for r in records if r["kind"] == "power"]
    assert len(power) == 1 and power[0]["subject"] == "dma 4K"
    assert power[0]["detail"]["energy_kind"] == energy.kind == "modelled"
    assert power[0]["detail"]["energy_j"] == pytest.approx(energy.energy_j)


def test_check_attempts_are_counted(results_env, capsys):
    from labkit.checks import check_pingpong_speedup

    assert not check_pingpong_speedup(1.0, 1.0, 3)
    assert check_pingpong_speedup(1.0, 1.0, 2)
    records = lines(results_env)
    assert [(r["subject"], r["ok"], r["detail"]["attempt"]) for r in records] == [
        ("check_pingpong_speedup", False, 1), ("check_pingpong_speedup", True, 2)]
    assert records[0]["detail"]["message"].startswith("two overlapping stages")


def test_the_switch_turns_saving_off(board, results_env):
    classroom.set_autosave(False)
    try:
        run("dma", board, make_input("dma", 4096))
        assert not results_env.exists()
        classroom.save(run("dma", board, make_input("dma", 4096)))  # by hand: saved anyway
        assert len(lines(results_env)) == 1
    finally:
        classroom.set_autosave(True)


def test_an_unwritable_results_file_warns_and_never_breaks_the_run(board, results_env, monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_RESULTS", str(tmp_path))  # a folder: cannot be appended to
    with pytest.warns(RuntimeWarning, match="could not save"):
        result = run("dma", board, make_input("dma", 4096))
    assert result.verified


def test_schema_round_trip(board, results_env, monkeypatch):
    monkeypatch.setenv("LABKIT_AUTOSAVE", "0")
    saved = classroom.save(run("array_slice", board, make_input("array_slice", 2048)))
    (back,) = read_records(results_env)
    assert back == saved and record_of(back) == saved


@pytest.mark.parametrize("change, message", [
    ({"schema": "other"}, "not a lab record"),
    ({"version": 99}, "version 99"),
    ({"kind": "dance"}, "kind 'dance'"),
    ({"ok": "yes"}, "'ok' should be bool"),
    ({"times": {"measured": {"seconds": 1.0}}}, "machine/model/profile"),
])
def test_invalid_records_say_what_is_wrong(board, results_env, change, message):
    record = classroom.save(run("dma", board, make_input("dma", 1024)))
    with pytest.raises(RecordError, match=message):
        validate({**record, **change})


def test_unknown_results_are_refused_with_what_can_be_saved():
    with pytest.raises(RecordError, match="TransferResult"):
        record_of(object())


def test_student_label_is_kept_and_checked(results_env):
    assert classroom.student() == "unnamed"
    path = classroom.set_student("Ada L.")
    assert path.is_file() and classroom.student() == "Ada L."
    with pytest.raises(ValueError, match="1-64 letters"):
        classroom.set_student("x" * 80)


def test_pipeline_results_make_one_record(board, results_env, monkeypatch):
    from labkit.classifier.pipeline import Pipeline

    monkeypatch.setenv("LABKIT_AUTOSAVE", "0")  # only the explicit save below
    pipeline = Pipeline(overlay=board)
    try:
        frames = pipeline.run(frames=3)
    finally:
        pipeline.close()
    record = classroom.save(frames)
    assert record["kind"] == "pipeline" and record["detail"]["frames"] == 3
    assert record["times"]["measured"]["seconds"] == pytest.approx(record["detail"]["latency_s"])


def test_a_live_classifier_saves_at_most_one_run_per_second(board, results_env):
    from labkit.classifier import CnnAccelerator

    acc = CnnAccelerator(board)
    try:
        for _ in range(5):  # far faster than one per second
            acc.classify(np.zeros((1, 28, 28), np.uint8))
    finally:
        acc.close()
    assert [r["kind"] for r in lines(results_env)] == ["classifier"]
