"""Checks that need no compiler: the Python tables against the C++ sources.

* every register table works with pynq's own RegisterMap;
* the register offsets follow from the HLS top's signature the way Vitis HLS
  lays out an s_axilite bundle (and equal the documented maps);
* the constants and return codes in the C++ headers equal the Python ones;
* each run_hls.tcl performs the documented Vitis HLS flow (run in tclsh with
  the Vitis commands stubbed out).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
from pynq.registers import RegisterMap

from labkit import kernels
from labkit.kernels import (
    _status, cnn_classifier, ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store)

HLS = Path(__file__).resolve().parents[2] / "hls"
MODULES = [mmio_rowsum, pp_load_compute, pp_store, ddr_rowsum, cnn_classifier]
CONTROL = ["CTRL", "GIER", "IP_IER", "IP_ISR"]

# The maps as specified (hex offsets written out once, here, to check against).
EXPECTED_OFFSETS = {
    "mmio_rowsum": {"rows": 0x10, "cols": 0x18, "pack16": 0x20},
    "pp_load_compute": {"num": 0x10, "op": 0x18, "n": 0x20, "pingpong": 0x28},
    "pp_store": {"num": 0x10, "n": 0x18, "pingpong": 0x20},
    "ddr_rowsum": {"src_1": 0x10, "src_2": 0x14, "dst_1": 0x1C, "dst_2": 0x20,
                   "rows": 0x28, "cols": 0x30},
    "cnn_classifier": {"batch": 0x10},
}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.KERNEL)
def test_identity(module):
    assert module.VLNV == f"xilinx.com:hls:{module.KERNEL}:1.0"
    assert module.ADDR_RANGE == 0x10000
    assert module.AXI_LITE_PORT == "s_axi_control"
    assert kernels.KERNELS[module.KERNEL] is module


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.KERNEL)
def test_register_map_offsets(module):
    regs = module.REGISTERS
    assert list(regs)[:4] == CONTROL
    assert [regs[name]["address_offset"] for name in CONTROL] == [0x0, 0x4, 0x8, 0xC]
    args = {name: r["address_offset"] for name, r in regs.items() if name not in CONTROL}
    assert args == EXPECTED_OFFSETS[module.KERNEL]
    for name, reg in regs.items():
        assert reg["size"] == 32
        fields = reg["fields"]
        bits = sorted((f["bit_offset"], f["bit_width"]) for f in fields.values())
        covered = [b for off, width in bits for b in range(off, off + width)]
        assert covered == list(range(32)), f"{name}: fields must tile 32 bits"
        if name not in CONTROL:
            assert reg["access"] == "write-only"


def test_control_fields():
    ctrl = mmio_rowsum.REGISTERS["CTRL"]["fields"]
    assert {n: (f["bit_offset"], f["access"]) for n, f in ctrl.items()
            if not n.startswith("RESERVED")} == {
        "AP_START": (0, "read-write"), "AP_DONE": (1, "read-only"),
        "AP_IDLE": (2, "read-only"), "AP_READY": (3, "read-only"),
        "AUTO_RESTART": (7, "read-write"), "INTERRUPT": (9, "read-only")}
    assert mmio_rowsum.REGISTERS["GIER"]["fields"]["Enable"]["bit_offset"] == 0
    ier = mmio_rowsum.REGISTERS["IP_IER"]["fields"]
    assert (ier["CHAN0_INT_EN"]["bit_offset"], ier["CHAN1_INT_EN"]["bit_offset"]) == (0, 1)
    isr = mmio_rowsum.REGISTERS["IP_ISR"]["fields"]
    assert (isr["CHAN0_INT_ST"]["bit_offset"], isr["CHAN1_INT_ST"]["bit_offset"]) == (0, 1)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.KERNEL)
def test_pynq_register_map_accepts_the_table(module):
    """pynq builds a RegisterMap from the table; writes land at the offsets."""
    window = np.zeros(module.ADDR_RANGE // 4, dtype=np.uint32)
    regmap = RegisterMap.create_subclass(module.KERNEL, module.REGISTERS)(window)
    regmap.CTRL.AP_START = 1
    assert window[0] == 1
    for name, reg in module.REGISTERS.items():
        if name in CONTROL:
            continue
        setattr(regmap, name, 0x1234_0000 + reg["address_offset"])
        assert window[reg["address_offset"] // 4] == 0x1234_0000 + reg["address_offset"]
    assert "write-only" in repr(regmap)


# --- the layout Vitis HLS derives from the top function's signature ---------

def top_signature(kernel: str) -> List[Tuple[str, str]]:
    """[(kind, name)] of the HLS top's arguments: stream, pointer, array, scalar."""
    source = (HLS / kernel / f"{kernel}.h").read_text()
    match = re.search(rf"void {kernel}\(([^)]*)\);", source)
    assert match, f"top function {kernel} not found"
    args = []
    for text in match.group(1).split(","):
        text = " ".join(text.split())
        name = re.search(r"(\w+)\s*(\[[^\]]*\])?$", text).group(1)
        kind = ("stream" if "hls::stream" in text else "pointer" if "*" in text
                else "array" if "[" in text else "scalar")
        args.append((kind, name))
    return args


