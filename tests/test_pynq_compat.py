"""labkit._pynq_compat: each private pynq attribute labkit relies on still means what labkit assumes.

These run on both pynq versions labkit supports (``make test``: 4.0.0, ``make test-pynq31``: 3.1.2).
A pynq release that renames one of the attributes fails here, by name.
"""

from __future__ import annotations

import numpy as np
import pynq
import pytest
from pynq import allocate
from pynq.lib.dma import DMA
from pynq.pl_server.device import Device
from pynq.ps import Clocks

from labkit import _pynq_compat as compat
from labkit.sim import SimDevice, use_device

DMAS = ("dma_loop", "dma_pp", "dma_cnn")


def test_the_installed_pynq_is_a_version_labkit_is_tested_with():
    assert compat.PYNQ_VERSION[:2] in {(3, 1), (4, 0)}, (
        f"pynq {pynq.__version__} is untested: CI runs pynq 4.0.0 (make test) and 3.1.2 (make test-pynq31)")


@pytest.mark.parametrize("name", DMAS)
@pytest.mark.parametrize("direction", ["sendchannel", "recvchannel"])
def test_dma_alignment_is_the_memory_port_width_without_a_realignment_engine(board, name, direction):
    params = board.ip_dict[name]["parameters"]
    side = "mm2s" if direction == "sendchannel" else "s2mm"
    assert params[f"c_include_{side}_dre"] == "0"
    assert compat.dma_alignment(getattr(getattr(board, name), direction)) == \
        int(params[f"c_m_axi_{side}_data_width"]) // 8


def test_dma_alignment_is_what_pynq_enforces(board):
    """pynq refuses a buffer that starts off the alignment, and accepts one that starts on it."""
    dma = board.dma_loop
    align = compat.dma_alignment(dma.recvchannel)
    assert align > 1
    src, dst = allocate(4 * align, np.uint8), allocate(4 * align, np.uint8)
    try:
        with pytest.raises(RuntimeError, match=f"aligned to {align} bytes"):
            dma.recvchannel.transfer(dst[align // 2: align // 2 + align])
        src[:] = np.arange(src.size, dtype=np.uint8)
        dma.recvchannel.transfer(dst[align: 2 * align])
        dma.sendchannel.transfer(src[align: 2 * align])
        dma.sendchannel.wait()
        dma.recvchannel.wait()
        assert np.array_equal(dst[align: 2 * align], src[align: 2 * align])
    finally:
        src.freebuffer()
        dst.freebuffer()


def test_dma_alignment_with_a_realignment_engine_is_one_byte(board):
    """pynq's own DMA driver, bound to a description with the DRE included (PG021's c_include_*_dre)."""
    description = dict(board.ip_dict["dma_loop"])
    description["parameters"] = dict(description["parameters"], c_include_s2mm_dre="1")
    dma = DMA(description)
    assert compat.dma_alignment(dma.recvchannel) == 1
    assert compat.dma_alignment(dma.sendchannel) == 8


def test_dma_alignment_names_the_pynq_version_when_the_attribute_is_gone():
    with pytest.raises(compat.PynqCompatError, match=f"pynq {pynq.__version__} .*3.1.2 and 4.0.0"):
        compat.dma_alignment(object())


def test_probed_devices_is_pynqs_cache(device):
    assert compat.probed_devices() is Device.devices  # read after the probe: the very list pynq keeps


def test_chosen_active_device_and_forgetting_it(device):
    assert compat.chosen_active_device() is device  # the fixture chose it through use_device
    compat.forget_active_device()
    try:
        assert compat.chosen_active_device() is None
        assert Device.active_device is Device.devices[0]  # pynq's default once nothing is chosen
    finally:
        use_device(device)
    assert compat.chosen_active_device() is device


def test_clock_registers_follow_the_device(device):
    """After changing Clocks' device, pynq's clock code must drive the new board's SLCR, not the old one's."""
    other = SimDevice(pace="host")
    try:
        assert Clocks.fclk0_mhz == pytest.approx(100.0)  # builds pynq's register object for `device`
        use_device(other)  # Clocks.set_device + compat.forget_clock_registers
        Clocks.fclk0_mhz = 50
        assert other.fabric.slcr.fclk_mhz(0) == pytest.approx(50.0)
        assert device.fabric.slcr.fclk_mhz(0) == pytest.approx(100.0)
    finally:
        use_device(device)
        other.close()
    assert Clocks.fclk0_mhz == pytest.approx(100.0)
