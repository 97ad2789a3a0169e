"""What recording power costs: a transfer benchmark with and without a 10 Hz power recorder running.

Target (issue 6): recording power at 10 Hz slows a transfer benchmark by less than 2%.  The
recorders: pynq's own ``DataRecorder`` on every modelled power sensor (``pynq.get_rails()`` on the
simulated PYNQ-Z1), and labkit's ``PowerMonitor`` widget (sampling thread + figure refresh, no
browser attached).  The benchmark: ``labkit.transfer`` ``dma`` of 256 KiB, buffers allocated once,
back to back -- in host pace (Python and the simulation as fast as this computer goes: the
recorder's thread competes for the interpreter) and in board pace (the PL takes its modelled time).

Noise must not decide: the runs come in pairs (with / without, order alternating), each run
lasts about ``--block`` seconds (several samples), and the table shows the median slow-down of
``--pairs`` pairs with a bootstrap 95% confidence interval -- and, much steadier, the recording
thread's own CPU time per second, which bounds what it can take from a benchmark that holds the
interpreter.  That bound decides; the wall clock can only veto, when even the lower end of its
interval is above the target.  Also shown: what one power reading costs and the
sample rate the recorders achieved.  Everything here is measured on this computer.

    python benchmarks/power_overhead.py [--pairs N] [--block SECONDS]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from contextlib import contextmanager
from functools import partial

os.environ.setdefault("LABKIT_BOARD", "sim")

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, measure, table, us  # noqa: E402

import pynq  # noqa: E402

import labkit  # noqa: E402
import labkit.power  # noqa: E402
from labkit.transfer import Transfer, make_input  # noqa: E402
from labkit.widgets.power import PowerMonitor  # noqa: E402

RATE_HZ = 10.0
TARGET = 0.02
NBYTES = 256 * 1024


def runs_per_block(transfer: Transfer, block_s: float) -> int:
    """How many transfers take about ``block_s`` seconds (after a warm-up)."""
    transfer.run(verify=False)
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < 0.2:
        transfer.run(verify=False)
        n += 1
    return max(1, int(n * block_s / (time.perf_counter() - start)))


def block(transfer: Transfer, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        transfer.run(verify=False)
    return (time.perf_counter() - start) / n


def _thread_cpu_s(thread) -> float:
    """CPU seconds a (still running) thread has used so far."""
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def _add(stats: dict, seconds: float, cpu_s: float, times: list[float]) -> None:
    stats["seconds"] = stats.get("seconds", 0.0) + seconds
    stats["cpu_s"] = stats.get("cpu_s", 0.0) + cpu_s
    if len(times) > 1:
        stats["intervals"] = stats.get("intervals", 0) + len(times) - 1
        stats["interval_s"] = stats.get("interval_s", 0.0) + (times[-1] - times[0])


class ConstantSensor:
    """A sensor that costs nothing to read: what is left is pynq's DataRecorder itself (pandas)."""

    def __init__(self, name: str) -> None:
        self.name, self.parents = name, ()

    def get_value(self, parents=None) -> float:
        return 1.0

    @property
    def value(self) -> float:
        return 1.0


@contextmanager
def data_recorder(stats: dict, constant: bool = False):
    sensors = ([ConstantSensor(f"s{i}") for i in range(6)] if constant
               else [rail.power for rail in pynq.get_rails().values()])
    recorder = pynq.DataRecorder(*sensors)
    start = time.perf_counter()
    recorder.record(1 / RATE_HZ)
    thread = recorder._thread
    try:
        yield
    finally:
        cpu = _thread_cpu_s(thread)
        recorder.stop()
        times = [t.timestamp() for t in recorder.frame.index]
        _add(stats, time.perf_counter() - start, cpu, times)


@contextmanager
def power_monitor(stats: dict):
    monitor = PowerMonitor(interval=1 / RATE_HZ, window_s=30.0, refresh_s=0.5)
    start = time.perf_counter()
    monitor.start()
    thread = monitor._thread
    try:
        yield
    finally:
        cpu = _thread_cpu_s(thread)
        monitor.stop()
        _add(stats, time.perf_counter() - start, cpu, list(monitor._t))
        stats.setdefault("errors", []).extend(monitor.errors)


