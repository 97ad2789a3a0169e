"""labkit.estimate: the board estimate scales the student's Python, not whatever else this computer did.

The estimate is (Python measured here) x (board / this computer, calibrated on the forum's loop).
These tests pin down what "the Python measured here" leaves out -- time the thread did not run,
bursts inside a loop, the simulation's own stalls -- and how the calibration is taken.
"""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

import labkit
from pynq import MMIO

from labkit import estimate
from labkit.kernels import mmio_rowsum
from labkit.sim.fabric import BLOCK_ACCESSES

IMAGE = mmio_rowsum.MEMORIES["image"]["offset"]


def _image_window(board) -> MMIO:
    entry = board.ip_dict["mmio_rowsum"]
    return MMIO(entry["phys_addr"], entry["addr_range"], device=board.device)


def _per_word(pl: MMIO, words: int, pause_at: int = -1, pause_s: float = 0.0) -> None:
    """The forum's loop body ``words`` times; optionally the thread sleeps once in the middle."""
    for k in range(words):
        pl.write(IMAGE + 4 * (k % 4096), k)
        if k == pause_at:
            time.sleep(pause_s)


def _timed(probe, work) -> tuple[float, object, object]:
    """(elapsed, before, after) around ``work()``, as labkit.transfer's recorder takes them."""
    before = probe.snapshot()
    start = time.perf_counter()
    work()
    elapsed = time.perf_counter() - start
    return elapsed, before, probe.snapshot()


def test_the_estimate_and_the_simulated_board_agree_on_the_block_size():
    assert estimate.BLOCK == BLOCK_ACCESSES


def test_the_simulated_board_times_register_accesses_in_blocks(board):
    fabric = board.device.fabric
    pl = _image_window(board)
    count, blocks = fabric.access_count(), fabric.access_blocks()
    _per_word(pl, 10 * BLOCK_ACCESSES + 1)
    assert fabric.access_count() - count == 10 * BLOCK_ACCESSES + 1
    assert fabric.access_blocks() - blocks == 10
    seconds = fabric.access_block_seconds(blocks, blocks + 10)
    assert seconds.shape == (10,) and np.all(seconds > 0)
    assert fabric.access_block_seconds(blocks + 10, blocks + 20).size == 0  # not timed yet


def test_a_pause_inside_a_loop_of_accesses_is_not_python(board):
    """A 50 ms stretch where the thread does not run (here: sleeps; in a lab: another program has
    the core) in the middle of 2000 MMIO writes is left out of the loop's Python."""
    probe = labkit.probe(board)
    pl = _image_window(board)
    elapsed, before, after = _timed(probe, lambda: _per_word(pl, 2000, pause_at=1000, pause_s=0.05))
    assert elapsed > 0.05
    assert probe.python_s(elapsed, before, after) < 0.02  # 2000 writes: ~2 ms here, 10x that under load


def test_a_pause_in_a_short_stretch_is_not_python(board):
    """Too few accesses for blocks: the thread's CPU time leaves the pause out."""
    probe = labkit.probe(board)
    pl = _image_window(board)
    elapsed, before, after = _timed(probe, lambda: _per_word(pl, 10, pause_at=5, pause_s=0.05))
    assert elapsed > 0.05
    assert probe.python_s(elapsed, before, after) < 0.01


def test_python_work_is_counted(board):
    """A stretch of plain Python: its Python is this thread's CPU time for it."""
    probe = labkit.probe(board)

    def work() -> None:
        total = 0
        for k in range(200_000):
            total += k * k

    cpu = estimate.cpu_time()
    elapsed, before, after = _timed(probe, work)
    cpu = estimate.cpu_time() - cpu
    python = probe.python_s(elapsed, before, after)
    assert 0.8 * cpu - 1e-3 < python <= elapsed


def test_a_loop_of_accesses_counts_about_its_cpu_time(board):
    """The block statistic of an undisturbed loop is close to what the loop cost (not 0, not 10x)."""
    probe = labkit.probe(board)
    pl = _image_window(board)
    gc.disable()
    try:
        cpu = estimate.cpu_time()
        elapsed, before, after = _timed(probe, lambda: _per_word(pl, 4000))
        cpu = estimate.cpu_time() - cpu
    finally:
        gc.enable()
    python = probe.python_s(elapsed, before, after)
    assert 0.3 * cpu < python <= 1.05 * cpu + 1e-4


