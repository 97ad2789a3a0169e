"""Bring your own design: a Vivado .bit + .hwh on the simulated board, through pynq's own parser.

The calls are those of the public notebooks that go with the test designs (PYNQ_Workshop
Session_4 ``6_dma_tutorial.ipynb``, PYNQ-HelloWorld ``resizer_PL.ipynb``), written anew here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree

import numpy as np
import pynq
import pytest
from pynq.lib.dma import DMA

from labkit.errors import DesignError
from labkit.sim import SimDevice, register_kernel, use_device
from labkit.sim.patches import active_sim_device

from _hwh_data import REPO, design_dir  # tests/sim is on sys.path (pytest rootdir-less "prepend" import)

DMA_TUTORIAL = "workshop_s4_dma_tutorial.hwh"
AXI_GPIO = "workshop_s4_axi_gpio.hwh"
RESIZER_Z2 = "helloworld_pynqz2_resizer.hwh"
RESIZER_ZCU104 = "helloworld_zcu104_resizer.hwh"


@pytest.fixture
def sim_board(request):
    """A fresh simulated board of the profile a test asks for (``@pytest.mark.parametrize`` via ``profile``)."""
    made = []
    previous = active_sim_device()

    def make(profile: str = "PYNQ-Z2") -> SimDevice:
        device = SimDevice(profile=profile, pace="host")
        use_device(device)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()
    if previous is not None:
        use_device(previous)


def _run_fresh(script: str, env_extra: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``script`` in a new interpreter of this environment, with LABKIT_* variables only from ``env_extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABKIT_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=str(REPO.parent))


# -- 1. plain pynq finds the simulated board ----------------------------------------------------------------

def test_dma_tutorial_in_a_fresh_process_without_labkit(tmp_path):
    bit = design_dir(tmp_path, DMA_TUTORIAL, "dma_tutorial")
    script = f"""
        import sys
        import numpy as np
        from pynq import Overlay, allocate

        ol = Overlay({str(bit)!r})
        dma_send = ol.axi_dma_from_ps_to_pl
        dma_recv = ol.axi_dma_from_pl_to_ps
        data_size = 1000
        input_buffer = allocate(shape=(data_size,), dtype=np.uint32)
        output_buffer = allocate(shape=(data_size,), dtype=np.uint32)
        for i in range(data_size):
            input_buffer[i] = i + 0xcafe0000
        dma_send.sendchannel.transfer(input_buffer)
        dma_recv.recvchannel.transfer(output_buffer)
        dma_send.sendchannel.wait()
        dma_recv.recvchannel.wait()
        assert np.array_equal(output_buffer, input_buffer), "data did not loop through the FIFO"
        ch = dma_recv.recvchannel
        assert (ch.idle, ch.running, ch.error) == (True, True, False), (ch.idle, ch.running, ch.error)
        assert dma_send.register_map.MM2S_SA.Source_Address == input_buffer.physical_address
        text = repr(dma_send.register_map)  # the tutorial prints whole register maps
        assert "MM2S_SA" in text and "Source_Address" in text and "MM2S_DMASR" in text
        assert dma_recv.register_map.S2MM_DA.Destination_Address == output_buffer.physical_address
        dma_recv.recvchannel.transfer(output_buffer)  # nothing will arrive: the channel stays busy
        assert not dma_recv.recvchannel.idle
        try:
            dma_recv.recvchannel.transfer(output_buffer)
        except RuntimeError as exc:
            print("second transfer:", exc)
        else:
            raise AssertionError("a second transfer on a busy channel was accepted")
        assert ol.clock_dict[0]["enable"] == 1
        print("labkit imported by the script:", "labkit" in sys.modules and "labkit.sim" in sys.modules)
        print("OK")
    """
    done = _run_fresh(script, {"LABKIT_BOARD": "sim"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "second transfer: DMA channel not idle" in done.stdout
    assert done.stdout.strip().endswith("OK")


def test_without_labkit_board_a_plain_script_is_left_alone():
    script = """
        import sys
        import pynq
        print("sim" if "labkit.sim" in sys.modules else "untouched")
    """
    done = _run_fresh(script, {})  # no LABKIT_BOARD, not a Jupyter kernel: pynq as it is
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "untouched"


def test_a_process_that_does_not_use_pynq_loads_nothing():
    script = """
        import sys
        print(sorted(m for m in ("pynq", "labkit", "numpy") if m in sys.modules))
    """
    done = _run_fresh(script, {"LABKIT_BOARD": "sim"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_a_jupyter_kernel_gets_the_simulated_board_by_default():
    script = """
        import sys, types
        sys.modules.setdefault("ipykernel", types.ModuleType("ipykernel"))  # what a kernel process has
        import pynq
        print(type(pynq.Device.active_device).__name__)
    """
    done = _run_fresh(script, {})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "SimDevice"


def test_labkit_board_real_never_attaches_the_simulation():
    script = """
        import sys, types
        sys.modules.setdefault("ipykernel", types.ModuleType("ipykernel"))
        import pynq
        print("labkit.sim" in sys.modules)
    """
    done = _run_fresh(script, {"LABKIT_BOARD": "real"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


# -- 2./3. metadata from the .hwh, models by VLNV -------------------------------------------------------------

def test_dma_tutorial_metadata_is_pynqs_own(sim_board, tmp_path):
    from labkit.sim.hwh import load_metadata

    device = sim_board("PYNQ-Z2")
    bit = design_dir(tmp_path, DMA_TUTORIAL, "dma_tutorial")
    ol = pynq.Overlay(str(bit))
    reference = load_metadata(bit.with_suffix(".hwh"))
    assert set(ol.ip_dict) == set(reference.ip_dict)
    for name in ("axi_dma_from_ps_to_pl", "axi_dma_from_pl_to_ps"):
        assert ol.ip_dict[name]["phys_addr"] == reference.ip_dict[name]["phys_addr"]
        assert type(getattr(ol, name)) is DMA
    assert ol.ip_dict["axi_dma_from_ps_to_pl"]["registers"]["MM2S_SA"]["fields"]["Source_Address"]["bit_width"] == 32
    fabric = device.fabric
    # pynq's own Clocks set FCLK0 from the .hwh's clock_dict, and the modelled PL runs at what it set
    assert fabric.clock_hz == pytest.approx(pynq.Clocks.fclk0_mhz * 1e6, rel=1e-6)
    if int(pynq.__version__.split(".")[0]) >= 4:  # pynq 4 sets the frequency the design met: 50 MHz here
        assert fabric.clock_hz == pytest.approx(50e6)  # (pynq 3.1 applies the .hwh's divisors to the board's PLL)
    fifo = fabric.ip("axis_data_fifo")
    assert fifo.depth == 512
    channel = fabric.channel_in("axi_dma_from_pl_to_ps", "S_AXIS_S2MM")
    assert channel is fabric.channel_out("axi_dma_from_ps_to_pl", "M_AXIS_MM2S") and channel.depth == 512
    assert fabric.ip("axi_dma_from_ps_to_pl").spec.memory_port == "S_AXI_HP2"
    assert fabric.ip("axi_dma_from_pl_to_ps").spec.memory_port == "S_AXI_HP0"


def test_the_lab_dma_register_map_has_vivados_field_names(board):
    buf = pynq.allocate(shape=(256,), dtype=np.uint32)
    buf[:] = 7
    out = pynq.allocate(shape=(256,), dtype=np.uint32)
    board.dma_loop.sendchannel.transfer(buf)
    board.dma_loop.recvchannel.transfer(out)
    board.dma_loop.sendchannel.wait()
    board.dma_loop.recvchannel.wait()
    rm = board.dma_loop.register_map
    assert rm.MM2S_SA.Source_Address == buf.physical_address
    assert rm.S2MM_DA.Destination_Address == out.physical_address
    assert rm.S2MM_LENGTH.Length == buf.nbytes
    buf.freebuffer()
    out.freebuffer()


def test_axi_gpio_registers_behave_per_pg144(sim_board, tmp_path):
    from pynq.lib import AxiGPIO

    device = sim_board("PYNQ-Z2")
    ol = pynq.Overlay(str(design_dir(tmp_path, AXI_GPIO, "axi_gpio")))
    assert type(ol.leds) is AxiGPIO
    leds = ol.leds
    # PG144: GPIO_TRI resets to all ones (every bit an input) unless C_TRI_DEFAULT says otherwise.
    width = int(ol.ip_dict["leds"]["parameters"]["C_GPIO_WIDTH"])
    assert leds.read(0x4) == (1 << width) - 1
    leds.write(0x4, 0)  # all outputs
    leds.write(0x0, 0b1010)
    model = device.ip_model("leds")
    assert model.driven() == 0b1010 & ((1 << width) - 1)
    assert model.outputs[-1][1] == 0b1010 & ((1 << width) - 1)
    assert leds.read(0x0) == 0b1010 & ((1 << width) - 1)  # output bits read back the output register
    buttons = device.ip_model("buttons")
    buttons.set_inputs(0b01)
    assert ol.buttons.read(0x0) == 0b01  # input bits read the pins
    assert ol.buttons.read(0x120) & 1  # the input change latched IP_ISR bit 0
    ol.buttons.write(0x120, 1)  # toggle-on-write clears it
    assert ol.buttons.read(0x120) & 1 == 0
    ol.leds.channel1.write(0x3, 0x3)  # pynq's own AxiGPIO driver
    assert model.driven() & 0x3 == 0x3


def _mystery_copy(tmp_path, bit):
    """The axi_gpio design with one GPIO turned into an IP nobody models."""
    hwh = bit.with_suffix(".hwh")
    tree = ElementTree.parse(hwh)
    for mod in tree.getroot().iter("MODULE"):
        if mod.get("INSTANCE") == "switches":
            mod.set("VLNV", "acme.com:user:mystery_ip:1.0")
            mod.set("MODTYPE", "mystery_ip")
    tree.write(hwh)
    return bit


def test_an_unknown_ip_is_listed_once_and_refuses_access(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    bit = _mystery_copy(tmp_path, design_dir(tmp_path, AXI_GPIO, "axi_gpio"))
    with pytest.warns(RuntimeWarning) as record:
        ol = pynq.Overlay(str(bit))
    messages = [str(w.message) for w in record if "no model" in str(w.message)]
    assert len(messages) == 1 and "switches (acme.com:user:mystery_ip:1.0)" in messages[0]
    with pytest.raises(DesignError, match="switches .*not simulated"):
        ol.switches.read(0x0)
    with pytest.raises(DesignError, match="not simulated"):
        ol.switches.write(0x0, 1)
    ol.leds.write(0x4, 0)  # the rest of the design works
    ol.leds.write(0x0, 1)


def test_a_design_for_another_family_is_a_clear_error(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    bit = design_dir(tmp_path, RESIZER_ZCU104, "resizer")
    with pytest.raises(DesignError, match="Zynq UltraScale\\+ design.*LABKIT_SIM_PROFILE=ZCU104"):
        pynq.Overlay(str(bit))


# -- 3./4. HLS kernels: no behaviour, a Python model --------------------------------------------------------

def test_a_kernel_without_behaviour_names_the_ip_and_both_remedies(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    ol = pynq.Overlay(str(design_dir(tmp_path, RESIZER_Z2, "resizer")))
    resizer = ol.resize_accel_0
    resizer.register_map.src_rows = 4  # registers behave without behaviour
    assert resizer.read(0x10) == 4  # write-only in the .hwh, so read the word itself
    with pytest.raises(DesignError) as info:
        resizer.write(0x00, 0x81)
    text = str(info.value)
    assert "resize_accel_0" in text and "register_cpp_kernel" in text and "register_kernel" in text
    assert resizer.register_map.CTRL.AP_IDLE == 1  # the refused start left it idle


def _resize_model(args, inputs):
    import cv2

    src = inputs["src"].reshape(args["src_rows"], args["src_cols"], 3)
    return {"dst": cv2.resize(src, (args["dst_cols"], args["dst_rows"]))}


@pytest.mark.parametrize("profile, hwh", [("PYNQ-Z2", RESIZER_Z2), ("ZCU104", RESIZER_ZCU104)])
def test_resizer_runs_with_a_python_model(sim_board, tmp_path, profile, hwh):
    import cv2

    device = sim_board(profile)
    ol = pynq.Overlay(str(design_dir(tmp_path, hwh, "resizer")))
    register_kernel("resize_accel_0", _resize_model, cycles=lambda a, i, o: a["src_rows"] * a["src_cols"] + 100)
    dma = ol.axi_dma_0
    resizer = ol.resize_accel_0
    old_h, old_w, new_h, new_w = 60, 80, 30, 40
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(old_h, old_w, 3), dtype=np.uint8)
    in_buffer = pynq.allocate(shape=(old_h, old_w, 3), dtype=np.uint8, cacheable=1)
    out_buffer = pynq.allocate(shape=(new_h, new_w, 3), dtype=np.uint8, cacheable=1)
    in_buffer[:] = image
    resizer.register_map.src_rows = old_h
    resizer.register_map.src_cols = old_w
    resizer.register_map.dst_rows = new_h
    resizer.register_map.dst_cols = new_w
    dma.sendchannel.transfer(in_buffer)
    dma.recvchannel.transfer(out_buffer)
    resizer.write(0x00, 0x81)  # ap_start with auto-restart, as the notebook does
    dma.sendchannel.wait()
    dma.recvchannel.wait()
    assert np.array_equal(np.asarray(out_buffer), cv2.resize(image, (new_w, new_h)))
    fabric = device.fabric
    assert fabric.channel_in("resize_accel_0", "src").converts  # 32-bit DMA stream -> 24-bit pixels
    assert fabric.channel_in("resize_accel_0", "src").width == 3
    if profile == "ZCU104":
        assert dma.register_map.MM2S_SA_MSB.Source_Address == in_buffer.physical_address >> 32
        assert fabric.ip("axi_dma_0").spec.parameters["labkit_memory_port_width"] == "128"
        assert fabric.clock_hz == pytest.approx(100e6, rel=1e-4)  # 33.333 MHz x 90 / 2 / 15, as on the board
    in_buffer.freebuffer()
    out_buffer.freebuffer()


# -- 4(a). a kernel given as C++ source ---------------------------------------------------------------------

NEAREST_RESIZE_CPP = r"""
// A nearest-neighbour stand-in for resize_accel, written for this test with Xilinx's types.
#include "ap_int.h"
#include "hls_stream.h"
#include "ap_axi_sdata.h"

