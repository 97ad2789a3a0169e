"""labkit.widgets without a browser: every comm message is recorded by a dummy comm.

As in ipywidgets' own tests (widgets/tests/utils.py), an autouse fixture replaces the comm
factory, so each widget gets a :class:`DummyComm` that keeps the messages it would send.
The tests check STYLE.md's rules for widgets: figures built once, updates inside hold_sync
(one message per widget per update), a bounded number of messages under many updates, float32
arrays, and labels that say which kind of time they show.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import comm
import bqplot as bq
import numpy as np
import pytest

import labkit.widgets as lw
from labkit.bench import BenchRecord, PhaseStats, Sweep
from labkit.transfer import Phase, TransferResult, make_input, run
from labkit.widgets import BandwidthPlot, PingPongTimeline, SweepProgress, TransferRace
from labkit.widgets.bandwidth import limit_tag
from labkit.widgets.timeline import first_calls_end
from labkit.widgets._common import Throttle

BOARD = "PYNQ-Z1 (simulated, host pace)"


class DummyComm:
    comm_id = "a-b-c-d"
    kernel = "Truthy"

    def __init__(self, *args, **kwargs):
        self.messages: list[dict] = []

    def open(self, *args, **kwargs):
        pass

    def on_msg(self, *args, **kwargs):
        pass

    def send(self, *args, data=None, buffers=None, **kwargs):
        self.messages.append({"data": data, "buffers": buffers})

    def close(self, *args, **kwargs):
        pass


class CommLog:
    def __init__(self):
        self.comms: list[DummyComm] = []

    def create(self, *args, **kwargs) -> DummyComm:
        c = DummyComm()
        self.comms.append(c)
        return c

    def total(self) -> int:
        return sum(len(c.messages) for c in self.comms)

    def reset(self) -> None:
        for c in self.comms:
            c.messages.clear()


@pytest.fixture(autouse=True)
def comms(monkeypatch) -> CommLog:
    log = CommLog()
    monkeypatch.setattr(comm, "create_comm", log.create)
    return log


def updates(widget) -> list[dict]:
    """The state-update messages a widget sent."""
    return [m["data"] for m in widget.comm.messages if m["data"] and m["data"].get("method") == "update"]


def rec(method: str, median: float, *, size: int = 4096, estimated: float | None = None,
        simulated: bool = True, machine: str = "testhost", error: str | None = None) -> BenchRecord:
    if error:
        return BenchRecord(method=method, size=size, error=error, board=BOARD, simulated=simulated, machine=machine)
    return BenchRecord(method=method, size=size, nbytes_in=size, nbytes_out=size, repeats=3, warmup=1,
                       samples_s=[median] * 3, median_s=median, min_s=median, max_s=median, q1_s=median,
                       q3_s=median, estimated_s=estimated, modelled_s=median / 2 if simulated else None,
                       verified=True, board=BOARD if simulated else "real board", simulated=simulated,
                       pace="host" if simulated else None, machine=machine,
                       phases={"write": PhaseStats(median, None, None, 1)})


# -- the throttle ------------------------------------------------------------------------------------------------

def test_throttle_runs_at_once_then_at_most_once_per_interval():
    calls = []
    t = Throttle(lambda: calls.append(time.monotonic()), interval=0.2)
    for _ in range(100):
        t()
    assert len(calls) == 1 and t.requests == 100  # the first at once, the rest pending
    t.flush()
    assert len(calls) == 2
    t.flush()
    assert len(calls) == 2  # nothing pending: nothing runs


def test_throttle_never_loses_the_last_request():
    calls = []
    t = Throttle(lambda: calls.append(1), interval=0.05)
    t()
    t()  # pending: a timer runs it when the interval is over
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 2


def test_throttle_waits_while_a_benchmark_is_timing():
    calls = []
    busy = [True]
    t = Throttle(lambda: calls.append(1), interval=0.02, defer_while=lambda: busy[0])
    t()
    time.sleep(0.1)
    assert calls == []  # deferred, timer re-armed
    busy[0] = False
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == [1]


def test_no_redraw_while_measure_times_its_runs(board, monkeypatch):
    from labkit import bench

    race = TransferRace(["array_slice"], throttle_s=0.0)
    seen = []
    race._throttle.fn = lambda: seen.append(bench.measuring())
    added = threading.Event()  # a record arrives from another thread while the runs are being timed

    def add_meanwhile(_result=None):
        race.add(rec("array_slice", 1e-3))
        added.set()

    import labkit.transfer as transfer
    real_run = transfer.Transfer.run

    def run_and_add(self, verify=True):
        if not added.is_set():
            threading.Thread(target=add_meanwhile).start()
            added.wait(5)
        return real_run(self, verify)

    monkeypatch.setattr(transfer.Transfer, "run", run_and_add)
    bench.measure("array_slice", board, 1024, repeats=2, warmup=0)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [False]  # drawn, but only once the timing was over


def test_throttle_reports_errors():
    t = Throttle(lambda: 1 / 0, interval=0)
    with pytest.warns(RuntimeWarning, match="ZeroDivisionError"):
        t()
    assert isinstance(t.last_error, ZeroDivisionError)


# -- the registry --------------------------------------------------------------------------------------------------

def test_lazy_registry_names_resolve():
    assert {"TransferRace", "BandwidthPlot", "PingPongTimeline"} <= set(lw.__all__)
    assert lw._EXPORTS["ClassifierView"] == "classifier" and lw._EXPORTS["PowerMonitor"] == "power"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        lw.Nope  # noqa: B018
    for name in lw.__all__:
        assert getattr(lw, name).__name__ == name


def test_importing_labkit_widgets_does_not_import_bqplot():
    code = "import sys, labkit.widgets; assert 'bqplot' not in sys.modules, 'bqplot imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True, env={"LABKIT_BOARD": "sim", "PATH": ""})


# -- TransferRace --------------------------------------------------------------------------------------------------

METHODS = ["per_word", "array_slice", "dma"]


def test_race_is_built_once_and_many_updates_send_few_messages(comms):
    race = TransferRace(METHODS, throttle_s=0.5)
    widgets_before = len(comms.comms)
    figures, bars = race.figures, race._time_bars
    comms.reset()
    for i in range(1000):  # results far faster than a browser could draw them
        race.add(rec(METHODS[i % 3], 1e-3 * (1 + i % 7), estimated=5e-3))
    race.flush()
    assert len(comms.comms) == widgets_before, "updates must change traits, not build new widgets"
    assert race.figures == figures and race._time_bars is bars
    assert len(updates(bars)) <= 3, "throttled: one draw at once, one at flush (and maybe one timer)"
    assert comms.total() <= 3 * 12  # a dozen widgets at most, each once per draw
    assert race._throttle.requests == 1000 and race._throttle.runs <= 3


def test_race_updates_go_through_hold_sync(comms):
    race = TransferRace(METHODS, throttle_s=0.0)
    race.add(rec("dma", 1e-3, estimated=4e-3))
    race.flush()
    comms.reset()
    race.add(rec("per_word", 2e-5, estimated=1.0))  # new decades: y, base and the scale limits all change
    race.flush()
    bar_updates = updates(race._time_bars)
    assert len(bar_updates) == 1 and {"y", "base"} <= set(bar_updates[0]["state"])
    scale_updates = updates(race._time_y)
    assert len(scale_updates) == 1 and {"min", "max"} <= set(scale_updates[0]["state"])
    comms.reset()
    race._render()  # nothing changed: hold_sync sends nothing
    assert comms.total() == 0


def test_race_sends_float32_and_fills_in_per_method():
    race = TransferRace(METHODS, throttle_s=0.0)
    race.add(rec("dma", 1e-3, estimated=4e-3))
    race.add(rec("per_word", 3e-3, estimated=0.2))
    race.flush()
    y = race._time_bars.y
    assert y.dtype == np.float32 and y.shape == (2, 3)
    assert y[0, 2] == pytest.approx(1e-3) and y[1, 2] == pytest.approx(4e-3)  # dma: measured, estimated
    assert race._time_bars.base < 1e-3 and race._time_y.max > 0.2  # no value sits on the ends of the axis
    assert y[0, 1] == pytest.approx(race._time_bars.base)  # array_slice has no result yet: a bar of length zero
    assert race._rate_bars.y[0, 2] == pytest.approx(4096 / 1e-3 / 1e6)
    assert "per_word 3.0x" in race._footer.value


def test_race_labels_say_measured_and_estimated():
    race = TransferRace(METHODS, throttle_s=0.0)
    race.add(rec("dma", 1e-3, estimated=4e-3, machine="laptop-7"))
    race.flush()
    assert race._time_bars.labels == ["measured: laptop-7", "estimated: PYNQ-Z1 (board profile)"]
    assert "measured" in race._caption.value and "estimated" in race._caption.value
    real = TransferRace(METHODS, throttle_s=0.0)
    real.add(rec("dma", 1e-3, simulated=False, machine="pynq"))
    real.flush()
    assert real._time_bars.labels == ["measured: pynq", "estimated: none (real board)"]
    assert "estimated" not in real._caption.value


def test_race_shows_one_size_and_failures():
    race = TransferRace(METHODS, throttle_s=0.0)
    race.add(rec("dma", 1e-3, size=1024))
    race.add(rec("dma", 9e-3, size=1 << 20))
    race.add(rec("per_word", 0, size=1024, error="TransferError: broken"))
    race.flush()
    assert race.size == 1024 and race._size_pick.options == ((f"1 KiB", 1024), ("1 MiB", 1 << 20))
    assert race._time_bars.y[0, 2] == pytest.approx(1e-3)
    assert "TransferError: broken" in race._footer.value
    race._size_pick.value = 1 << 20  # the student picks the other size
    race.flush()
    assert race._time_bars.y[0, 2] == pytest.approx(9e-3)


def test_race_accepts_transfer_results_and_refuses_other_things(board):
    race = TransferRace(["array_slice"], throttle_s=0.0)
    race.add(run("array_slice", board, make_input("array_slice", 4096)))
    race.flush()
    assert race._time_bars.y[0, 0] > race._time_bars.base
    with pytest.raises(TypeError, match="BenchRecord or a labkit.transfer.TransferResult"):
        race.add({"method": "dma"})


def test_race_follows_a_background_sweep_with_stop(board):
    race = TransferRace(["array_slice", "dma"], throttle_s=0.05)
    sweep = race.start(board, sizes=[1024], repeats=1, progress=None)
    assert sweep is race.sweep
    records = race.join(timeout=60)
    assert len(records) == 2
    assert np.all(race._time_bars.y[0] > race._time_bars.base)
    race.stop()  # harmless once finished
    late = TransferRace(["dma"], throttle_s=0.0)
    late.follow(sweep)  # subscribing late still shows what the sweep already measured
    late.flush()
    assert late._time_bars.y[0, 0] > late._time_bars.base


def test_widgets_following_a_sweep_draw_only_between_cells(board):
    race = TransferRace(["array_slice", "dma"], throttle_s=0.0)
    threads = []
    draw = race._render
    race._render = lambda: (threads.append(threading.current_thread().name), draw())[1]
    race._throttle.fn = race._render
    sweep = Sweep(["array_slice", "dma"], [1024, 2048], overlay=board, repeats=2, progress=None)
    race.follow(sweep)
    assert race._throttle.trailing is False  # no timer threads while following
    finished = []
    sweep.subscribe(lambda r: None, on_finish=finished.append)
    sweep.start().join(timeout=60)
    assert finished == [sweep]
    assert threads and set(threads) <= {"labkit-bench", "MainThread"}, threads
    assert np.all(race._time_bars.y[0] > race._time_bars.base)


# -- BandwidthPlot ------------------------------------------------------------------------------------------------

def test_bandwidth_limits_are_labelled_measured_and_modelled(board):
    plot = BandwidthPlot(METHODS, overlay=board)
    by_name = {lim.name: lim for lim in plot.limits}
    assert by_name["copy"].kind == "measured" and by_name["copy"].label.startswith("measured: ")
    assert by_name["hp"].kind == "modelled" and by_name["hp"].mb_per_s == pytest.approx(800.0)
    assert "HP port 64 bit x 100 MHz" in by_name["hp"].label and by_name["hp"].label.startswith("modelled: ")
    assert by_name["axi_lite"].mb_per_s == pytest.approx(20.0) and "AXI-Lite" in by_name["axi_lite"].label
    lines = plot._limit_lines
    assert [line.labels[0] for line in lines] == [lim.label for lim in plot.limits]
    # written right of the plot, where no data line crosses them; the full labels are in the caption
    assert list(plot._limit_labels.text) == [limit_tag(lim) for lim in plot.limits]
    assert "HP port 800 MB/s (modelled)" in plot._limit_labels.text and not plot._limit_labels.apply_clip
    assert all(lim.label in plot._caption.value for lim in plot.limits)
    assert plot._limit_labels.y == pytest.approx([lim.mb_per_s for lim in plot.limits], rel=1e-6)
    # the legend is the caption (a bqplot legend sits on the data): every method by colour, every line style
    assert not any(line.display_legend for line in [*plot._estimated.values(), *plot._measured.values()])
    assert all(m in plot._caption.value for m in METHODS) and "dotted: limits" in plot._caption.value


def test_bandwidth_without_a_simulated_board_draws_only_the_measured_copy_limit():
    class RealOverlay:
        device = object()

    plot = BandwidthPlot(METHODS, overlay=RealOverlay())
    assert [lim.kind for lim in plot.limits] == ["measured"]


def test_bandwidth_plot_built_once_bounded_float32(comms, board):
    plot = BandwidthPlot(METHODS, overlay=board, throttle_s=0.5)
    before = len(comms.comms)
    comms.reset()
    for i in range(500):
        plot.add(rec(METHODS[i % 3], 1e-3, size=1024 * (1 + i % 100), estimated=2e-3))
    plot.flush()
    assert len(comms.comms) == before
    line = plot._measured["dma"]
    assert len(updates(line)) <= 3
    assert line.x.dtype == np.float32 and line.y.dtype == np.float32
    assert len(line.x) == 64  # a bounded window: the newest 64 sizes of each method
    assert np.all(np.diff(line.x) > 0)  # sorted by size
    assert len(plot._estimated["dma"].y) == 64
    assert "measured: testhost" in plot._caption.value and "estimated: PYNQ-Z1" in plot._caption.value


def test_bandwidth_plot_ignores_failures_and_unknown_methods():
    plot = BandwidthPlot(["dma"], measure_copy=False, throttle_s=0.0)
    plot.add(rec("dma", 0, error="boom"))
    plot.add(rec("per_word", 1e-3))
    plot.flush()
    assert len(plot._measured["dma"].x) == 0


# -- PingPongTimeline ----------------------------------------------------------------------------------------------

@pytest.fixture
def pingpong_runs(board):
    # 8 chunks of 16384 words: more calls than the timeline's opening view (ZOOM_CALLS = 4) shows, so
    # "opens on the first calls" does not hang on when the PS happened to leave an idle gap
    data = make_input("dma_pingpong", 512 * 1024)
    return run("dma", board, data), run("dma_pingpong", board, data)


def rows_of(panel) -> list[str]:
    return [panel.y_axis.tick_labels[k] for k in sorted(panel.y_axis.tick_labels)]


def test_timeline_has_lb_com_sb_rows_for_single_and_double_buffering(pingpong_runs, comms):
    single, double = pingpong_runs
    tl = PingPongTimeline(single, double)
    for panel in (tl._single, tl._double):
        assert rows_of(panel) == ["SB", "COM", "LB"]  # bottom to top: LB on top
        x, y = panel.lines.x, panel.lines.y
        assert x.dtype == np.float32 and x.shape[0] == 3
        for row in range(3):  # every stage has at least one bar
            assert np.isfinite(x[row]).sum() >= 2 and set(y[row][np.isfinite(y[row])]) == {row}
        assert np.nanmin(x) == 0.0  # microseconds from the first interval
    # the same time axis for both runs
    assert (tl._single.lines.scales["x"], tl._double.lines.scales["x"]) == tl.x_scales
    # it opens on the first calls (where turns vs overlap show), and zooms out to the whole run
    assert tl.zoom.value == "start"
    for panel in (tl._single, tl._double):
        assert panel.first_calls_us <= panel.x.max < panel.span_us
    tl.zoom.value = "all"  # the whole run: the same time axis for both
    assert tl.x_scales[0].max == tl.x_scales[1].max >= max(tl._single.span_us, tl._double.span_us)
    tl.zoom.value = "start"
    assert isinstance(tl._single.figure.interaction, bq.interacts.PanZoom)
    assert "modelled PL time (simulated board)" in tl._caption.value and "not measured" in tl._caption.value
    assert "single buffering (dma)" in tl._single.figure.title
    assert "double buffering (dma_pingpong)" in tl._double.figure.title
    assert "modelled PL-only time" in tl._summary.value and "measured on" in tl._summary.value
    assert "estimated PYNQ-Z1" in tl._summary.value
    n_widgets = len(comms.comms)
    comms.reset()
    tl.show(single, double)  # redraw: traits only, one message per changed widget
    assert len(comms.comms) == n_widgets
    assert all(len(updates(w)) <= 1 for w in (tl._single.lines, tl._double.lines, *tl.x_scales))


def test_timeline_from_board(board):
    tl = PingPongTimeline.from_board(board, "128K")
    assert [r.method for r in tl.results] == ["dma", "dma_pingpong"]
    assert rows_of(tl._double) == ["SB", "COM", "LB"]


def test_timeline_bounds_the_intervals_it_draws(pingpong_runs):
    tl = PingPongTimeline(*pingpong_runs, max_intervals=4)
    x = tl._single.lines.x
    drawn = sum(int(np.sum(np.isfinite(r[:-1]) & np.isfinite(r[1:]) & (r[1:] != r[:-1]))) for r in x)
    assert drawn == 4  # bars of non-zero length
    assert np.all(np.isfinite(x[:, -1])), "no line ends on NaN (bqplot would place its label at undefined)"
    assert "first 4 of" in tl._summary.value


def test_timeline_on_a_real_board_shows_measured_phases():
    phases = [Phase("write", 1e-3, None, None, 1), Phase("start", 2e-4, None, None, 4),
              Phase("wait", 3e-3, None, None, 4), Phase("read back", 1e-3, None, None, 1)]
    real = TransferResult(method="dma", kernel="k", board="Pynq-Z1", simulated=False, pace=None, machine="pynq",
                          nbytes_in=4096, nbytes_out=4096, phases=phases, verified=True, mismatches=0,
                          output=np.zeros(1))
    tl = PingPongTimeline(real, None)
    assert "real board" in tl._caption.value and "no modelled PL timeline" in tl._caption.value
    assert "measured: pynq" in tl._caption.value
    assert rows_of(tl._single) == ["read back", "wait", "start", "write"]  # write on top
    assert "laid end to end" in tl._single.figure.title and "laid end to end" in tl._summary.value
    assert tl._single.span_us == pytest.approx(5200.0, rel=1e-4)


def test_timeline_refuses_bench_records():
    with pytest.raises(TypeError, match="needs a TransferResult"):
        PingPongTimeline(rec("dma", 1e-3))


# -- SweepProgress -------------------------------------------------------------------------------------------------

def test_sweep_progress_widget(board):
    progress = SweepProgress(throttle_s=0.0)
    Sweep(["array_slice", "dma"], [1024], overlay=board, repeats=1, progress=progress).run()
    assert progress.bar.value == progress.bar.max == 2 and progress.bar.bar_style == "success"
    assert progress.label.value.startswith("done: 2/2 cells") and "measured: " in progress.label.value
    failing = SweepProgress(throttle_s=0.0)
    Sweep(["dma"], [1024], overlay=board, repeats=1, progress=failing,
          options={"dma": {"chunk_words": 0}}).run(raise_errors=False)
    assert failing.bar.bar_style == "danger" and "chunk_words" in failing.failures.value


def test_first_calls_stop_before_a_long_idle_gap():
    # single buffering with the PS busy after the first call: the view keeps that call only
    single = {"LB": [(0, 100), (5000, 5100)], "COM": [(100, 200), (5100, 5200)], "SB": [(100, 210)]}
    assert first_calls_end(single) == 210
    # double buffering, calls back to back: four calls, and what starts inside them
    double = {"LB": [(0, 100), (120, 220), (240, 340), (360, 460), (480, 580)], "COM": [(120, 200), (400, 470)]}
    assert first_calls_end(double) == 470
    assert first_calls_end({"LB": []}) == 0.0