def test_a_bus_stall_counts_what_it_cost_this_thread(board):
    """Board pace: a 5600-word slice stalls ~1.1 ms for its modelled bus time with the GIL released.
    Another Python thread takes the GIL meanwhile, so the stall ends waiting for it: that wait is
    not the simulation's work, and counting it as such would take it out of the student's Python
    twice (once as simulation, once as time the thread did not run)."""
    fabric = board.device.fabric
    fabric.pace = "board"
    pl = _image_window(board)
    data = np.arange(5600, dtype=np.uint32)
    stop = threading.Event()

    def busy() -> None:
        deadline = time.perf_counter() + 10.0  # never outlives the test
        while not stop.is_set() and time.perf_counter() < deadline:
            sum(range(1000))

    other = threading.Thread(target=busy, daemon=True)
    other.start()
    try:
        before = fabric.sim_overhead_s
        for _ in range(20):
            pl.array[IMAGE // 4: IMAGE // 4 + 5600] = data
        overhead = fabric.sim_overhead_s - before
    finally:
        stop.set()
        other.join(timeout=10.0)
    stalls = 20 * fabric.gp_access_s(writes=5600)
    assert stalls * 0.99 < overhead < stalls + 20 * 5e-6


def test_the_calibration_is_fresh_not_once_per_process():
    now = [100.0]
    calibrator = estimate.Calibrator(max_age_s=0.5, clock=lambda: now[0], blocks=4, rounds=2, pause_s=0.0)
    first = calibrator.current()
    assert calibrator.measurements == 1 and first.loop_s > 0 and first.numpy_call_s > 0
    now[0] += 0.4
    assert calibrator.current() is first
    now[0] += 0.2  # older than max_age_s: measured again
    assert calibrator.current() is not first and calibrator.measurements == 2


@pytest.mark.parametrize("enabled", [True, False])
def test_the_calibration_leaves_the_garbage_collector_as_it_was(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        estimate.Calibrator(blocks=4, rounds=1).measure()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_cpu_scale_says_what_it_compared(board):
    profile = board.device.profile
    scale = estimate.cpu_scale(profile)
    assert scale.factor == pytest.approx(scale.board_loop_s / scale.host_loop_s)
    assert scale.board == profile.name and scale.host_numpy_call_s > 0
    assert 0 < scale.board_loop_s < float(profile.ps_ref_loop_us) * 1e-6
    text = str(scale)
    assert "forum" in text and profile.name in text and "slower than this computer" in text


class _Scripted:
    """A calibrator that hands out prepared calibrations, one per new measurement."""

    def __init__(self, loops_s: list[float]) -> None:
        self.loops_s = list(loops_s)
        self.last: estimate.Calibration | None = None

    def current(self, since: float | None = None) -> estimate.Calibration:
        if self.last is None or (since is not None and self.last.taken < since):
            self.last = estimate.Calibration(self.loops_s.pop(0), 1e-7, time.perf_counter())
        return self.last


def test_a_run_is_scaled_by_a_calibration_taken_after_it_began(board, monkeypatch):
    """A calibration from before the run (here: 1 us per iteration) is not used for it; the one
    taken after it (4 us: this computer slowed down meanwhile) is."""
    scripted = _Scripted([1e-6, 4e-6])
    monkeypatch.setattr(estimate, "_CALIBRATOR", scripted)
    scripted.current()  # an earlier run's calibration
    probe = labkit.probe(board)
    run_began = time.perf_counter()
    time.sleep(0.001)  # the run
    scale = probe.cpu_scale(since=run_began)
    assert scale.host_loop_s == pytest.approx(4e-6)
    assert scale.factor == pytest.approx(scale.board_loop_s / 4e-6)


# -- the speed reference timed beside a recorded run's register accesses ---------------------------------
def test_paired_cost_follows_the_speed_of_each_moment():
    """Blocks and their references slow down together (this computer changed speed mid-loop): the
    loop still costs one reference iteration per access.  A burst in one block or one reference
    is left out; too few pairs give no answer."""
    every, per_access = estimate.REFERENCE_EVERY, 1e-6
    speed = np.repeat([1.0, 2.0, 1.0, 1.7], 4 * every)  # seconds per unit of work, block by block
    blocks = speed * per_access * estimate.BLOCK
    references = np.full(blocks.size, np.nan)
    ends = np.arange(every - 1, blocks.size, every)
    references[ends] = speed[ends] * per_access * estimate.REFERENCE_ITERATIONS
    assert estimate.paired_cost(blocks, references) == pytest.approx(1.0)
    blocks[5] *= 30  # another program's burst
    references[ends[7]] *= 30
    assert estimate.paired_cost(blocks, references) == pytest.approx(1.0)
    # This computer switching speed from one block to the next (measured: slowdowns that catch most
    # ~50 us blocks and miss most ~25 us references): comparing a reference with the median of the
    # blocks before it would say ~1.9; with the faster of its two neighbours, 1.
    rng = np.random.default_rng(7)
    many = 400
    block_speed = rng.choice([1.0, 1.9], size=many, p=[0.3, 0.7])
    fast_blocks = block_speed * per_access * estimate.BLOCK
    fast_references = np.full(many, np.nan)
    tail = np.arange(every - 1, many, every)
    fast_references[tail] = (rng.choice([1.0, 1.9], size=tail.size, p=[0.7, 0.3]) * per_access
                             * estimate.REFERENCE_ITERATIONS)
    assert estimate.paired_cost(fast_blocks, fast_references) == pytest.approx(1.0)
    few = np.full(blocks.size, np.nan)
    few[ends[: estimate.MIN_PAIRS - 1]] = references[ends[: estimate.MIN_PAIRS - 1]]
    assert estimate.paired_cost(blocks, few) is None


def _per_word_with_reference(board, words: int):
    probe = labkit.probe(board)
    pl = _image_window(board)
    with probe.speed_reference():
        elapsed, before, after = _timed(probe, lambda: _per_word(pl, words))
    return probe, elapsed, before, after


def test_a_recorded_run_times_the_reference_after_every_few_blocks(board):
    fabric = board.device.fabric
    blocks_before = fabric.access_blocks()
    overhead_before = fabric.sim_overhead_s
    _per_word_with_reference(board, 40 * BLOCK_ACCESSES)
    first, end = blocks_before, fabric.access_blocks()
    references = fabric.access_block_references(first, end)
    timed = np.flatnonzero(np.isfinite(references))
    assert timed.size >= 40 // estimate.REFERENCE_EVERY - 1
    assert np.all((first + timed + 1) % estimate.REFERENCE_EVERY == 0)
    assert np.all(references[timed] > 0)
    # The reference's time is the simulation's, not the student's.
    assert fabric.sim_overhead_s - overhead_before >= references[timed].sum()
    # Outside a recorded run, no reference is timed.
    _per_word(_image_window(board), 20 * BLOCK_ACCESSES)
    assert not np.isfinite(fabric.access_block_references(end, fabric.access_blocks())).any()


def test_a_loops_estimate_does_not_depend_on_the_calibrations_speed(board):
    """With the reference timed beside the loop, a calibration taken while this computer ran twice
    as slow (or fast) changes the CPU factor, not the estimate."""
    probe, elapsed, before, after = _per_word_with_reference(board, 30 * BLOCK_ACCESSES)
    profile = board.device.profile
    board_loop_s = estimate.cpu_scale(profile).board_loop_s
    estimates = []
    for loop_s in (0.7e-6, 1.4e-6):
        scale = estimate.CpuScale(board_loop_s / loop_s, loop_s, board_loop_s, profile.name)
        estimates.append(scale.ps(probe.python_s(elapsed, before, after, scale)))
    assert estimates[0] == pytest.approx(estimates[1])
    # ... and it is about the forum's loop on the board: one reference iteration per access.
    per_access = estimates[0] / (30 * BLOCK_ACCESSES)
    assert 0.5 < per_access / board_loop_s < 2.0


def test_a_failing_reference_is_reported_and_switched_off(board, monkeypatch):
    fabric = board.device.fabric
    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    def broken() -> float:
        raise RuntimeError("reference failed")

    pl = _image_window(board)
    with fabric.speed_reference(broken, every=1):
        _per_word(pl, 10 * BLOCK_ACCESSES)  # the writes go on
        assert pl.read(IMAGE + 4 * (10 * BLOCK_ACCESSES - 1)) == 10 * BLOCK_ACCESSES - 1  # all its words
    assert len(reported) == 1 and isinstance(reported[0].exc_value, RuntimeError)
    with fabric.speed_reference(broken, every=1):  # a new run tries again
        _per_word(pl, 3 * BLOCK_ACCESSES)
    assert len(reported) == 2


def test_speed_reference_checks_its_argument_and_nests(board):
    fabric = board.device.fabric
    with pytest.raises(ValueError, match="whole number of blocks"):
        with fabric.speed_reference(lambda: 1e-6, every=0):
            pass
    calls = []
    with fabric.speed_reference(lambda: calls.append(1) or 1e-6, every=1):
        with fabric.speed_reference(lambda: 1e-6, every=1):
            pass
        _per_word(_image_window(board), 3 * BLOCK_ACCESSES)  # the outer one still times
    assert len(calls) >= 2
    _per_word(_image_window(board), 3 * BLOCK_ACCESSES)
    assert len(calls) <= 3