typedef ap_axiu<24, 1, 1, 1> pixel_t;

void resize_accel(hls::stream<pixel_t>& src, hls::stream<pixel_t>& dst,
                  int src_rows, int src_cols, int dst_rows, int dst_cols) {
#pragma HLS INTERFACE axis port=src
#pragma HLS INTERFACE axis port=dst
    static ap_uint<24> frame[1 << 16];
    for (int i = 0; i < src_rows * src_cols; ++i) {
        pixel_t p = src.read();
        frame[i] = p.data;
    }
    for (int r = 0; r < dst_rows; ++r) {
        for (int c = 0; c < dst_cols; ++c) {
            pixel_t q;
            q.data = frame[(r * src_rows / dst_rows) * src_cols + (c * src_cols / dst_cols)];
            q.last = (r == dst_rows - 1) && (c == dst_cols - 1);
            dst.write(q);
        }
    }
}
"""


@pytest.mark.needs_gxx
def test_a_kernel_given_as_cpp_source_is_compiled_and_runs(sim_board, tmp_path, monkeypatch):
    from labkit.sim import register_cpp_kernel

    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    sim_board("PYNQ-Z2")
    ol = pynq.Overlay(str(design_dir(tmp_path, RESIZER_Z2, "resizer")))
    source = tmp_path / "resize_accel.cpp"
    source.write_text(NEAREST_RESIZE_CPP)
    register_cpp_kernel("resize_accel_0", source, latency_cycles=5000)
    h, w, nh, nw = 20, 30, 10, 12
    image = np.random.default_rng(5).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    src = pynq.allocate(shape=(h, w, 3), dtype=np.uint8)
    dst = pynq.allocate(shape=(nh, nw, 3), dtype=np.uint8)
    src[:] = image
    src.sync_to_device()
    rm = ol.resize_accel_0.register_map
    rm.src_rows, rm.src_cols, rm.dst_rows, rm.dst_cols = h, w, nh, nw
    ol.axi_dma_0.sendchannel.transfer(src)
    ol.axi_dma_0.recvchannel.transfer(dst)
    ol.resize_accel_0.write(0x00, 0x01)
    ol.axi_dma_0.sendchannel.wait()
    ol.axi_dma_0.recvchannel.wait()
    dst.invalidate()
    rows = np.arange(nh) * h // nh
    cols = np.arange(nw) * w // nw
    assert np.array_equal(np.asarray(dst), image[rows][:, cols])


def test_cpp_signature_binding():
    from labkit.sim.cpp_kernel import parse_top

    params = parse_top("void k(hls::stream<ap_axiu<32,1,1,1> > &in, hls::stream<ap_uint<8>>& out,\n"
                       "       int n, ap_uint<12> scale, float *gmem, int table[16]) { }", "k")
    assert [(p.name, p.kind) for p in params] == [("in", "stream"), ("out", "stream"), ("n", "scalar"),
                                                  ("scale", "scalar"), ("gmem", "pointer"), ("table", "pointer")]
    with pytest.raises(DesignError, match="top="):
        parse_top("void other(int a) {}", "k")


# -- parameters from the .hwh that change behaviour ---------------------------------------------------------

def _edit_hwh(bit, instance: str, edit) -> None:
    """Change one MODULE of the .hwh beside ``bit`` in place (``edit(module_element)``)."""
    hwh = bit.with_suffix(".hwh")
    tree = ElementTree.parse(hwh)
    for mod in tree.getroot().iter("MODULE"):
        if mod.get("INSTANCE") == instance:
            edit(mod)
    tree.write(hwh)


def _set_params(**values):
    def edit(mod):
        for param in mod.iter("PARAMETER"):
            if param.get("NAME") in values:
                param.set("VALUE", values[param.get("NAME")])
    return edit


def test_a_fifo_without_tlast_leaves_s2mm_waiting(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    bit = design_dir(tmp_path, DMA_TUTORIAL, "dma_tutorial")
    _edit_hwh(bit, "axis_data_fifo", _set_params(HAS_TLAST="0"))
    ol = pynq.Overlay(str(bit))
    src = pynq.allocate(shape=(64,), dtype=np.uint32)
    dst = pynq.allocate(shape=(128,), dtype=np.uint32)
    ol.axi_dma_from_pl_to_ps.recvchannel.transfer(dst)
    ol.axi_dma_from_ps_to_pl.sendchannel.transfer(src)
    ol.axi_dma_from_ps_to_pl.sendchannel.wait()
    assert not ol.axi_dma_from_pl_to_ps.recvchannel.idle  # no TLAST: the packet never ends, as on hardware


def test_a_scatter_gather_dma_is_refused_at_load(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    bit = design_dir(tmp_path, DMA_TUTORIAL, "dma_tutorial")
    _edit_hwh(bit, "axi_dma_from_ps_to_pl", _set_params(C_INCLUDE_SG="1", c_include_sg="1"))
    with pytest.raises(DesignError, match="scatter-gather mode .* is not simulated"):
        pynq.Overlay(str(bit))


def test_an_ap_ctrl_none_kernel_runs_when_data_arrives(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    bit = design_dir(tmp_path, RESIZER_Z2, "resizer")

    def drop_ctrl(mod):
        for registers in mod.iter("REGISTERS"):
            for reg in list(registers):
                if reg.get("NAME") == "CTRL":
                    registers.remove(reg)
    _edit_hwh(bit, "resize_accel_0", drop_ctrl)
    ol = pynq.Overlay(str(bit))
    register_kernel("resize_accel_0", lambda args, inputs: {"dst": 255 - inputs["src"]}, latency_cycles=10)
    src = pynq.allocate(shape=(10, 10, 3), dtype=np.uint8)
    dst = pynq.allocate(shape=(10, 10, 3), dtype=np.uint8)
    src[:] = np.arange(300, dtype=np.uint32).reshape(10, 10, 3) % 256
    for _ in range(2):  # no ap_start at all, twice
        ol.axi_dma_0.sendchannel.transfer(src)
        ol.axi_dma_0.recvchannel.transfer(dst)
        ol.axi_dma_0.sendchannel.wait()
        ol.axi_dma_0.recvchannel.wait()
        assert np.array_equal(np.asarray(dst), 255 - np.asarray(src))
        src[:] = 7


def test_a_python_model_follows_a_pointer_into_ddr(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    ol = pynq.Overlay(str(design_dir(tmp_path, RESIZER_Z2, "resizer")))
    table = pynq.allocate(shape=(256,), dtype=np.uint8)
    table[:] = np.arange(256)[::-1]
    table.sync_to_device()

    def lookup(args, inputs, ddr):  # an m_axi-style kernel: a table in DDR at the address in a register
        lut = ddr(args["dst_cols"], 256)
        return {"dst": lut[inputs["src"]]}

    register_kernel("resize_accel_0", lookup)
    src = pynq.allocate(shape=(4, 4, 3), dtype=np.uint8)
    dst = pynq.allocate(shape=(4, 4, 3), dtype=np.uint8)
    src[:] = np.arange(48).reshape(4, 4, 3)
    ol.resize_accel_0.register_map.dst_cols = table.physical_address
    ol.axi_dma_0.sendchannel.transfer(src)
    ol.axi_dma_0.recvchannel.transfer(dst)
    ol.resize_accel_0.write(0x00, 0x01)
    ol.axi_dma_0.sendchannel.wait()
    ol.axi_dma_0.recvchannel.wait()
    assert np.array_equal(np.asarray(dst), 255 - np.asarray(src))


def test_bram_controller_is_plain_memory(device):
    from labkit.sim.designs import Design
    from labkit.sim.ip import catalogue_entry
    from labkit.sim.ip.axi_bram import AxiBramCtrlModel
    from labkit.sim.ip.base import IPSpec

    assert catalogue_entry("xilinx.com:ip:axi_bram_ctrl:4.1") is AxiBramCtrlModel
    assert catalogue_entry("xilinx.com:ip:smartconnect:1.0") == "transparent"
    assert catalogue_entry("xilinx.com:hls:anything:2.3") == "hls"
    assert catalogue_entry("acme.com:user:mystery:1.0") is None
    bram = IPSpec("axi_bram_ctrl_0", "xilinx.com:ip:axi_bram_ctrl:4.1", 0x4000_0000, 0x2000)
    device.fabric.load_design(Design("bram", "one BRAM", [bram], {}))
    mmio = pynq.MMIO(0x4000_0000, 0x2000)
    mmio.array[:8] = np.arange(8, dtype=np.uint32)
    mmio.write(0x1FFC, 0xDEADBEEF)
    assert list(mmio.array[:8]) == list(range(8)) and mmio.read(0x1FFC) == 0xDEADBEEF


def test_interrupt_lines_are_taken_out_of_the_metadata(caplog):
    from types import SimpleNamespace

    from labkit.sim.hwh import _drop_interrupts

    parser = SimpleNamespace(
        ip_dict={"dma": {"interrupts": {"mm2s_introut": {"controller": "intc", "index": 0}}}, "gpio": {"interrupts": {}}},
        hierarchy_dict={"block": {"interrupts": {"irq": {}}}},
        interrupt_controllers={"intc": {"parent": "", "index": 0}}, interrupt_pins={"dma/mm2s_introut": {}})
    with caplog.at_level("WARNING", logger="labkit.sim"):
        _drop_interrupts(parser, "design.hwh")
    assert parser.ip_dict["dma"]["interrupts"] == {} and parser.hierarchy_dict["block"]["interrupts"] == {}
    assert parser.interrupt_controllers == {} and parser.interrupt_pins == {}
    assert "dma/mm2s_introut" in caplog.text and "poll" in caplog.text


def test_the_autosim_hook_never_takes_a_real_board(monkeypatch, tmp_path):
    import types

    import labkit_autosim

    monkeypatch.delenv("LABKIT_BOARD", raising=False)
    monkeypatch.delenv("XILINX_XRT", raising=False)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(labkit_autosim, "FPGA_MANAGER", str(tmp_path / "no_fpga_manager_here"))
    assert labkit_autosim.wanted()  # a Jupyter kernel without a board: the simulated board by default
    board = tmp_path / "firmware"
    board.write_text("")
    monkeypatch.setattr(labkit_autosim, "FPGA_MANAGER", str(board))
    assert not labkit_autosim.wanted()  # a PYNQ board: never
    monkeypatch.setenv("LABKIT_BOARD", "real")
    assert not labkit_autosim.wanted()
    monkeypatch.setenv("LABKIT_BOARD", "sim")
    assert labkit_autosim.wanted()  # asked for by name
    monkeypatch.delitem(sys.modules, "ipykernel")
    monkeypatch.delenv("LABKIT_BOARD")
    monkeypatch.setattr(labkit_autosim, "FPGA_MANAGER", str(tmp_path / "no_fpga_manager_here"))
    assert not labkit_autosim.wanted()  # a plain script without LABKIT_BOARD: pynq as it is


def test_labkit_sim_profile_chooses_an_ultrascale_board(tmp_path):
    bit = design_dir(tmp_path, RESIZER_ZCU104, "resizer")
    script = f"""
        import pynq
        ol = pynq.Overlay({str(bit)!r})
        print(ol.device.name, round(pynq.Clocks.fclk0_mhz, 2), hex(ol.ip_dict["axi_dma_0"]["phys_addr"]))
    """
    done = _run_fresh(script, {"LABKIT_BOARD": "sim", "LABKIT_SIM_PROFILE": "ZCU104"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ZCU104", "(simulated)", "100.0", "0xa0000000"]


LUT_CPP = r"""
// A look-up-table kernel written for this test: an m_axi pointer (the table in DDR) and two streams.
#include "ap_int.h"
#include "hls_stream.h"
#include "ap_axi_sdata.h"

