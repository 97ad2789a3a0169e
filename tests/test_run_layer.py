"""The run layer: one seam to the board, timed waits, a failed run never poisons the next, one run at a time."""

from __future__ import annotations

import ast
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import labkit
import labkit.board
import labkit.power
import labkit.recovery
from labkit import transfer
from labkit.bench import Sweep
from labkit.boardprobe import BoardProbe, NotAvailableError
from labkit.classifier import CnnAccelerator
from labkit.errors import BoardBusyError, DmaError, LabTimeoutError
from labkit.run import wait_dma
from labkit.status import ap_ctrl, decode_dmasr, dma_status
from pynq import allocate

LABKIT = Path(labkit.__file__).parent


# -- the house: no import circles, one seam -----------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LABKIT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    folder = LABKIT.parent.joinpath(*name.split("."))
    return folder.with_suffix(".py").exists() or (folder / "__init__.py").exists() or any(
        folder.parent.glob(folder.name + ".*.so"))


def _top_level_imports(path: Path, module: str) -> set[str]:
    """Modules ``module`` imports when it is imported (not inside functions, not under TYPE_CHECKING).

    ``from pkg import sub`` needs the module ``pkg.sub``, not more of ``pkg`` than has already run.
    """
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if _is_module(sub) else target)
    return found


def test_labkit_has_no_import_circles():
    files = {_module_name(p): p for p in LABKIT.rglob("*.py")}
    graph = {m: {t for t in _top_level_imports(p, m) if t in files and t != m} for m, p in files.items()}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if seen.get(t) == 1:
                pytest.fail("import circle: " + " -> ".join(stack[stack.index(t):] + [t]))
            elif t not in seen:
                visit(t)
        stack.pop()
        seen[m] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m)


def test_nothing_outside_sim_reaches_into_the_simulated_board():
    offenders = []
    for path in LABKIT.rglob("*.py"):
        if path.relative_to(LABKIT).parts[0] == "sim":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"SimDevice|\.fabric\b", code):
                offenders.append(f"{path.relative_to(LABKIT.parent)}:{n}: {line.strip()}")
    # labkit.board is the seam: the one module above labkit/sim that may import the simulated board
    for path in LABKIT.rglob("*.py"):
        if path.relative_to(LABKIT).parts[0] == "sim" or path.name == "board.py" and path.parent == LABKIT:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"^\s*(from|import)\s+(labkit\.sim\b|\.+sim\b)", line):
                offenders.append(f"{path.relative_to(LABKIT.parent)}:{n}: {line.strip()}")
    notebooks = LABKIT.parent / "notebooks"
    for nb in sorted(notebooks.glob("*.ipynb")):
        if re.search(r"SimDevice|\.device\.fabric|\.device\.profile|labkit\.sim\b", nb.read_text(encoding="utf-8")):
            offenders.append(str(nb.relative_to(LABKIT.parent)))
    assert not offenders, "use labkit.probe(ol) instead:\n" + "\n".join(offenders)


def test_probe_of_a_real_board_models_nothing(board):
    real = BoardProbe(board.device)
    assert not real.simulated and real.pace is None and real.clock_hz is None
    with pytest.raises(NotAvailableError, match="measure it instead"):
        real.gp_access_s(writes=1)
    with pytest.raises(NotAvailableError):
        real.faults
    sim = labkit.probe(board)
    assert sim.simulated and sim.clock_hz == pytest.approx(100e6)
    assert sim.gp_access_s(writes=1) == pytest.approx(20 / 100e6)


# -- status words ---------------------------------------------------------------------------------------------

def test_status_decodes_name_the_bits():
    assert decode_dmasr(0x1002) == "Idle, IOC_Irq"
    assert "DMAIntErr" in decode_dmasr(0x4011)
    assert "ap_idle" in ap_ctrl(0x4)
    assert "started and not finished" in ap_ctrl(0x1)


# -- every wait is timed ------------------------------------------------------------------------------------------

def test_a_receive_with_nothing_sent_times_out_with_its_status(board):
    buf = allocate(256, np.uint32, target=board.device)
    try:
        board.dma_pp.recvchannel.transfer(buf)
        start = time.perf_counter()
        with pytest.raises(LabTimeoutError, match=r"dma_pp.recvchannel did not finish within 0.5 s.*DMASR") as info:
            wait_dma(board.dma_pp, "recv", "dma_pp", 0.5)
        assert time.perf_counter() - start < 2.0
        assert "TLAST" in str(info.value) and "ol.download()" in str(info.value)
        assert not dma_status(board.dma_pp, "recv").idle
    finally:
        labkit.recovery.recover(board)
        buf.freebuffer()


def _words(n: int = 4096, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)


def _healthy_run_after(board) -> None:
    for method in ("dma", "dma_pingpong", "array_slice"):
        data = transfer.make_input(method, 16384, seed=3)
        result = transfer.run(method, board, data, timeout=5)
        assert result.verified, f"{method} after a failure: {result.mismatches} wrong words"


def test_a_hung_kernel_raises_within_the_timeout_and_the_board_recovers(board):
    labkit.probe(board).faults.inject("pp_load_compute", "hang")
    start = time.perf_counter()
    with pytest.raises(LabTimeoutError, match="within 2 s") as info:
        transfer.run("dma", board, _words(), timeout=2)
    took = time.perf_counter() - start
    assert took < 4.0, f"a 2 s timeout took {took:.1f} s"
    assert re.search(r"DMASR|ap_ctrl", str(info.value))
    _healthy_run_after(board)


def test_a_dropped_tlast_does_not_poison_the_next_run(board):
    labkit.probe(board).faults.inject("pp_store", "drop_tlast")
    with pytest.raises((LabTimeoutError, DmaError), match="DMASR"):
        transfer.run("dma", board, _words(), timeout=1)
    _healthy_run_after(board)


