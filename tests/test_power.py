"""Power: the model's rails through pynq's own pmbus layer, energy accounting, boards with and without sensors,
the live widget without a browser, and the exercise checks of notebook 07."""

from __future__ import annotations

import math
import time

import numpy as np
import pynq
import pynq.pmbus
import pytest
from pynq import allocate
from pynq.pl_server.device import Device

import labkit.power as power
from labkit._pynq_compat import chosen_active_device, forget_active_device
from labkit.power_checks import check_ddr_energy, check_energy_per_image
from labkit.boards.power_model import DEFAULT_IP_POWER, INPUT_RAIL, IP_POWER, RAILS, PowerModel, power_constants
from labkit.sim.meter import FabricMeter
from labkit.sim.rails import SimRail, meter_for

MiB = 1 << 20


# -- helpers ------------------------------------------------------------------------------------------------

class FakeBoard(pynq.Device):
    """A real board as pynq sees it (not a SimDevice); no _probe_, so pynq never lists it by itself."""

    def __init__(self) -> None:
        super().__init__("fake-board")
        self.name = "Fake Zynq board"


class FakeSensor:
    def __init__(self, name: str, value: float) -> None:
        self.name, self._value, self.parents = name, value, ()

    def get_value(self, parents=None) -> float:
        return self._value

    @property
    def value(self) -> float:
        return self._value


def _rail(name: str, watts: float) -> pynq.pmbus.Rail:
    rail = pynq.pmbus.Rail(name)
    rail.power = FakeSensor(f"{name}_power", watts)
    return rail


@pytest.fixture
def fake_real_board(monkeypatch):
    """pynq's active device is a real (non-simulated) board; libsensors finds what the test sets."""
    previous = chosen_active_device()
    Device.active_device = FakeBoard()
    found: dict = {}
    monkeypatch.setattr(pynq.pmbus, "_enumerate_sensors", lambda config_file=None: found)
    monkeypatch.delenv("BOARD", raising=False)
    yield found
    if previous is None:
        forget_active_device()
    else:
        Device.active_device = previous


def _dma_loop(overlay, nbytes: int, count: int) -> None:
    src, dst = allocate(nbytes, np.uint8), allocate(nbytes, np.uint8)
    src[:] = 7
    src.sync_to_device()
    dma = overlay.dma_loop
    for _ in range(count):
        dma.recvchannel.transfer(dst)
        dma.sendchannel.transfer(src)
        dma.sendchannel.wait()
        dma.recvchannel.wait()
    dst.sync_from_device()
    assert dst[0] == 7 and dst[-1] == 7
    src.freebuffer()
    dst.freebuffer()


# -- the model's constants ---------------------------------------------------------------------------------

def test_every_constant_names_its_source_and_estimates_say_so():
    for profile in ("PYNQ-Z1", "PYNQ-Z2"):
        for name, c in power_constants(profile).constants():
            assert c.source.strip(), f"{name} has no source"
            assert float(c) >= 0
    for vlnv, ip in {**IP_POWER, "default": DEFAULT_IP_POWER}.items():
        assert ip.active_w.source.startswith("estimate"), vlnv  # nobody has run report_power yet: say so
    c = power_constants()
    assert "DS187" in c.ps_quiescent_w.source and "estimate" not in c.ps_quiescent_w.source
    assert c.board_3v3_w.source.startswith("estimate")


def test_idle_and_busy_board_stay_within_what_a_usb_port_supplies():
    model = PowerModel()
    idle = model.rail_power(model.steady(0.0))[INPUT_RAIL]
    busy = model.rail_power(model.steady(2.0))[INPUT_RAIL]
    assert 0.8 < idle < busy < 2.5  # Digilent: a 0.5 A USB 2.0 port powers lower complexity designs


# -- pynq.get_rails() and DataRecorder on the simulated board ------------------------------------------------

