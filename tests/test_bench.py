"""labkit.bench: statistics, records and their files, the comparison table, errors, background runs."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest

from labkit import bench
from labkit.bench import BenchError, BenchRecord, PhaseStats, Sweep, comparison_table, summarize
from labkit.sim.timeline import Interval
from labkit.transfer import Phase, TransferResult

BOARD = "PYNQ-Z1 (simulated, host pace)"


def fake_result(measured: float, *, modelled: float | None = 0.5e-3, estimated: float | None = 2e-3,
                simulated: bool = True, nbytes: int = 1000, verified: bool = True,
                intervals: list | None = None) -> TransferResult:
    """A TransferResult with known times: write = 1/4 of the total, wait = 3/4."""
    phases = [Phase("write", measured / 4, 0.0 if simulated else None, estimated / 4 if estimated else None, 1),
              Phase("wait", 3 * measured / 4, modelled if simulated else None,
                    3 * estimated / 4 if estimated else None, 2)]
    return TransferResult(
        method="dma", kernel="k", board=BOARD if simulated else "real board", simulated=simulated,
        pace="host" if simulated else None, machine="testhost", nbytes_in=nbytes, nbytes_out=nbytes, phases=phases,
        verified=verified, mismatches=0 if verified else 3, output=np.zeros(1), intervals=intervals or [],
        options={"chunk_words": np.int64(16)})


def record(method: str, median: float, *, size: int = 4096, estimated: float | None = None,
           simulated: bool = True, error: str | None = None) -> BenchRecord:
    if error:
        return BenchRecord(method=method, size=size, error=error, board=BOARD, simulated=simulated, machine="testhost")
    return BenchRecord(method=method, size=size, nbytes_in=size, nbytes_out=size, repeats=3, warmup=1,
                       samples_s=[median * 0.9, median, median * 1.2], median_s=median, min_s=median * 0.9,
                       max_s=median * 1.2, q1_s=median * 0.95, q3_s=median * 1.1, modelled_s=median / 2 if simulated
                       else None, estimated_s=estimated, verified=True, board=BOARD if simulated else "real board",
                       simulated=simulated, pace="host" if simulated else None, machine="testhost",
                       phases={"write": PhaseStats(median / 4, 0.0, None, 1)})


# -- statistics ----------------------------------------------------------------------------------------------

def test_summarize_odd_count_with_an_outlier():
    s = summarize([3.0, 1.0, 100.0, 2.0, 4.0])
    assert (s.n, s.median, s.min, s.max, s.q1, s.q3) == (5, 3.0, 1.0, 100.0, 2.0, 4.0)
    assert s.spread == 99.0 and s.iqr == 2.0


def test_summarize_even_count_and_one_sample():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s.median == 2.5 and s.q1 == pytest.approx(1.75) and s.q3 == pytest.approx(3.25)
    one = summarize([0.5])
    assert (one.median, one.min, one.max, one.q1, one.q3, one.spread) == (0.5, 0.5, 0.5, 0.5, 0.5, 0.0)


def test_summarize_refuses_nothing_and_nan():
    with pytest.raises(BenchError, match="at least one sample"):
        summarize([])
    with pytest.raises(BenchError, match="NaN"):
        summarize([1.0, math.nan])


def test_modelled_busy_is_the_union_of_intervals():
    ivs = [Interval("a", "LB", 0.0, 2.0, 1), Interval("b", "COM", 1.0, 3.0, 1),  # overlap: 0..3
           Interval("c", "SB", 5.0, 6.0, 1),  # gap 3..5 not counted
           Interval("d", "stall", 3.0, 5.0, 1)]  # stalls are not work
    assert bench.modelled_busy_s(ivs) == pytest.approx(4.0)
    assert bench.modelled_busy_s(ivs, ["LB"]) == pytest.approx(2.0)
    assert bench.modelled_busy_s([]) == 0.0


def test_record_from_results_takes_medians_and_keeps_the_cold_run():
    results = [fake_result(t) for t in (4e-3, 1e-3, 2e-3, 3e-3, 100e-3)]
    rec = BenchRecord.from_results("dma", 1000, results, cold=fake_result(50e-3), warmup=1)
    assert rec.samples_s == pytest.approx([4e-3, 1e-3, 2e-3, 3e-3, 100e-3])
    assert rec.median_s == pytest.approx(3e-3) and rec.min_s == pytest.approx(1e-3)
    assert rec.spread_s == pytest.approx(99e-3) and rec.iqr_s == pytest.approx(2e-3)
    assert rec.cold_s == pytest.approx(50e-3) and rec.repeats == 5 and rec.warmup == 1
    assert rec.phases["wait"].measured_s == pytest.approx(3 * 3e-3 / 4) and rec.phases["wait"].count == 2
    assert rec.modelled_s == pytest.approx(0.5e-3) and rec.estimated_s == pytest.approx(2e-3)
    assert rec.mb_per_s == pytest.approx(1000 / 3e-3 / 1e6)
    assert rec.verified and rec.ok and rec.options == {"chunk_words": 16}  # numpy scalar made plain
    assert rec.machine == "testhost" and rec.board == BOARD


def test_record_on_a_real_board_has_no_modelled_or_estimated_time():
    rec = BenchRecord.from_results("dma", 1000, [fake_result(1e-3, simulated=False, estimated=None)])
    assert rec.modelled_s is None and rec.estimated_s is None and rec.pl_busy_s is None
    assert rec.estimated_mb_per_s is None and rec.cold_s is None


def test_one_wrong_repeat_makes_the_record_unverified():
    rec = BenchRecord.from_results("dma", 1000, [fake_result(1e-3), fake_result(1e-3, verified=False)])
    assert not rec.verified and rec.mismatches == 3 and "NOT VERIFIED" in rec.describe()


# -- sizes ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [(22400, 22400), ("22400", 22400), ("64K", 65536), ("64KiB", 65536),
                                         ("1M", 1 << 20), ("1mib", 1 << 20), ("1.5M", 3 << 19), ("2G", 2 << 30)])
def test_parse_size(text, value):
    assert bench.parse_size(text) == value


@pytest.mark.parametrize("text", ["", "abc", "12Q", "-4", "0", "1 MB/s"])
def test_parse_size_says_what_it_expected(text):
    with pytest.raises(BenchError, match="22400, 64K, 1M|at least 1 byte"):
        bench.parse_size(text)


def test_parse_sizes_and_format_size():
    assert bench.parse_sizes("22400,64K, 1M") == [22400, 65536, 1 << 20]
    assert bench.format_size(1 << 20) == "1 MiB" and bench.format_size(22400) == "22,400 B"


# -- files --------------------------------------------------------------------------------------------------------

def sample_records() -> list[BenchRecord]:
    recs = [BenchRecord.from_results("dma", 1000, [fake_result(t) for t in (1e-3, 2e-3, 3e-3)],
                                     cold=fake_result(9e-3), warmup=1),
            BenchRecord.from_results("dma", 1000, [fake_result(1e-3, simulated=False, estimated=None)]),
            BenchRecord.failed("per_word", 2048, ValueError("bad input"), board=BOARD, simulated=True)]
    recs[0].phases["sync back"] = PhaseStats(1e-6, None, None, 1)  # a phase name with a space
    return recs


def test_json_round_trip(tmp_path):
    recs = sample_records()
    path = bench.save_json(recs, tmp_path / "sub" / "bench.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == "labkit-bench" and len(doc["records"]) == 3
    back = bench.load_json(path)
    assert [r.to_dict() for r in back] == [r.to_dict() for r in recs]
    assert math.isnan(back[2].median_s) and back[2].error == "ValueError: bad input"
    assert "bad input" in back[2].traceback


def test_csv_round_trip(tmp_path):
    recs = sample_records()
    path = bench.save_csv(recs, tmp_path / "bench.csv")
    header = path.read_text().splitlines()[0].split(",")
    assert "median_s" in header and "phase:wait:measured_s" in header and "phase:sync back:modelled_s" in header
    back = bench.load_csv(path)
    for a, b in zip(back, recs):
        da, db = a.to_dict(), b.to_dict()
        da.pop("traceback"), db.pop("traceback")  # not a CSV column
        assert da == db


def test_load_refuses_other_files(tmp_path):
    (tmp_path / "x.json").write_text('{"records": []}')
    with pytest.raises(BenchError, match="not a labkit bench file"):
        bench.load_json(tmp_path / "x.json")
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(BenchError, match="columns"):
        bench.load_csv(tmp_path / "x.csv")


# -- the comparison table -----------------------------------------------------------------------------------------

def test_comparison_table_ratios_to_the_fastest():
    recs = [record("per_word", 10e-3, estimated=200e-3), record("dma", 1e-3, estimated=4e-3),
            record("array_slice", 2e-3, estimated=2e-3), record("packed16", 0, error="TransferError: nope")]
    text = comparison_table(recs)
    lines = {line.split("|")[0].strip(): line for line in text.splitlines() if "|" in line}
    cols = lambda name: [c.strip() for c in lines[name].split("|")]  # noqa: E731
    # method, bytes, median, min-max, MB/s, ratio, cold | modelled | est. time, est. MB/s, est. ratio
    assert cols("dma")[5] == "1.00x" and cols("array_slice")[5] == "2.00x" and cols("per_word")[5] == "10.00x"
    assert cols("array_slice")[10] == "1.00x" and cols("dma")[10] == "2.00x" and cols("per_word")[10] == "100.00x"
    assert cols("dma")[6] == "-"  # no cold run recorded in these records
    assert "FAILED: TransferError: nope" in lines["packed16"]
    assert "measured on: testhost" in text and "estimated PYNQ-Z1" in text and "modelled" in text
    order = [line.split("|")[0].strip() for line in text.splitlines() if "|" in line][2:]
    assert order == ["dma", "array_slice", "per_word", "packed16"]  # fastest first, failures last


def test_comparison_table_on_a_real_board_has_only_measured_columns():
    text = comparison_table([record("dma", 1e-3, simulated=False), record("array_slice", 3e-3, simulated=False)])
    assert "estimated" not in text.split("kinds of time")[1].split("\n", 1)[1]
    assert "modelled" not in text and "3.00x" in text and "every time here is measured" in text


def test_comparison_table_groups_by_size():
    text = comparison_table([record("dma", 1e-3, size=1024), record("dma", 2e-3, size=1 << 20)])
    assert text.index("size 1 KiB") < text.index("size 1 MiB")
    assert comparison_table([]) == "(no benchmark records yet)"


# -- sweeps on the simulated board ---------------------------------------------------------------------------------

def test_sweep_runs_every_cell_with_three_kinds_of_time(board):
    sweep = Sweep(["array_slice", "dma"], ["1K", 4096], overlay=board, repeats=3, warmup=1, progress=None,
                  keep_results=True)
    seen = []
    sweep.subscribe(seen.append)
    records = sweep.run()
    assert [(r.method, r.size) for r in records] == sweep.cells == [("array_slice", 1024), ("array_slice", 4096),
                                                                     ("dma", 1024), ("dma", 4096)]
    assert seen == records and sweep.done and not sweep.running
    for r in records:
        assert r.ok and r.verified and r.repeats == 3 and len(r.samples_s) == 3 and r.cold_s is not None
        assert r.min_s <= r.median_s <= r.max_s
        assert r.modelled_s > 0 and r.estimated_s > 0 and r.pl_busy_s > 0
        assert r.simulated and "simulated" in r.board and r.pace == "host" and r.machine
        assert "write" in r.phases
    assert ("dma", 4096) in sweep.results and sweep.results[("dma", 4096)].intervals
    assert "vs fastest" in sweep.table()


def test_measure_one_cell_with_own_data_and_no_warmup(board):
    data = np.arange(70 * 80, dtype=np.uint32).reshape(70, 80)
    rec = bench.measure("array_slice", board, data=data, repeats=2, warmup=0)
    assert rec.size == data.nbytes and rec.cold_s is None and rec.repeats == 2 and rec.verified
    with pytest.raises(BenchError, match="needs nbytes"):
        bench.measure("array_slice", board)


def test_sweep_checks_its_arguments(board):
    with pytest.raises(BenchError, match="unknown method.*'dmaa'.*methods: per_word"):
        Sweep(["dmaa"], [1024], overlay=board)
    with pytest.raises(BenchError, match="repeats must be"):
        Sweep(["dma"], [1024], overlay=board, repeats=0)
    with pytest.raises(BenchError, match="warmup must be"):
        Sweep(["dma"], [1024], overlay=board, warmup=-1)
    with pytest.raises(BenchError, match="options given for 'per_word'"):
        Sweep(["dma"], [1024], overlay=board, options={"per_word": {}})
    with pytest.raises(BenchError, match="cannot read the size"):
        Sweep(["dma"], ["lots"], overlay=board)


def test_a_failing_cell_is_recorded_and_raised_at_the_end(board):
    sweep = Sweep(["dma", "array_slice"], [1024], overlay=board, repeats=1, progress=None,
                  options={"dma": {"chunk_words": 0}})
    with pytest.raises(BenchError, match=r"1 of 2 benchmark cells failed[\s\S]*dma @ 1 KiB: TransferError"):
        sweep.run()
    assert len(sweep.records) == 2  # the sweep went on after the failure
    failed, ok = sweep.records
    assert failed.error.startswith("TransferError") and "chunk_words" in failed.error and failed.traceback
    assert not failed.ok and ok.ok and sweep.errors == [failed]
    assert "FAILED: TransferError" in sweep.table()
    assert sweep.run(raise_errors=False)[0].error  # runs again, no exception


def test_a_failing_observer_warns_and_the_sweep_goes_on(board):
    sweep = Sweep(["array_slice"], [1024, 2048], overlay=board, repeats=1, progress=None)

    def broken(_record):
        raise RuntimeError("chart exploded")

    sweep.subscribe(broken)
    with pytest.warns(RuntimeWarning, match="chart exploded"):
        records = sweep.run()
    assert len(records) == 2 and len(sweep.observer_errors) == 2


def test_background_sweep_start_join(board):
    sweep = Sweep(["array_slice", "dma"], [1024], overlay=board, repeats=2, progress=None)
    assert sweep.start() is sweep
    records = sweep.join(timeout=60)
    assert len(records) == 2 and all(r.ok for r in records) and sweep.done and not sweep.running
    assert sweep.start().join(timeout=60)  # can run again once finished


def test_background_sweep_stops_and_refuses_a_second_start(board):
    sweep = Sweep(["per_word", "array_slice", "dma"], [1024, 2048, 4096], overlay=board, repeats=2, progress=None)
    gate = threading.Event()

    def first(_record):
        sweep.stop()
        gate.wait(10)  # keep the sweep busy until the test has tried a second start

    sweep.subscribe(first)
    sweep.start()
    with pytest.raises(BenchError, match="already running"):
        sweep.start()
    with pytest.raises(BenchError, match="already running"):
        sweep.run()
    gate.set()
    records = sweep.join(timeout=60)
    assert sweep.stopped and len(records) == 1 < len(sweep.cells) and not sweep.running


def test_background_errors_are_raised_by_join(board):
    sweep = Sweep(["dma"], [1024], overlay=board, repeats=1, progress=None, options={"dma": {"chunk_words": -1}})
    sweep.start()
    with pytest.raises(BenchError, match="chunk_words"):
        sweep.join(timeout=60)
    assert sweep.join(timeout=1, raise_errors=False)[0].error


class Reporter:
    def __init__(self):
        self.calls = []

    def begin(self, sweep):
        self.calls.append(("begin", len(sweep.cells)))

    def cell(self, method, size):
        self.calls.append(("cell", method, size))

    def record(self, rec):
        self.calls.append(("record", rec.method))

    def end(self, sweep):
        self.calls.append(("end",))


def test_progress_reporters(board, capsys):
    rep = Reporter()
    Sweep(["array_slice"], [1024, 2048], overlay=board, repeats=1, progress=rep).run()
    assert rep.calls == [("begin", 2), ("cell", "array_slice", 1024), ("record", "array_slice"),
                         ("cell", "array_slice", 2048), ("record", "array_slice"), ("end",)]
    Sweep(["array_slice"], [1024], overlay=board, repeats=1, progress="text").run()
    assert "labkit bench" in capsys.readouterr().err  # the tqdm bar went to stderr
    with pytest.raises(BenchError, match="progress must be"):
        Sweep(["array_slice"], [1024], overlay=board, progress="fancy").run()
