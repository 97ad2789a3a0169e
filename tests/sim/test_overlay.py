"""pynq.Overlay on the simulated board: metadata, driver binding, register maps, clocks."""

from __future__ import annotations

import pytest
from pynq import Clocks, DefaultIP
from pynq.lib.dma import DMA

from labkit.sim.designs import transfer_lab


def test_ip_dict_matches_the_design(board):
    design = transfer_lab()
    for spec in design.addressable():
        entry = board.ip_dict[spec.name]
        assert entry["type"] == spec.vlnv
        assert entry["phys_addr"] == spec.base
        assert entry["addr_range"] == spec.addr_range
        assert entry["parameters"] == spec.parameters
    assert "loop_fifo" not in board.ip_dict  # no AXI-Lite, so not addressable
    assert board.ip_dict["processing_system7_0"]["type"] == "xilinx.com:ip:processing_system7:5.5"


def test_pynq_binds_its_own_drivers(board):
    for name in ("dma_loop", "dma_pp", "dma_cnn"):
        assert type(getattr(board, name)) is DMA
    for name in ("mmio_rowsum", "pp_load_compute", "pp_store", "ddr_rowsum", "cnn_classifier"):
        assert type(getattr(board, name)) is DefaultIP
    dma = board.dma_pp
    assert dma.buffer_max_size == (1 << 26) - 1
    assert dma.sendchannel.running and dma.recvchannel.running  # the driver started both channels


def test_register_maps_come_from_the_metadata(board):
    rm = board.pp_load_compute.register_map
    rm.n = 1024
    rm.op = 3
    assert board.pp_load_compute.read(0x20) == 1024  # argument registers are write-only in the hwh
    assert rm.CTRL.AP_IDLE == 1 and rm.CTRL.AP_DONE == 0
    assert "MM2S_DMASR" in board.ip_dict["dma_pp"]["registers"]


def test_unknown_ip_names_give_pynqs_errors(board):
    with pytest.raises(AttributeError, match="Could not find IP or hierarchy"):
        board.no_such_ip
    with pytest.raises(KeyError):
        board.ip_dict["no_such_ip"]


def test_download_sets_the_pl_clock_through_pynqs_clocks(board):
    fabric = board.device.fabric
    assert Clocks.fclk0_mhz == pytest.approx(100.0)
    assert fabric.clock_hz == pytest.approx(100e6)
    Clocks.fclk0_mhz = 50  # pynq writes the divisors into the (modelled) SLCR
    assert fabric.clock_hz == pytest.approx(50e6)
    assert fabric.gp_access_s(writes=1) == pytest.approx(20 / 50e6)
    assert Clocks.cpu_mhz == pytest.approx(650.0)


def test_reloading_the_overlay_resets_the_ips_but_keeps_mmio_working(board):
    from pynq import MMIO

    mmio = MMIO(board.ip_dict["pp_load_compute"]["phys_addr"], 0x40)
    mmio.write(0x20, 99)
    board.download()
    assert mmio.read(0x20) == 0  # registers reset, the old MMIO still reaches the IP
    mmio.write(0x20, 5)
    assert board.pp_load_compute.read(0x20) == 5