def test_get_rails_returns_the_models_rails_on_the_sim(board):
    assert pynq.get_rails is pynq.pmbus.get_rails  # both names patched, to the same wrapper
    rails = pynq.get_rails()
    assert list(rails) == [r.name for r in RAILS] + [INPUT_RAIL]
    for rail in rails.values():
        assert isinstance(rail, SimRail) and isinstance(rail, pynq.pmbus.Rail)
        assert rail.voltage.value > 0 and rail.power.value > 0
        assert "modelled" in repr(rail)
    # One evaluation of the model, shared by every sensor (their common parent).
    reading = rails[INPUT_RAIL].power.parents[0]
    assert all(r.power.parents[0] is reading for r in rails.values())
    watts = reading.get_value()
    eff = float(power_constants().regulator_efficiency)
    assert math.isclose(watts[INPUT_RAIL], sum(w for n, w in watts.items() if n != INPUT_RAIL) / eff)
    vccint = rails["VCCINT"]
    assert math.isclose(vccint.current.get_value([watts]) * vccint.voltage.value, watts["VCCINT"])
    assert pynq.get_rails() is not rails and pynq.get_rails()["VIN"] is rails["VIN"]  # same sensors, new dict


def test_data_recorder_records_the_sim_rails(board):
    rails = pynq.get_rails()
    sensors = [rails[name].power for name in ("VIN", "VCCINT", "VCCO_DDR")]
    recorder = pynq.DataRecorder(*sensors)
    with recorder.record(0.02):
        _dma_loop(board, MiB, 20)
        time.sleep(0.1)
    frame = recorder.frame
    assert list(frame.columns) == ["Mark", "VIN_power", "VCCINT_power", "VCCO_DDR_power"]
    assert len(frame) >= 4
    values = frame[["VIN_power", "VCCINT_power", "VCCO_DDR_power"]].to_numpy(dtype=float)
    assert np.isfinite(values).all() and (values > 0).all() and (values[:, 0] < 5).all()


def test_patched_get_rails_never_shadows_a_real_board(fake_real_board):
    fake_real_board["12V"] = _rail("12V", 10.0)
    assert pynq.get_rails() == {"12V": fake_real_board["12V"]}
    assert pynq.pmbus.get_rails._labkit_real.__module__ == "pynq.pmbus"


# -- energy accounting ----------------------------------------------------------------------------------------

def test_energy_of_a_dma_loop_equals_the_hand_computed_energy(board):
    """Integral of the meter's power over a known workload == the model equation worked by hand."""
    device = board.device
    fabric = device.fabric
    meter = FabricMeter(device, ps_source="none", min_window_s=0.0)  # PS left idle: a hand calculation
    nbytes, count = 256 * 1024, 8
    first = meter.read()
    before = fabric.timeline.busy_cycles()
    _dma_loop(board, nbytes, count)
    time.sleep(max(0.0, meter.last_pl_end(first.time) - time.perf_counter()) + 0.002)  # all PL work over
    last = meter.read()
    after = fabric.timeline.busy_cycles()

    c = power_constants()
    seconds = last.time - first.time
    static_w = (float(c.ps_quiescent_w) + float(c.ps_idle_w) + float(c.pl_quiescent_w)
                + float(c.ps_aux_quiescent_w) + float(c.pl_aux_quiescent_w) + float(c.ddr_io_quiescent_w)
                + float(c.ddr_standby_w) + float(c.board_3v3_w))
    clock_w = float(c.pl_clock_w_per_mhz) * 100.0  # FCLK0 = 100 MHz
    cycles = {r: after.get(r, 0) - before.get(r, 0) for r in ("dma_loop.mm2s", "dma_loop.s2mm")}
    assert cycles["dma_loop.mm2s"] >= count * nbytes // 8  # 64-bit beats
    dma_j = sum(cycles.values()) / 100e6 * float(IP_POWER["xilinx.com:ip:axi_dma:7.1"].active_w) / 2
    ddr_j = 2 * count * nbytes * 8 * float(c.ddr_j_per_bit)  # read by MM2S, written by S2MM
    by_hand = ((static_w + clock_w) * seconds + dma_j + ddr_j) / float(c.regulator_efficiency)

    measured = last.energy_j[INPUT_RAIL] - first.energy_j[INPUT_RAIL]
    assert measured == pytest.approx(by_hand, rel=1e-6)
    assert ddr_j / float(c.regulator_efficiency) > 0.01 * measured  # the traffic term is really in there