def pragmas(kernel: str) -> Dict[str, str]:
    """port -> interface mode, from the INTERFACE pragmas of <kernel>.cpp."""
    source = (HLS / kernel / f"{kernel}.cpp").read_text()
    found: Dict[str, str] = {}
    for mode, port, rest in re.findall(r"#pragma HLS INTERFACE (\w+) port=(\w+)(.*)", source):
        if mode == "s_axilite":
            assert "bundle=control" in rest, f"{kernel}.{port}: s_axilite outside 'control'"
        if mode == "m_axi":
            assert "offset=slave" in rest and "bundle=gmem" in rest
        found.setdefault(port, mode)
    return found


def vitis_layout(kernel: str) -> Tuple[Dict[str, int], Dict[str, int]]:
    """Register offsets and memory offsets the way Vitis HLS assigns them:
    from 0x10, a 32-bit scalar takes 8 bytes (data + reserved), a 64-bit
    m_axi offset 12 bytes (two data words + reserved, registers <name>_1 and
    <name>_2); each s_axilite array becomes a memory aligned to its
    power-of-two size, at the lowest free such address (first fit)."""
    sizes = {"image": mmio_rowsum.MAX_WORDS, "rowsum": mmio_rowsum.MAX_ROWS}
    registers, memories, offset = {}, {}, 0x10
    taken: List[Tuple[int, int]] = []
    for kind, name in top_signature(kernel):
        if kind == "scalar":
            registers[name] = offset
            offset += 8
        elif kind == "pointer":
            registers[f"{name}_1"], registers[f"{name}_2"] = offset, offset + 4
            offset += 12
    taken.append((0, offset))
    for kind, name in top_signature(kernel):
        if kind != "array":
            continue
        size = 1 << (sizes[name] * 4 - 1).bit_length()
        base = 0
        while any(base < end and start < base + size for start, end in taken):
            base += size
        memories[name] = base
        taken.append((base, base + size))
    return registers, memories


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.KERNEL)
def test_layout_follows_from_the_source(module):
    ports = pragmas(module.KERNEL)
    assert ports.get("return") == "s_axilite"
    registers, memories = vitis_layout(module.KERNEL)
    table = {n: r["address_offset"] for n, r in module.REGISTERS.items() if n not in CONTROL}
    assert registers == table
    for kind, name in top_signature(module.KERNEL):
        expected_mode = {"stream": "axis", "pointer": "m_axi"}.get(kind, "s_axilite")
        assert ports[name] == expected_mode, name
        if kind == "stream":
            assert name in (module.AXIS_INPUT, module.AXIS_OUTPUT)
        if kind == "pointer":
            assert name in module.M_AXI_ARGS
    if module is mmio_rowsum:
        assert memories == {n: m["offset"] for n, m in mmio_rowsum.MEMORIES.items()}
        assert {n: m["words"] for n, m in mmio_rowsum.MEMORIES.items()} == {
            "image": 8192, "rowsum": 128}
        assert mmio_rowsum.MEMORIES["image"]["offset"] + 4 * 8192 <= mmio_rowsum.ADDR_RANGE


# --- constants shared by C++ and Python -------------------------------------

def header_constants(path: Path) -> Dict[str, int]:
    values: Dict[str, int] = {}
    text = path.read_text()
    for name, expr in re.findall(r"constexpr uint32_t (\w+) =\s*([^;]+);", text):
        expr = re.sub(r"(?<=\d)u\b", "", " ".join(expr.split()))
        values[name] = int(eval(expr, {"__builtins__": {}}, dict(values)))  # our own headers
    return values


def test_header_constants_match_python():
    mmio = header_constants(HLS / "mmio_rowsum" / "mmio_rowsum.h")
    assert mmio["MMIO_ROWSUM_MAX_WORDS"] == mmio_rowsum.MAX_WORDS
    assert mmio["MMIO_ROWSUM_MAX_ROWS"] == mmio_rowsum.MAX_ROWS
    assert mmio["MMIO_ROWSUM_PIXEL_BITS"] == mmio_rowsum.PIXEL_BITS
    assert mmio["MMIO_ROWSUM_PIXEL_MASK"] == mmio_rowsum.PIXEL_MASK
    assert mmio["MMIO_ROWSUM_PIXELS_PER_PACKED_WORD"] == mmio_rowsum.PIXELS_PER_PACKED_WORD
    lc = header_constants(HLS / "pp_load_compute" / "pp_load_compute.h")
    assert lc["PP_LC_MAX_N"] == pp_load_compute.MAX_N
    st = header_constants(HLS / "pp_store" / "pp_store.h")
    assert st["PP_ST_MAX_N"] == pp_store.MAX_N
    ddr = header_constants(HLS / "ddr_rowsum" / "ddr_rowsum.h")
    assert ddr["DDR_ROWSUM_BURST_BEATS"] == ddr_rowsum.BURST_BEATS


