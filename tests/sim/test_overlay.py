"""pynq.Overlay on the simulated board: metadata, driver binding, register maps, clocks."""

from __future__ import annotations

from pathlib import Path

import pynq
import pytest
from pynq import Clocks, DefaultIP
from pynq.lib.dma import DMA

from labkit.errors import DesignError
from labkit.sim.designs import fclk_divisors, transfer_lab


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


def test_clock_dict_has_every_field_this_pynq_reads_from_a_vivado_hwh(board):
    """pynq 3.1 reads divisor0/divisor1 from a .hwh's clocks, pynq 4.0 also frequency and src_sel:
    the simulated design gives at least what the installed pynq makes of a real Zynq-7000 .hwh
    (PYNQ's resizer overlay, shipped in pynqmetadata's tests)."""
    import pynqmetadata
    from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser
    from pynqmetadata.frontends import Metadata

    hwh = Path(pynqmetadata.__file__).parent / "tests" / "hwhs" / "resizer.hwh"
    if not hwh.is_file():
        pytest.skip(f"{hwh} is not installed")
    real = RuntimeMetadataParser(Metadata(str(hwh))).clock_dict
    assert sorted(real) == sorted(board.clock_dict) == [0, 1, 2, 3]
    for i in range(4):
        assert set(real[i]) <= set(board.clock_dict[i]), f"FCLK{i}: pynq {pynq.__version__} reads {sorted(real[i])}"


def test_download_sets_each_clock_from_the_fields_this_pynq_reads(board):
    """pynq 3.1 sets an FCLK from clock_dict's divisors, pynq 4.0 from its frequency: both agree."""
    profile = board.device.profile
    io_pll_mhz = float(profile.ref_clk_mhz) * float(profile.io_pll_fdiv)
    for clock in board.clock_dict.values():
        if clock["enable"]:
            assert io_pll_mhz / (clock["divisor0"] * clock["divisor1"]) == pytest.approx(clock["frequency"])
    Clocks.fclk0_mhz = 50
    board.download()
    assert Clocks.fclk0_mhz == pytest.approx(board.clock_dict[0]["frequency"]) == pytest.approx(100.0)
    assert board.device.fabric.clock_hz == pytest.approx(100e6)


@pytest.mark.parametrize("fclk_mhz, pll_mhz, divisors", [(100.0, 1000.0, (10, 1)), (50.0, 1600.0, (32, 1)),
                                                         (142.857, 1000.0, (7, 1)), (10.0, 1000.0, (50, 2))])
def test_fclk_divisors_are_the_closest_pair(fclk_mhz, pll_mhz, divisors):
    assert fclk_divisors(pll_mhz, fclk_mhz) == divisors


def test_an_fclk_faster_than_its_pll_is_a_design_error():
    with pytest.raises(DesignError, match="between"):
        fclk_divisors(1000.0, 2000.0)