def test_measure_on_the_sim_is_modelled_and_counts_pending_pl_work(board):
    source = power.open_power(board)
    assert source.kind == "modelled" and source.total_rail == INPUT_RAIL
    with source.measure("dma", count=4) as m:
        _dma_loop(board, MiB, 4)
    assert m.kind == "modelled" and m.energy_j > 0 and m.per_item_j == pytest.approx(m.energy_j / 4)
    assert m.activity.ddr_bytes == 2 * 4 * MiB
    assert m.terms["DDR traffic"] == pytest.approx(2 * 4 * MiB * 8 * float(power_constants().ddr_j_per_bit))
    assert "modelled" in str(m) and "board pace" not in str(m)  # the fixture's board runs in host pace
    board_2s = m.on_board(2.0)
    assert board_2s.kind == "estimated" and board_2s.seconds == 2.0
    assert board_2s.terms["PS static"] == pytest.approx(2.0 * float(power_constants().ps_quiescent_w))
    assert board_2s.terms["PL IP busy"] == pytest.approx(m.terms["PL IP busy"])  # activity is the work's own


# -- boards without and with sensors --------------------------------------------------------------------------

def test_a_board_without_sensors_says_so_and_offers_an_estimate(fake_real_board, monkeypatch, capsys):
    source = power.open_power()
    assert source.kind == "none" and source.rails == {} and source.total_rail is None
    assert "no power sensors on this board" in source.message
    reading = source.read()
    assert reading.kind == "estimated" and 0.5 < reading.total_w < 2.5
    assert "estimated" in str(reading)
    with source.measure("work") as m:
        time.sleep(0.01)
    assert m.kind == "estimated" and m.energy_j == pytest.approx(reading.total_w * m.seconds, rel=0.01)
    with pytest.raises(power.NoPowerSensors, match="no power sensors"):
        source.recorder()
    monkeypatch.setenv("BOARD", "Pynq-Z2")
    assert power.open_power().model.constants.board == "PYNQ-Z2"


def test_a_board_with_sensors_is_measured_with_pynqs_rails(fake_real_board):
    fake_real_board.update({"VCCINT": _rail("VCCINT", 2.0), "12V": _rail("12V", 10.0),
                            "TEMP": pynq.pmbus.Rail("TEMP")})  # a rail with no power sensor is left out
    source = power.open_power()
    assert source.kind == "measured" and source.total_rail == "12V" and set(source.rails) == {"VCCINT", "12V"}
    reading = source.read()
    assert reading.kind == "measured" and reading.total_w == 10.0 and reading.rails_w["VCCINT"] == 2.0
    with source.measure("work", sample_s=0.005) as m:
        time.sleep(0.05)
    assert m.kind == "measured" and m.energy_j == pytest.approx(10.0 * m.seconds, rel=1e-6)
    assert len(source.recorder().frame.columns) == 3  # Mark + two power sensors


# -- the widget, without a browser ------------------------------------------------------------------------------

@pytest.fixture
def dummy_comm():
    from ipywidgets.widgets.tests.utils import setup_test_comm, teardown_test_comm

    setup_test_comm()
    yield
    teardown_test_comm()


def _updates(widget) -> int:
    return sum(1 for args, kwargs in widget.comm.messages
               if (kwargs.get("data") or (args[0] if args else {})).get("method") == "update")