def median_ci(values: list[float], level: float = 0.95, resamples: int = 4000) -> tuple[float, float]:
    """Bootstrap confidence interval of the median (seeded: the same data give the same interval)."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    cut = int((1 - level) / 2 * resamples)
    return medians[cut], medians[-cut - 1]


def overhead(transfer: Transfer, recorder, pairs: int, block_s: float) -> tuple[list[float], dict]:
    """The paired slow-downs (with / without - 1), and the recorder's statistics."""
    n = runs_per_block(transfer, block_s)
    stats: dict = {}
    ratios = []
    for i in range(pairs):
        plain = with_rec = 0.0
        for order in ((False, True) if i % 2 == 0 else (True, False)):
            if order:
                with recorder(stats):
                    with_rec = block(transfer, n)
            else:
                plain = block(transfer, n)
        ratios.append(with_rec / plain - 1.0)
    return ratios, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15, help="with/without pairs per row (default 15)")
    parser.add_argument("--block", type=float, default=0.5, help="seconds per run (default 0.5)")
    args = parser.parse_args()

    rows = []
    read_cost = None
    for pace in ("host", "board"):
        overlay = labkit.open_board(pace=pace)
        source = labkit.power.open_power(overlay)
        if read_cost is None:
            read_cost, _ = measure(lambda: source.meter.read(), number=200)  # min_window: mostly cached
            source.meter.min_window_s, saved = 0.0, source.meter.min_window_s
            full_cost, _ = measure(lambda: source.meter.read(), number=200)
            source.meter.min_window_s = saved
        with Transfer("dma", overlay, make_input("dma", NBYTES)) as transfer:
            per_run = block(transfer, 20)
            for name, recorder in (("pynq.DataRecorder, 6 modelled rails", data_recorder),
                                   ("pynq.DataRecorder, 6 constant sensors", partial(data_recorder, constant=True)),
                                   ("labkit PowerMonitor widget", power_monitor)):
                ratios, stats = overhead(transfer, recorder, args.pairs, args.block)
                med = statistics.median(ratios)
                lo, hi = median_ci(ratios)
                rate = stats["intervals"] / stats["interval_s"] if stats.get("intervals") else float("nan")
                cpu_share = stats["cpu_s"] / stats["seconds"]
                if cpu_share >= TARGET:
                    verdict = "NO (CPU)"
                elif lo >= TARGET:
                    verdict = "NO (wall clock)"
                else:
                    verdict = "yes"
                rows.append([pace, name, us(per_run), f"{100 * cpu_share:.2f}%", f"{100 * med:+.2f}%",
                             f"{100 * lo:+.2f}% .. {100 * hi:+.2f}%", f"{rate:.2f} Hz", verdict])
                if stats.get("errors"):
                    print(f"PowerMonitor errors: {stats['errors'][:3]}")
        overlay.device.fabric.pace = "board"

    print(f"measured on: {machine()}")
    print(f"benchmark: labkit.transfer 'dma' of {NBYTES // 1024} KiB, buffers allocated once; power recorded at "
          f"{RATE_HZ:g} Hz; {args.pairs} with/without pairs of ~{args.block:g} s per row")
    print(table(["pace", "recorder", "one transfer", "recorder CPU", "slow-down (median)", "slow-down (95% CI)",
                 "sample rate", f"< {100 * TARGET:.0f}%"], rows))
    print("recorder CPU: the recording thread's CPU time per second of recording, a share of one core. With the GIL "
          "that is the most it can take from a benchmark that holds the interpreter; it decides the verdict.\n"
          "slow-down: median of the paired wall-clock runs, with a bootstrap 95% confidence interval of the median "
          "(its width is this computer's noise); it vetoes only if even its lower end is above the target.")
    print(f"one power reading of the model: {us(full_cost)} (a new window), {us(read_cost)} (within the 5 ms "
          "conversion window: cached)")


if __name__ == "__main__":
    main()
