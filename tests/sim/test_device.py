"""SimDevice: when it appears, and what open_board() gives back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pynq
import pytest
from pynq.pl_server.device import Device

import labkit
from labkit.errors import BoardNotFoundError, DesignError
from labkit.sim import SimDevice, device as sim_device_module
from labkit.sim.designs import design_file


def test_probe_offers_the_simulation_when_no_board(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_BOARD", "auto")
    monkeypatch.setattr(sim_device_module, "FPGA_MANAGER", str(tmp_path / "no-fpga-manager"))
    monkeypatch.delenv("XILINX_XRT", raising=False)
    probed = SimDevice._probe_()
    assert len(probed) == 1 and isinstance(probed[0], SimDevice)
    probed[0].close()


def test_probe_never_takes_over_a_real_board(monkeypatch, tmp_path):
    fake_manager = tmp_path / "firmware"
    fake_manager.write_text("")
    monkeypatch.setattr(sim_device_module, "FPGA_MANAGER", str(fake_manager))
    monkeypatch.setenv("LABKIT_BOARD", "auto")
    assert SimDevice._probe_() == []
    monkeypatch.setenv("LABKIT_BOARD", "real")
    assert SimDevice._probe_() == []


def test_labkit_board_sim_forces_the_simulation_even_on_a_board(monkeypatch, tmp_path):
    fake_manager = tmp_path / "firmware"
    fake_manager.write_text("")
    monkeypatch.setattr(sim_device_module, "FPGA_MANAGER", str(fake_manager))
    monkeypatch.setenv("LABKIT_BOARD", "sim")
    probed = SimDevice._probe_()
    assert len(probed) == 1
    probed[0].close()


def test_bad_labkit_board_value_is_rejected(monkeypatch):
    monkeypatch.setenv("LABKIT_BOARD", "maybe")
    with pytest.raises(BoardNotFoundError, match="'auto', 'sim' or 'real'"):
        SimDevice._probe_()


def test_priority_sits_below_pynqs_embedded_device():
    assert SimDevice._probe_priority_ < 50  # EmbeddedDevice: LABKIT_BOARD=sim wins on a board
    assert SimDevice._probe_priority_ not in (40, 100, 200)


def test_install_reprobes_when_pynq_probed_before_labkit():
    """pynq cached an empty device list (no board) before labkit registered the simulated one.

    In a fresh process, so this process's pynq state is never edited by hand (STYLE.md).
    """
    script = textwrap.dedent("""
        import warnings
        warnings.simplefilter("ignore")
        from pynq.pl_server.device import Device
        assert Device.devices == []        # probed: nothing here, and cached
        import labkit
        from labkit._pynq_compat import probed_devices
        board = labkit.open_board()
        assert type(board.device).__name__ == "SimDevice"
        assert probed_devices() == Device.devices and board.device in Device.devices
        print("ok")
    """)
    env = dict(os.environ)
    env.pop("LABKIT_BOARD", None)  # "auto": outside Jupyter the .pth hook leaves pynq alone, so pynq probes first
    env.pop("PYNQ_REMOTE_DEVICES", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_open_board_returns_a_pynq_overlay_on_the_simulation(board):
    assert isinstance(board, pynq.Overlay)
    assert isinstance(board.device, SimDevice)
    assert Device.active_device is board.device
    assert board.is_loaded()


def test_board_info_says_simulated_and_lists_ip(board):
    info = labkit.board_info(board)
    assert info.simulated and info.board == "PYNQ-Z1"
    text = str(info)
    assert "SIMULATED" in text and "modelled" in text
    for name in ("mmio_rowsum", "dma_pp", "pp_load_compute", "ddr_rowsum", "cnn_classifier"):
        assert name in info.ip and name in text


def test_open_board_real_without_board_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_BOARD", "real")
    monkeypatch.setattr(sim_device_module, "FPGA_MANAGER", str(tmp_path / "none"))
    monkeypatch.delenv("XILINX_XRT", raising=False)
    with pytest.raises(BoardNotFoundError):
        labkit.open_board()


def test_sim_only_arguments_need_the_simulation(monkeypatch, tmp_path):
    fake_manager = tmp_path / "firmware"
    fake_manager.write_text("")
    monkeypatch.setattr(sim_device_module, "FPGA_MANAGER", str(fake_manager))
    monkeypatch.setenv("LABKIT_BOARD", "auto")
    with pytest.raises(ValueError, match="only apply to the simulated board"):
        labkit.open_board(pace="host")


def test_a_bitstream_without_its_hwh_gets_pynqs_own_error(device, tmp_path):
    fake = tmp_path / "base.bit"
    fake.write_bytes(b"\x00")
    with pytest.raises(RuntimeError, match="Unable to find metadata for bitstream"):
        pynq.Overlay(str(fake), device=device)


def test_the_design_file_is_not_a_bitstream():
    text = design_file().read_text()
    assert "Not a bitstream" in text


def test_pace_from_environment(monkeypatch):
    monkeypatch.setenv("LABKIT_SIM_PACE", "host")
    dev = SimDevice()
    assert dev.fabric.pace == "host"
    dev.close()
    monkeypatch.setenv("LABKIT_SIM_PACE", "fast")
    with pytest.raises(ValueError, match="pace must be one of"):
        SimDevice()


def test_profiles_name_their_sources():
    from labkit.boards.profiles import PROFILES

    for profile in PROFILES.values():
        constants = dict(profile.constants())
        assert len(constants) >= 15
        for name, value in constants.items():
            assert value.source.strip(), f"{profile.name}.{name} has no source"
        expected = {"zynq": 650.0, "zynq_us+": 1200.0 if profile.name == "ZCU104" else 1333.3}[profile.family]
        assert profile.cpu_mhz == pytest.approx(expected, rel=1e-3)


def test_overlay_free_does_not_take_the_board_away(board):
    """pynq 3.1's Overlay.free() closes the device (4.0's does not); the next overlay must still move data."""
    import numpy as np
    from pynq import allocate

    board.free()
    again = labkit.open_board()
    assert again.device is board.device
    src, dst = allocate(1024, np.uint32), allocate(1024, np.uint32)
    try:
        src[:] = np.arange(1024, dtype=np.uint32)
        again.dma_loop.recvchannel.transfer(dst)
        again.dma_loop.sendchannel.transfer(src)
        again.dma_loop.sendchannel.wait()
        again.dma_loop.recvchannel.wait()
        assert np.array_equal(dst, src)
    finally:
        src.freebuffer()
        dst.freebuffer()