def test_power_monitor_updates_once_per_refresh_and_stops(board, dummy_comm):
    from labkit.widgets.power import PowerMonitor

    monitor = PowerMonitor(overlay=board, interval=0.01, window_s=1.0, refresh_s=0.0)
    assert monitor.source.kind == "modelled" and "modelled" in monitor.figure.title
    for _ in range(3):
        monitor.sample()
    before = {w: _updates(w) for w in (monitor.total_line, monitor.average_line, monitor.rail_lines)}
    assert monitor.refresh()
    for widget, n in before.items():
        assert _updates(widget) == n + 1  # hold_sync: one message for x and y together
    assert monitor.total_line.y.dtype == np.float32 and len(monitor.total_line.y) == 3
    assert not monitor.refresh()  # nothing new: nothing sent
    assert _updates(monitor.total_line) == before[monitor.total_line] + 1

    monitor.start()
    with pytest.raises(RuntimeError, match="already sampling"):
        monitor.start()
    with monitor.mark("dma", count=5):
        _dma_loop(board, MiB, 5)
    monitor.mark("idle")
    time.sleep(0.15)
    monitor.stop()
    assert not monitor.running and monitor.errors == []
    assert monitor.samples_taken > 5 and monitor.sample_rate_hz > 0
    assert len(monitor._t) <= monitor._t.maxlen  # bounded window
    table = monitor.energy_table()
    assert [row["label"] for row in table] == ["dma", "idle"]
    assert table[0]["kind"] == "modelled" and table[0]["per_item_j"] == pytest.approx(table[0]["energy_j"] / 5)
    assert "dma" in monitor.table.value and "per item" in monitor.table.value
    assert list(monitor.span_labels.text) == ["1", "2"]  # numbered in the plot, named in the table
    assert ">1</b>" in monitor.table.value and "VCCINT" in monitor.legend.value
    assert not any(line.display_legend for line in (monitor.total_line, monitor.average_line, monitor.rail_lines))
    assert monitor.y_scale.max > max(monitor.total_line.y), "headroom above the data for the spans' bars"
    for i in range(12):                       # more spans than a short table would keep: every row stays
        monitor.mark(f"run {i}")
    monitor.mark(None)
    monitor.refresh(force=True)
    assert "dma" in monitor.table.value and "run 11" in monitor.table.value
    # spans too close for their numbers: some numbers are left out of the plot, never drawn on each other
    assert "" in list(monitor.span_labels.text) and "run 11" in monitor.table.value


def test_power_monitor_resolves_from_the_widgets_package():
    import labkit.widgets
    from labkit.widgets.power import PowerMonitor

    assert labkit.widgets.PowerMonitor is PowerMonitor


# -- exercise checks ---------------------------------------------------------------------------------------------

def test_check_ddr_energy(capsys):
    e_bit = float(power_constants().ddr_j_per_bit)
    right = 2 * MiB * 8 * e_bit
    assert check_ddr_energy(MiB, right)
    assert not check_ddr_energy(MiB, right / 2)
    assert "one direction" in capsys.readouterr().out
    assert not check_ddr_energy(MiB, right / 8)
    assert "per *bit*" in capsys.readouterr().out
    assert not check_ddr_energy(MiB, right * 1e6)
    assert "uJ" in capsys.readouterr().out


def test_check_energy_per_image(capsys):
    row = {"batch": 16, "power_w": 1.5, "images_per_s": 6000.0}
    assert check_energy_per_image(row, 1.5 / 6000)
    assert not check_energy_per_image(row, 1.5 / 6000 * 16)
    assert "whole batch" in capsys.readouterr().out
    assert not check_energy_per_image(row, 1.5 * 6000)


def test_meter_is_shared_per_board(board):
    assert meter_for(board.device) is meter_for(board.device)
    assert power.open_power(board).meter is meter_for(board.device)


def test_span_numbers_never_touch_on_the_same_height():
    from labkit.widgets.power import LABEL_ROWS, _spaced_numbers

    far = [(float(i), i + 1) for i in range(6)]               # one second apart on a 6 s axis: all shown
    assert _spaced_numbers(far, width=6.0) == [str(n) for _, n in far]
    close = [(0.001 * i, i + 1) for i in range(12)]            # a millisecond apart: one number per height
    texts = _spaced_numbers(close, width=6.0)
    assert sum(1 for t in texts if t) == LABEL_ROWS and texts[0] == "1"
