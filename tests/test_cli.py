"""The ``labkit`` command: ``labkit info`` and ``labkit bench`` (small sizes, host pace)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from labkit import bench, cli


def test_info_still_works(board, capsys):
    assert cli.main(["info", "--pace", "host"]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED" in out and "pace: host" in out and "dma_pp" in out


def test_bench_prints_the_comparison_table_and_saves_records(board, capsys, tmp_path):
    csv_path, json_path = tmp_path / "out" / "b.csv", tmp_path / "out" / "b.json"
    code = cli.main(["bench", "--methods", "array_slice,dma", "--sizes", "1K,4096", "--repeats", "2",
                     "--warmup", "1", "--pace", "host", "--csv", str(csv_path), "--json", str(json_path),
                     "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "board: PYNQ-Z1 (simulated, host pace)" in out
    assert "measured on: " in out and "2 repeats after 1 warm-up" in out
    assert "'measured' = wall clock" in out and "'modelled'" in out and "'estimated'" in out
    assert "size 1 KiB" in out and "size 4 KiB" in out
    assert "estimated PYNQ-Z1" in out and out.count("1.00x") >= 4  # fastest measured and estimated, per size
    records = bench.load_json(json_path)
    assert [(r.method, r.size) for r in records] == [("array_slice", 1024), ("array_slice", 4096), ("dma", 1024),
                                                      ("dma", 4096)]
    assert [r.to_dict()["median_s"] for r in bench.load_csv(csv_path)] == [r.median_s for r in records]
    assert f"records saved to {csv_path}" in out


@pytest.mark.parametrize("args, message", [
    (["--sizes", "huge"], "cannot read the size 'huge'"),
    (["--methods", "dma,teleport"], "unknown method(s) 'teleport'"),
    (["--repeats", "0"], "repeats must be"),
])
def test_bench_explains_bad_arguments(board, capsys, args, message):
    assert cli.main(["bench", "--pace", "host", "--no-progress", *args]) == 2
    assert message in capsys.readouterr().err


def test_bench_exits_1_when_a_cell_fails(board, capsys, monkeypatch):
    real_measure = bench.measure

    def flaky(method, *args, **kwargs):
        if method == "dma":
            raise RuntimeError("DMA channel not idle")
        return real_measure(method, *args, **kwargs)

    monkeypatch.setattr(bench, "measure", flaky)
    code = cli.main(["bench", "--methods", "array_slice,dma", "--sizes", "1K", "--repeats", "1", "--pace", "host",
                     "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED: RuntimeError: DMA channel not idle" in captured.out  # the table still comes out
    assert "dma @ 1 KiB failed" in captured.err and "Traceback" in captured.err


def test_labkit_bench_command_line():
    env = dict(os.environ, LABKIT_BOARD="sim", LABKIT_SIM_PACE="host")
    done = subprocess.run([sys.executable, "-m", "labkit.cli", "bench", "--methods", "array_slice", "--sizes", "2K",
                           "--repeats", "1"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "size 2 KiB" in done.stdout and "array_slice" in done.stdout and "1.00x" in done.stdout