def test_bridge_codes_match_header():
    text = (HLS / "common" / "lab_bridge.h").read_text()
    header = {name: int(value) for name, value in re.findall(r"(LAB_\w+) = (-?\d+)", text)}
    python = {name: getattr(_status, name) for name in dir(_status) if name.startswith("LAB_")}
    assert header == python
    assert set(_status.STATUS) == set(python.values())


# --- numpy helpers and cycle models ------------------------------------------

def test_pack_and_unpack_pixels():
    pixels = np.array([0x0001, 0xFFFF, 0x1234, 0xABCD, 0x7], dtype=np.uint16)
    words = mmio_rowsum.pack_pixels16(pixels)
    assert words.tolist() == [0xFFFF0001, 0xABCD1234, 0x00000007]
    assert mmio_rowsum.unpack_pixels(words, 5, 1).tolist() == pixels.tolist()
    assert np.array_equal(words, np.pad(pixels, (0, 1)).view("<u4"))  # a little-endian view


def test_mmio_cycle_model():
    assert mmio_rowsum.cycles(70, 80) == 3 + 70 * (79 + 4 + 2) == 5953
    assert mmio_rowsum.cycles(70, 80, pack16=1) == 5953
    assert mmio_rowsum.cycles(0, 80) == mmio_rowsum.CALL_OVERHEAD
    assert mmio_rowsum.cycles(129, 1) == mmio_rowsum.CALL_OVERHEAD
    assert kernels.cycles_to_seconds(5953) == pytest.approx(59.53e-6)


def test_model_checked_raises_a_labkit_error():
    from labkit.errors import LabkitError

    with pytest.raises(LabkitError) as info:
        mmio_rowsum.model_checked(np.zeros(8192, np.uint32), 129, 1, 0)
    assert isinstance(info.value, ValueError)
    assert info.value.code == _status.LAB_ERR_TOO_LARGE


# --- the Vitis HLS flow -------------------------------------------------------

VITIS_COMMANDS = ["open_project", "set_top", "add_files", "open_solution", "set_part",
                  "create_clock", "config_interface", "csim_design", "csynth_design",
                  "export_design"]


def tcl_flow(kernel: str) -> List[List[str]]:
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        pytest.skip("tclsh not found")
    stubs = "".join(f"proc {c} {{args}} {{puts [concat {c} $args]}}\n" for c in VITIS_COMMANDS)
    script = stubs + "proc exit {args} {}\nsource run_hls.tcl\n"
    result = subprocess.run([tclsh], input=script, capture_output=True, text=True,
                            cwd=HLS / kernel, timeout=30)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.KERNEL)
def test_run_hls_tcl_flow(module):
    kernel = module.KERNEL
    steps = tcl_flow(kernel)
    names = [s[0] for s in steps]
    expected = ["open_project", "set_top", "add_files", "add_files", "open_solution",
                "set_part", "create_clock", "csim_design", "csynth_design", "export_design"]
    if kernel == "ddr_rowsum":
        expected.insert(7, "config_interface")
        assert steps[7] == ["config_interface", "-m_axi_addr64"]
    assert names == expected
    assert steps[1] == ["set_top", kernel]
    design, testbench = steps[2], steps[3]
    assert Path(design[1]) == HLS / kernel / f"{kernel}.cpp" and Path(design[1]).exists()
    assert testbench[1] == "-tb" and Path(testbench[2]) == HLS / kernel / f"{kernel}_tb.cpp"
    for step in (design, testbench):
        flags = " ".join(step)
        assert f"-I{HLS / 'common'}" in flags and "csim" not in flags
        assert "-DLAB_AXIS_USE_AP_AXI_SDATA" in flags
    assert steps[5] == ["set_part", "xc7z020clg400-1"]
    assert steps[6][:3] == ["create_clock", "-period", "10"]
    export = steps[-1]
    assert export[:3] == ["export_design", "-format", "ip_catalog"]
    vendor, library, version = (export[export.index(f) + 1] for f in ("-vendor", "-library", "-version"))
    assert f"{vendor}:{library}:{kernel}:{version}" == module.VLNV