def test_ctrl_c_mid_run_does_not_poison_the_next_run(board):
    def interrupt(done: int, total: int) -> None:
        if done < total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        transfer.run("dma", board, _words(4 * 16384), chunk_words=2048, progress=interrupt)
    _healthy_run_after(board)


@pytest.mark.parametrize("chunk, message", [
    (1, "not a multiple of 8"), (3, "not a multiple of 8"), (0, "whole number 1.."), (-4, "whole number 1.."),
    (2.5, "whole number 1.."), ("64", "whole number 1.."), (True, "whole number 1.."), (1 << 20, "whole number 1.."),
])
def test_bad_chunk_words_is_refused_before_the_board_is_touched(board, chunk, message):
    board.dma_pp  # pynq makes (and starts) the driver on first access: that is pynq's, not the run's
    before = labkit.probe(board).snapshot()
    with pytest.raises(transfer.TransferError, match=message):
        transfer.run("dma", board, _words(), chunk_words=chunk)
    after = labkit.probe(board).snapshot()
    touched = [(f, getattr(before, f), getattr(after, f)) for f in ("gp_reads", "gp_writes", "mark", "accesses")
               if getattr(before, f) != getattr(after, f)]
    assert not touched, f"the board was touched: {touched}"  # not one register access, no PL work
    _healthy_run_after(board)


def test_unknown_options_are_an_error_not_ignored(board):
    with pytest.raises(transfer.TransferError, match=r"no option 'chunk_word'.*chunk_words, op"):
        transfer.run("dma", board, _words(), chunk_word=1024)
    with pytest.raises(transfer.TransferError, match="no option 'sync'.*none"):
        transfer.run("per_word", board, np.zeros((2, 4), np.uint32), sync=False)


def test_timeout_must_be_positive(board):
    with pytest.raises(ValueError, match="positive number of seconds"):
        transfer.run("dma", board, _words(), timeout=0)


# -- one run at a time -----------------------------------------------------------------------------------------------

def test_a_foreground_run_during_a_background_sweep_is_correct_or_busy(board):
    sweep = Sweep(["dma", "dma_pingpong"], ["64K", "256K"], overlay=board, repeats=3, warmup=1, progress=None)
    sweep.start()
    outcomes = []
    try:
        deadline = time.perf_counter() + 20
        while sweep.running and time.perf_counter() < deadline and len(outcomes) < 10:
            try:
                outcomes.append(transfer.run("dma", board, _words(8192), timeout=5).verified)
            except BoardBusyError:
                outcomes.append("busy")
    finally:
        records = sweep.join(timeout=60)
    assert outcomes and all(o is True or o == "busy" for o in outcomes), outcomes
    assert all(r.ok and r.verified for r in records), [r.describe() for r in records]


def test_a_second_run_waits_its_turn_then_gets_a_clear_busy_error(board):
    from labkit.run import overlay_lock

    lock = overlay_lock(board)
    with lock:
        errors = []
        worker = threading.Thread(target=lambda: errors.append(_try_run(board)))
        worker.start()
        worker.join(10)
    assert errors and isinstance(errors[0], BoardBusyError) and "sweep.stop()" in str(errors[0])


def _try_run(board):
    try:
        transfer.run("dma", board, _words(), timeout=0.3)
    except BoardBusyError as exc:
        return exc
    return None


# -- the real-board code paths, over the simulated device seen as a real board ------------------------------------

@pytest.fixture
def as_real_board(board, monkeypatch):
    """The lab's overlay, with labkit seeing its device through the real-board probe (measured only)."""
    monkeypatch.setattr(labkit.board, "probe", lambda target=None: BoardProbe(getattr(target, "device", target)))
    return board


@pytest.mark.parametrize("method", list(transfer.METHODS))
def test_transfer_methods_on_a_real_board_measure_only(as_real_board, method):
    result = transfer.run(method, as_real_board, transfer.make_input(method, 22400))
    assert result.verified and not result.simulated and result.pace is None
    assert result.modelled is None and result.estimated is None and result.intervals == []
    assert all(p.modelled is None and p.estimated is None and p.measured > 0 for p in result.phases)
    assert "modelled" not in result.table().splitlines()[-1]


def test_accelerator_on_a_real_board_measures_only(as_real_board):
    from labkit.classifier import classify_reference

    images = np.random.default_rng(0).integers(0, 256, size=(8, 28, 28), dtype=np.uint8)
    with CnnAccelerator(as_real_board) as acc:
        scores = acc.classify(images)
    np.testing.assert_array_equal(scores, classify_reference(images))
    run = acc.last_run
    assert run.modelled is None and run.estimated is None and run.measured_s > 0
    assert "estimated" not in run.table().splitlines()[-1]


def test_power_source_on_a_real_board_reads_pynq_rails(as_real_board):
    source = labkit.power.open_power(as_real_board)
    assert source.kind == "measured" and source.reading_kind == "measured"
    assert source.read().total_w > 0


def test_results_hand_out_labelled_times(board):
    result = transfer.run("array_slice", board, transfer.make_input("array_slice", 22400))
    assert result.timed("measured").kind == "measured" and result.machine in str(result.timed("measured"))
    assert "PYNQ-Z1 board profile" in str(result.timed("estimated", "write"))
    assert result.timed("modelled").seconds == pytest.approx(result.modelled)


def test_results_on_a_real_board_have_no_modelled_time(as_real_board):
    result = transfer.run("dma", as_real_board, _words())
    assert result.timed("modelled") is None and result.timed("estimated") is None
    assert result.timed("measured").seconds == pytest.approx(result.measured)