typedef ap_axiu<24, 1, 1, 1> pixel_t;

void resize_accel(hls::stream<pixel_t>& src, hls::stream<pixel_t>& dst, int src_rows, int src_cols,
                  int dst_rows, const unsigned char* dst_cols) {
    const int n = src_rows * src_cols;
    for (int i = 0; i < n; ++i) {
        pixel_t p = src.read();
        pixel_t q;
        for (int b = 0; b < 3; ++b) q.data(8 * b + 7, 8 * b) = dst_cols[(int)p.data(8 * b + 7, 8 * b)];
        q.last = i == n - 1;
        dst.write(q);
    }
}
"""


@pytest.mark.needs_gxx
def test_a_cpp_kernel_reads_ddr_through_a_pointer(sim_board, tmp_path, monkeypatch):
    from labkit.sim import register_cpp_kernel

    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    sim_board("PYNQ-Z2")
    ol = pynq.Overlay(str(design_dir(tmp_path, RESIZER_Z2, "resizer")))
    source = tmp_path / "lut.cpp"
    source.write_text(LUT_CPP)
    register_cpp_kernel("resize_accel_0", source)
    table = pynq.allocate(shape=(256,), dtype=np.uint8)
    table[:] = (np.arange(256) * 7) % 256
    table.sync_to_device()
    src = pynq.allocate(shape=(5, 6, 3), dtype=np.uint8)
    dst = pynq.allocate(shape=(5, 6, 3), dtype=np.uint8)
    src[:] = np.arange(90).reshape(5, 6, 3)
    rm = ol.resize_accel_0.register_map
    rm.src_rows, rm.src_cols = 5, 6
    rm.dst_cols = table.physical_address  # the pointer argument's register
    ol.axi_dma_0.sendchannel.transfer(src)
    ol.axi_dma_0.recvchannel.transfer(dst)
    ol.resize_accel_0.write(0x00, 0x01)
    ol.axi_dma_0.sendchannel.wait()
    ol.axi_dma_0.recvchannel.wait()
    assert np.array_equal(np.asarray(dst), np.asarray(table)[np.asarray(src)])


def test_an_ip_inside_a_hierarchy_is_reached_through_pynqs_hierarchy(sim_board, tmp_path):
    device = sim_board("PYNQ-Z2")
    bit = design_dir(tmp_path, AXI_GPIO, "axi_gpio")
    _edit_hwh(bit, "leds", lambda mod: mod.set("FULLNAME", "/io/leds"))
    ol = pynq.Overlay(str(bit))
    assert "io/leds" in ol.ip_dict and "io" in ol.hierarchy_dict
    ol.io.leds.write(0x4, 0)
    ol.io.leds.write(0x0, 0b11)
    assert device.ip_model("io/leds").driven() == 0b11


def test_a_kernel_model_that_raises_says_which_kernel_and_what_it_got(sim_board, tmp_path):
    sim_board("PYNQ-Z2")
    ol = pynq.Overlay(str(design_dir(tmp_path, RESIZER_Z2, "resizer")))
    register_kernel("resize_accel_0", lambda args, inputs: {"dst": inputs["src"].reshape(7, 7)})
    src = pynq.allocate(shape=(4, 4, 3), dtype=np.uint8)
    dst = pynq.allocate(shape=(4, 4, 3), dtype=np.uint8)
    ol.resize_accel_0.write(0x00, 0x01)
    ol.axi_dma_0.recvchannel.transfer(dst)
    with pytest.raises(DesignError, match="resize_accel_0: the kernel's python model raised ValueError.*48"):
        ol.axi_dma_0.sendchannel.transfer(src)


def test_an_ultrascale_board_without_a_power_model_has_no_rails(sim_board):
    device = sim_board("ZCU104")
    assert pynq.get_rails() == {}  # as pynq says on a board without PMBus sensors
    assert device.fabric.clock_hz == pytest.approx(100e6, rel=1e-4)
    assert device.fabric.slcr.cpu_mhz() == pytest.approx(1200, rel=1e-3)
