"""The text of each generated file, from a :class:`~labkit.generate.spec.KernelSpec`.

Plain Python string building (no template engine): each function returns one file's text
without its banner.  Names in the C++ follow one rule: ``<k>_<port>_t`` for types,
``<K>_<PORT>_<WHAT>`` for constants (``<k>`` the kernel's name).
"""

from __future__ import annotations

from pathlib import Path

from .spec import KernelSpec, ScalarSpec, StreamSpec

__all__ = ["header", "top", "compute_body", "testbench", "run_hls", "vivado_fragment", "vivado_design",
           "bit_placeholder", "driver"]

#: PYNQ-Z1/Z2 address map the generated design uses (the PS7's M_AXI_GP0 window starts at 0x4000_0000)
DMA_BASE = 0x4040_0000
KERNEL_BASE = 0x43C0_0000
LITE_RANGE = 0x1_0000  # 64 KiB: Vivado's default segment size for an AXI-Lite slave


def _up(spec: KernelSpec, port: str = "") -> str:
    return (spec.name + ("_" + port if port else "")).upper()


def _t(spec: KernelSpec, port: str) -> str:
    return f"{spec.name}_{port}_t"


def _beat_type(stream: StreamSpec) -> str:
    return f"ap_axiu<{stream.beat_bits}, 0, 0, 0>"


def _scalar_params(spec: KernelSpec) -> list[str]:
    names = (["batch"] if spec.has_batch_register else []) + [s.name for s in spec.scalars]
    return [f"uint32_t {n}" for n in names]


def _signature(spec: KernelSpec) -> str:
    i, o = spec.inputs[0], spec.outputs[0]
    params = [f"hls::stream<{_beat_type(i)}> &{i.name}", f"hls::stream<{_beat_type(o)}> &{o.name}",
              *_scalar_params(spec)]
    return f"void {spec.name}({', '.join(params)})"


def _compute_signature(spec: KernelSpec) -> str:
    i, o = spec.inputs[0], spec.outputs[0]
    params = [f"const {_t(spec, i.name)} {i.name}[{_up(spec, i.name)}_COUNT]",
              f"{_t(spec, o.name)} {o.name}[{_up(spec, o.name)}_COUNT]"]
    params += [f"{_t(spec, s.name)} {s.name}" for s in spec.scalars]
    return f"static void {spec.name}_compute({', '.join(params)})"


# -- HLS ------------------------------------------------------------------------------------------------

def header(spec: KernelSpec) -> str:
    k, K = spec.name, _up(spec)
    lines = [f"// {k}.h -- the interface of {k}: constants, element types, the top function.",
             f"#ifndef {K}_GENERATED_H", f"#define {K}_GENERATED_H", "",
             "#include <cstdint>", "#include <cstring>", "",
             "// Loop labels (READ:, WRITE:, ...) name loops for Vitis HLS directives and reports; g++ would",
             "// call them unused labels.",
             "#if defined(__GNUC__) && !defined(__SYNTHESIS__)",
             '#pragma GCC diagnostic ignored "-Wunused-label"',
             "#endif", "", '#include "ap_int.h"', '#include "ap_fixed.h"',
             '#include "hls_stream.h"', '#include "ap_axi_sdata.h"', "",
             f"constexpr uint32_t {K}_MAX_BATCH = {spec.items_per_call};  // items per kernel call"
             + ("" if spec.has_batch_register else " (ap_ctrl_none: one item per call)"), ""]
    for s in spec.inputs + spec.outputs:
        P = _up(spec, s.name)
        lines += [f"// {'input' if s.direction == 'in' else 'output'} stream {s.name}: {s.dtype.name}, shape "
                  f"{list(s.shape)} per item, {s.per_beat} per {s.beat_bits}-bit beat"
                  + (f", TLAST {s.tlast.replace('_', ' ')}" if s.direction == "out" else ""),
                  f"typedef {s.dtype.cpp} {_t(spec, s.name)};",
                  f"constexpr int {P}_COUNT = {s.count};"]
        lines += [f"constexpr int {P}_DIM{d} = {n};" for d, n in enumerate(s.shape)]
        lines += [f"constexpr int {P}_BITS = {s.dtype.bits};", f"constexpr int {P}_PER_BEAT = {s.per_beat};",
                  f"constexpr int {P}_BEATS = {s.beats};", ""]
    for s in spec.scalars:
        lines += [f"// scalar {s.name}: {s.dtype.name}, {s.min}..{s.max} (the driver checks the range)",
                  f"typedef {s.dtype.cpp} {_t(spec, s.name)};"]
    lines += ["", "// Element <-> raw bits on the stream (two's complement, IEEE 754, or ap_fixed's bits).",
              "#ifndef LABGEN_BITS_DEFINED", "#define LABGEN_BITS_DEFINED",
              "template <typename T> struct labgen_bits {",
              "    static T from(uint64_t b) { return (T)b; }",
              "    static uint64_t to(const T &v) { return (uint64_t)v; }", "};",
              "template <> struct labgen_bits<float> {",
              "    static float from(uint64_t b) { uint32_t u = (uint32_t)b; float f; std::memcpy(&f, &u, 4); return f; }",
              "    static uint64_t to(const float &v) { uint32_t u; std::memcpy(&u, &v, 4); return u; }", "};",
              "template <int W, int I> struct labgen_bits<ap_fixed<W, I> > {",
              "    static ap_fixed<W, I> from(uint64_t b) { ap_fixed<W, I> v; v.range(W - 1, 0) = b; return v; }",
              "    static uint64_t to(const ap_fixed<W, I> &v) { return v.range(W - 1, 0).to_uint64(); }", "};",
              "template <int W, int I> struct labgen_bits<ap_ufixed<W, I> > {",
              "    static ap_ufixed<W, I> from(uint64_t b) { ap_ufixed<W, I> v; v.range(W - 1, 0) = b; return v; }",
              "    static uint64_t to(const ap_ufixed<W, I> &v) { return v.range(W - 1, 0).to_uint64(); }", "};",
              "#endif", "", _signature(spec) + ";", "", f"#endif  // {K}_GENERATED_H", ""]
    return "\n".join(lines)


def top(spec: KernelSpec) -> str:
    k = spec.name
    i, o = spec.inputs[0], spec.outputs[0]
    I, O = _up(spec, i.name), _up(spec, o.name)
    pragmas = [f"#pragma HLS INTERFACE axis port={i.name}", f"#pragma HLS INTERFACE axis port={o.name}"]
    for name in (["batch"] if spec.has_batch_register else []) + [s.name for s in spec.scalars]:
        pragmas.append(f"#pragma HLS INTERFACE s_axilite port={name} bundle=control")
    if spec.control == "ap_ctrl_hs":
        pragmas += ["#pragma HLS INTERFACE s_axilite port=return bundle=control",
                    "#pragma HLS INTERFACE ap_ctrl_hs port=return"]
    else:
        pragmas.append("#pragma HLS INTERFACE ap_ctrl_none port=return")
    count = "batch" if spec.has_batch_register else "1"
    last_item = "labgen_n + 1 == batch" if spec.has_batch_register else "true"
    last = f"labgen_b == {O}_BEATS - 1"
    if o.tlast == "end_of_call" and spec.has_batch_register:
        last += f" && {last_item}"
    convert = [f"    const {_t(spec, s.name)} {s.name}_value = labgen_bits<{_t(spec, s.name)}>::from({s.name});"
               for s in spec.scalars]
    args = ["labgen_in", "labgen_out"] + [f"{s.name}_value" for s in spec.scalars]
    mask_i = f"((uint64_t)1 << {I}_BITS) - 1" if i.dtype.bits < 64 else "~(uint64_t)0"
    return f"""// {k}.cpp -- the HLS top of {k}: AXI-Stream in and out{', s_axilite scalars' if spec.has_lite else ''}, {spec.control}.
// Per item: read {i.beats} beats into labgen_in, call {k}_compute (hls/{k}_compute.h, yours),
// write {o.beats} beats from labgen_out with TLAST {'on the last beat of every item' if o.tlast == 'end_of_item' else 'on the very last beat of the call'}.
#include "{k}.h"
#include "{k}_compute.h"

{_signature(spec)} {{
{chr(10).join(pragmas)}
{chr(10).join(convert)}
ITEMS:
    for (uint32_t labgen_n = 0; labgen_n < {count}; labgen_n++) {{
#pragma HLS LOOP_TRIPCOUNT min=1 max={spec.items_per_call}
        {_t(spec, i.name)} labgen_in[{I}_COUNT];
        {_t(spec, o.name)} labgen_out[{O}_COUNT];
    READ:
        for (int labgen_b = 0; labgen_b < {I}_BEATS; labgen_b++) {{
#pragma HLS PIPELINE II=1
            const {_beat_type(i)} labgen_beat = {i.name}.read();
            const uint64_t labgen_word = labgen_beat.data.to_uint64();
            for (int labgen_e = 0; labgen_e < {I}_PER_BEAT; labgen_e++) {{
                labgen_in[labgen_b * {I}_PER_BEAT + labgen_e] =
                    labgen_bits<{_t(spec, i.name)}>::from((labgen_word >> (labgen_e * {I}_BITS)) & ({mask_i}));
            }}
        }}
        {k}_compute({', '.join(args)});
    WRITE:
        for (int labgen_b = 0; labgen_b < {O}_BEATS; labgen_b++) {{
#pragma HLS PIPELINE II=1
            {_beat_type(o)} labgen_beat;
            ap_uint<{o.beat_bits}> labgen_word = 0;
            for (int labgen_e = 0; labgen_e < {O}_PER_BEAT; labgen_e++) {{
                const ap_uint<{o.dtype.bits}> labgen_bits_ = labgen_bits<{_t(spec, o.name)}>::to(labgen_out[labgen_b * {O}_PER_BEAT + labgen_e]);
                labgen_word.range(labgen_e * {O}_BITS + {O}_BITS - 1, labgen_e * {O}_BITS) = labgen_bits_;
            }}
            labgen_beat.data = labgen_word;
            labgen_beat.keep = -1;
            labgen_beat.strb = -1;
            labgen_beat.user = 0;
            labgen_beat.id = 0;
            labgen_beat.dest = 0;
            labgen_beat.last = ({last}) ? 1 : 0;
            {o.name}.write(labgen_beat);
        }}
    }}
}}
"""


def compute_body(spec: KernelSpec) -> str:
    """The user's file: the spec's body file if it names one, else a pass-through."""
    if spec.body:
        return Path(spec.body).read_text(encoding="utf-8")
    i, o = spec.inputs[0], spec.outputs[0]
    I, O = _up(spec, i.name), _up(spec, o.name)
    unused = "".join(f"\n    (void){s.name};  // a scalar of the spec: use it" for s in spec.scalars)
    return f"""// {spec.name}_compute.h -- YOUR computation for {spec.name}: one item in, one item out.
//
// Written once by `labkit generate` as a pass-through, so the kernel runs at once; it is never
// overwritten by a re-run (delete it to get the pass-through back). The types and sizes come from
// {spec.name}.h, generated from the spec: {i.name} is {I}_COUNT x {i.dtype.name}, {o.name} is
// {O}_COUNT x {o.dtype.name}.
#ifndef {_up(spec)}_COMPUTE_H
#define {_up(spec)}_COMPUTE_H

{_compute_signature(spec)} {{{unused}
PASS:
    for (int labgen_e = 0; labgen_e < {O}_COUNT; labgen_e++) {{
#pragma HLS PIPELINE II=1
        {o.name}[labgen_e] = (labgen_e < {I}_COUNT) ? ({_t(spec, o.name)}){i.name}[labgen_e] : ({_t(spec, o.name)})0;
    }}
}}

#endif
"""


def testbench(spec: KernelSpec) -> str:
    k = spec.name
    i, o = spec.inputs[0], spec.outputs[0]
    I, O = _up(spec, i.name), _up(spec, o.name)
    scalars = (["batch"] if spec.has_batch_register else []) + [s.name for s in spec.scalars]
    defaults = {s.name: s.default if s.default is not None else s.min for s in spec.scalars}
    usage = " ".join(f"{n}=<value>" for n in scalars)
    decl = "\n".join(f"    uint32_t {n} = {'1' if n == 'batch' else _bits_literal(spec, n, defaults[n])};"
                     for n in scalars)
    parse = "\n".join(f'        if (std::strncmp(argv[a], "{n}=", {len(n) + 1}) == 0) {{ {n} = (uint32_t)std::strtoll(argv[a] + {len(n) + 1}, nullptr, 0); continue; }}'
                      for n in scalars)
    items = "batch" if spec.has_batch_register else "1"
    call_args = ", ".join([f"s_{i.name}", f"s_{o.name}", *scalars])
    end_of_item = o.tlast == "end_of_item"
    return f"""// {k}_tb.cpp -- C-simulation testbench of {k}: runs the top as the DMA would and checks the protocol.
//
//   {k}_tb                          a ramp as input; checks beat count and TLAST
//   {k}_tb IN.bin OUT.bin [{usage}]
//                                   input items from IN.bin (raw little-endian {i.dtype.name}, as the DMA
//                                   sends them), outputs to OUT.bin (raw {o.dtype.name}); compare OUT.bin
//                                   with your reference (the lab's tests do it with numpy)
// Exit status: 0 when every check passed, 1 on a protocol error, 2 on a usage or file error.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "{k}.h"

int main(int argc, char **argv) {{
{decl if decl else "    // no scalar arguments"}
    const char *in_path = nullptr, *out_path = nullptr;
    for (int a = 1; a < argc; a++) {{
{parse}
        if (!in_path) {{ in_path = argv[a]; continue; }}
        if (!out_path) {{ out_path = argv[a]; continue; }}
        std::fprintf(stderr, "usage: %s [IN.bin OUT.bin] [{usage}]\\n", argv[0]);
        return 2;
    }}
    const uint32_t items = {items};
    const size_t in_bytes = (size_t)items * {I}_BEATS * {i.beat_bits // 8};
    std::vector<uint8_t> input(in_bytes);
    if (in_path) {{
        FILE *f = std::fopen(in_path, "rb");
        if (!f) {{ std::fprintf(stderr, "cannot open %s\\n", in_path); return 2; }}
        const size_t got = std::fread(input.data(), 1, in_bytes, f);
        std::fclose(f);
        if (got != in_bytes) {{
            std::fprintf(stderr, "%s: %zu bytes, expected %zu (%u items)\\n", in_path, got, in_bytes, items);
            return 2;
        }}
    }} else {{
        for (size_t b = 0; b < in_bytes; b++) input[b] = (uint8_t)(b * 7 + 1);  // a ramp
    }}
    hls::stream<{_beat_type(i)}> s_{i.name};
    hls::stream<{_beat_type(o)}> s_{o.name};
    const size_t in_beats = (size_t)items * {I}_BEATS;
    for (size_t b = 0; b < in_beats; b++) {{
        {_beat_type(i)} beat;
        uint64_t word = 0;
        std::memcpy(&word, &input[b * {i.beat_bits // 8}], {i.beat_bits // 8});
        beat.data = word;
        beat.keep = -1;
        beat.strb = -1;
        beat.user = 0;
        beat.id = 0;
        beat.dest = 0;
        beat.last = (b + 1 == in_beats) ? 1 : 0;  // the MM2S DMA ends its transfer with TLAST
        s_{i.name}.write(beat);
    }}
    {k}({call_args});
    int errors = 0;
    const size_t out_beats = (size_t)items * {O}_BEATS;
    std::vector<uint8_t> output(out_beats * {o.beat_bits // 8});
    for (size_t b = 0; b < out_beats; b++) {{
        if (s_{o.name}.empty()) {{
            std::fprintf(stderr, "FAIL: only %zu of %zu output beats\\n", b, out_beats);
            return 1;
        }}
        const {_beat_type(o)} beat = s_{o.name}.read();
        const uint64_t word = beat.data.to_uint64();
        std::memcpy(&output[b * {o.beat_bits // 8}], &word, {o.beat_bits // 8});
        const bool want_last = {"(b + 1) % " + O + "_BEATS == 0" if end_of_item else "b + 1 == out_beats"};
        if ((beat.last == 1) != want_last) {{
            std::fprintf(stderr, "FAIL: beat %zu has TLAST=%d, expected %d\\n", b, (int)beat.last, (int)want_last);
            errors++;
        }}
    }}
    if (!s_{o.name}.empty()) {{ std::fprintf(stderr, "FAIL: more output beats than %zu\\n", out_beats); errors++; }}
    if (!s_{i.name}.empty()) {{ std::fprintf(stderr, "FAIL: the kernel left input beats unread\\n"); errors++; }}
    if (out_path) {{
        FILE *f = std::fopen(out_path, "wb");
        if (!f || std::fwrite(output.data(), 1, output.size(), f) != output.size()) {{
            std::fprintf(stderr, "cannot write %s\\n", out_path);
            return 2;
        }}
        std::fclose(f);
    }}
    std::printf("%s: %u item(s), %zu beats in, %zu beats out, %d error(s)\\n", "{k}", items, in_beats, out_beats, errors);
    return errors ? 1 : 0;
}}
"""


def _bits_literal(spec: KernelSpec, name: str, value: float) -> str:
    s = next(s for s in spec.scalars if s.name == name)
    if s.dtype.kind == "float":
        import numpy as np

        return f"0x{int(np.array(value, dtype='<f4').view('<u4')):08x}u"
    if s.dtype.kind == "fixed":
        value = round(value * (1 << s.dtype.frac_bits))
    return f"0x{int(value) & 0xFFFFFFFF:08x}u"


def run_hls(spec: KernelSpec, include_dirs: list[str]) -> str:
    k = spec.name
    period = 1000.0 / spec.clock_mhz
    vendor, library, _, version = spec.vlnv.split(":")
    cflags = " ".join(f"-I{d}" for d in include_dirs)
    return f"""# Vitis HLS: C-simulation, synthesis and IP export of {k}.
#   cd hls && vitis_hls -f run_hls.tcl
# Part: the PYNQ-Z1/Z2's xc7z020clg400-1; clock {spec.clock_mhz:g} MHz ({period:.3f} ns), the spec's clock_mhz.
open_project -reset {k}_prj
set_top {k}
add_files {k}.cpp -cflags "-std=c++14 {cflags}"
add_files -tb {k}_tb.cpp -cflags "-std=c++14 {cflags}"
open_solution -reset solution1 -flow_target vivado
set_part xc7z020clg400-1
create_clock -period {period:.3f} -name default
csim_design
csynth_design
export_design -format ip_catalog -vendor {vendor} -library {library} -version {version}
exit
"""


def _dma_config(spec: KernelSpec) -> list[tuple[str, object]]:
    i, o = spec.inputs[0], spec.outputs[0]
    return [("c_include_sg", 0), ("c_sg_length_width", spec.dma_length_bits), ("c_include_mm2s", 1),
            ("c_include_s2mm", 1), ("c_m_axi_mm2s_data_width", 64), ("c_m_axi_s2mm_data_width", 64),
            ("c_m_axis_mm2s_tdata_width", i.beat_bits), ("c_s_axis_s2mm_tdata_width", o.beat_bits),
            ("c_mm2s_burst_size", 16), ("c_s2mm_burst_size", 16), ("c_include_mm2s_dre", 0),
            ("c_include_s2mm_dre", 0), ("c_micro_dma", 0), ("c_addr_width", 32), ("c_sg_include_stscntrl_strm", 0)]


def vivado_fragment(spec: KernelSpec) -> str:
    k = spec.name
    i, o = spec.inputs[0], spec.outputs[0]
    config = " \\\n        ".join(f"CONFIG.{n} {v}" for n, v in _dma_config(spec))
    lite = ""
    if spec.has_lite:
        lite = f"""    connect_bd_intf_net [get_bd_intf_pins $periph/M01_AXI] [get_bd_intf_pins $kernel/s_axi_control]
    assign_bd_address -offset $kernel_base -range {LITE_RANGE:#x} -target_address_space [get_bd_addr_spaces $ps7/Data] \\
        [get_bd_addr_segs $kernel/s_axi_control/Reg] -force
"""
    return f"""# {k}_fragment.tcl -- adds {k} ({spec.vlnv}) and its AXI DMA to an open block design.
#
#   source {k}_fragment.tcl
#   set pins [add_{k} <ps7> <periph> <dma_base> <kernel_base>]
#
# <ps7>: the processing_system7 cell, with M_AXI_GP0 and {spec.hp_port} enabled (64-bit);
# <periph>: an axi_interconnect on M_AXI_GP0 with M00_AXI free for the DMA{' and M01_AXI for the kernel' if spec.has_lite else ''};
# Returns a dict of the new cells' pins to join to the design's nets: clocks (FCLK), resets
# (peripheral_aresetn), ic_resets (interconnect_aresetn); block_design.tcl shows how.
# The DMA ({spec.dma}) is in direct register mode, its length register {spec.dma_length_bits} bits wide: the
# largest transfer of one call is {spec.largest_transfer()} bytes ({spec.items_per_call} item(s)); MM2S
# {i.beat_bits}-bit stream to {k}/{i.name}, {k}/{o.name} to the S2MM {o.beat_bits}-bit stream; both DMA
# masters reach DDR through {spec.hp_port} (an AXI interconnect merges them).
proc add_{k} {{ps7 periph dma_base kernel_base}} {{
    set dma [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 {spec.dma}]
    set_property -dict [list \\
        {config}] $dma
    set kernel [create_bd_cell -type ip -vlnv {spec.vlnv} {spec.instance}]
    set mem [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_interconnect:2.1 {spec.dma}_mem]
    set_property -dict [list CONFIG.NUM_SI 2 CONFIG.NUM_MI 1] $mem

    connect_bd_intf_net [get_bd_intf_pins $dma/M_AXIS_MM2S] [get_bd_intf_pins $kernel/{i.name}]
    connect_bd_intf_net [get_bd_intf_pins $kernel/{o.name}] [get_bd_intf_pins $dma/S_AXIS_S2MM]
    connect_bd_intf_net [get_bd_intf_pins $dma/M_AXI_MM2S] [get_bd_intf_pins $mem/S00_AXI]
    connect_bd_intf_net [get_bd_intf_pins $dma/M_AXI_S2MM] [get_bd_intf_pins $mem/S01_AXI]
    connect_bd_intf_net [get_bd_intf_pins $mem/M00_AXI] [get_bd_intf_pins $ps7/{spec.hp_port}]
    connect_bd_intf_net [get_bd_intf_pins $periph/M00_AXI] [get_bd_intf_pins $dma/S_AXI_LITE]
{lite}
    # clock and reset pins for the caller to join to its nets (a pin joins a net once)
    set pins [dict create]
    dict set pins clocks [list $dma/s_axi_lite_aclk $dma/m_axi_mm2s_aclk $dma/m_axi_s2mm_aclk $kernel/ap_clk \\
        $mem/ACLK $mem/S00_ACLK $mem/S01_ACLK $mem/M00_ACLK $ps7/{spec.hp_port}_ACLK]
    dict set pins resets [list $dma/axi_resetn $kernel/ap_rst_n $mem/S00_ARESETN $mem/S01_ARESETN $mem/M00_ARESETN]
    dict set pins ic_resets [list $mem/ARESETN]

    assign_bd_address -offset $dma_base -range {LITE_RANGE:#x} -target_address_space [get_bd_addr_spaces $ps7/Data] \\
        [get_bd_addr_segs $dma/S_AXI_LITE/Reg] -force
    foreach space {{Data_MM2S Data_S2MM}} {{
        assign_bd_address -offset 0x00000000 -range 0x20000000 \\
            -target_address_space [get_bd_addr_spaces $dma/$space] \\
            [get_bd_addr_segs $ps7/{spec.hp_port}/{spec.hp_port.replace('S_AXI_', '')}_DDR_LOWOCM] -force
    }}
    return $pins
}}
"""


def vivado_design(spec: KernelSpec) -> str:
    k = spec.name
    n_mi = 2 if spec.has_lite else 1
    return f"""# block_design.tcl -- a whole PYNQ-Z1/Z2 design around {k}: PS7, reset, AXI-Lite interconnect, the fragment.
#
#   vivado -mode batch -source block_design.tcl -tclargs <pynq-z1|pynq-z2> <ip_repo> <build_dir>
#
# <ip_repo>: the folder holding the IP that `vitis_hls -f hls/run_hls.tcl` exported ({spec.vlnv}).
# PL clock FCLK0 = {spec.clock_mhz:g} MHz (the spec's clock_mhz). Vivado's .hwh of this design replaces
# overlay/{k}.hwh on a real board.
set script_dir [file dirname [file normalize [info script]]]
source [file join $script_dir {k}_fragment.tcl]

proc tclarg {{index default}} {{
    global argv
    if {{[info exists argv] && [llength $argv] > $index && [lindex $argv $index] ne ""}} {{
        return [lindex $argv $index]
    }}
    return $default
}}
set board     [string tolower [tclarg 0 pynq-z1]]
set ip_repo   [file normalize [tclarg 1 [file join $script_dir .. hls {k}_prj solution1 impl ip]]]
set build_dir [file normalize [tclarg 2 [file join $script_dir build $board]]]
set board_parts [dict create pynq-z1 www.digilentinc.com:pynq-z1:part0:1.0 pynq-z2 tul.com.tw:pynq-z2:part0:1.0]
if {{![dict exists $board_parts $board]}} {{
    error "{k}: unknown board '$board'; use one of: [dict keys $board_parts]"
}}
if {{[llength [get_board_parts -quiet [dict get $board_parts $board]]] == 0}} {{
    error "{k}: the board files for $board are not installed"
}}
create_project {k} [file join $build_dir {k}] -part xc7z020clg400-1 -force
set_property board_part [dict get $board_parts $board] [current_project]
set_property ip_repo_paths [list $ip_repo] [current_project]
update_ip_catalog
if {{[llength [get_ipdefs -all {spec.vlnv}]] == 0}} {{
    error "{k}: {spec.vlnv} is not in the IP catalog ($ip_repo): run vitis_hls -f hls/run_hls.tcl first"
}}
create_bd_design {k}

set ps7 [create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 processing_system7_0]
apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \\
    -config {{make_external "FIXED_IO, DDR" apply_board_preset "1" Master "Disable" Slave "Disable"}} $ps7
set_property -dict [list CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ {spec.clock_mhz:g} CONFIG.PCW_USE_M_AXI_GP0 1 \\
    CONFIG.PCW_USE_{spec.hp_port} 1 CONFIG.PCW_{spec.hp_port}_DATA_WIDTH 64] $ps7
set reset [create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset:5.0 rst_ps7_0]
set periph [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_interconnect:2.1 ps7_0_axi_periph]
set_property -dict [list CONFIG.NUM_SI 1 CONFIG.NUM_MI {n_mi}] $periph

connect_bd_intf_net [get_bd_intf_pins $ps7/M_AXI_GP0] [get_bd_intf_pins $periph/S00_AXI]
set pins [add_{k} $ps7 $periph {DMA_BASE:#010x} {KERNEL_BASE:#010x}]

proc connect_all {{paths}} {{
    set objects {{}}
    foreach path $paths {{
        lappend objects [get_bd_pins $path]
    }}
    connect_bd_net {{*}}$objects
}}
connect_all [concat [list $ps7/FCLK_CLK0 $ps7/M_AXI_GP0_ACLK $reset/slowest_sync_clk $periph/ACLK $periph/S00_ACLK \\
    {' '.join(f'$periph/M{m:02d}_ACLK' for m in range(n_mi))}] [dict get $pins clocks]]
connect_all [concat [list $reset/peripheral_aresetn $periph/S00_ARESETN {' '.join(f'$periph/M{m:02d}_ARESETN' for m in range(n_mi))}] \\
    [dict get $pins resets]]
connect_all [concat [list $reset/interconnect_aresetn $periph/ARESETN] [dict get $pins ic_resets]]
connect_all [list $ps7/FCLK_RESET0_N $reset/ext_reset_in]

validate_bd_design
save_bd_design
"""


def bit_placeholder(spec: KernelSpec) -> str:
    return (f"# Not a bitstream. pynq.Overlay needs a .bit beside the .hwh; the simulated board reads only\n"
            f"# {spec.name}.hwh. On a real board, replace both with what Vivado builds from vivado/block_design.tcl.\n")


# -- Python driver -------------------------------------------------------------------------------------------

def _stream_format(s: StreamSpec) -> str:
    lo, hi = s.dtype.limits
    return (f"StreamFormat(name={s.name!r}, shape={s.shape!r}, storage={s.dtype.storage.str!r}, kind={s.dtype.kind!r}, "
            f"lo={lo!r}, hi={hi!r}, frac_bits={s.dtype.frac_bits}, type_name={s.dtype.name!r})")


def _scalar_format(s: ScalarSpec) -> str:
    return (f"ScalarFormat(name={s.name!r}, storage={s.dtype.storage.str!r}, kind={s.dtype.kind!r}, lo={s.min!r}, "
            f"hi={s.max!r}, default={s.default!r}, frac_bits={s.dtype.frac_bits}, type_name={s.dtype.name!r})")


def _batch_shape(s: StreamSpec) -> str:
    return "(batch, " + ", ".join(map(str, s.shape)) + ")"


def _class_name(spec: KernelSpec) -> str:
    return "".join(part.capitalize() for part in spec.name.split("_")) + "Driver"


def driver(spec: KernelSpec, banner: str, include_dirs: list[str], spec_label: str) -> str:
    i, o = spec.inputs[0], spec.outputs[0]
    cls = _class_name(spec)
    scalars = ",\n        ".join(_scalar_format(s) for s in spec.scalars)
    kwargs = "".join(f", {s.name}=..." for s in spec.scalars)
    scalar_doc = "".join(f"\n    {s.name}: {s.dtype.name}, {s.min:g}..{s.max:g}"
                         + (f" (default {s.default:g})" if s.default is not None else " (required)")
                         for s in spec.scalars)
    registers = spec.register_offsets()
    return f'''{banner}"""Python driver of {spec.name} ({spec.vlnv}): numpy in, numpy out, every input checked first.

    import pynq
    import {spec.name}_driver as drv                   # before the overlay: pynq binds drivers at load
    ol = pynq.Overlay("overlay/{spec.name}.bit")
    {spec.name} = drv.{cls}.open(ol)
    y = {spec.name}(x{kwargs})

x: {i.dtype.name} of shape {i.shape} (one item) or {_batch_shape(i)}, batch 1..{spec.max_batch}{'; fixed point as real numbers' if i.dtype.kind == 'fixed' else ''}.
y: {o.dtype.name} of shape {o.shape} (or {_batch_shape(o)}){'; fixed point as float64 real values' if o.dtype.kind == 'fixed' else ''}.{scalar_doc}

A wrong input raises KernelInputError before anything reaches the board.{chr(10) + chr(10) + spec.description if spec.description else ''}
"""

from pathlib import Path

from labkit.generate.runtime import (DriverError, KernelInputError, ScalarFormat, StreamFormat,  # noqa: F401
                                     StreamKernelDriver)

__all__ = ["{cls}", "KernelInputError", "DriverError", "VLNV", "SPEC", "simulate_cpp"]

VLNV = {spec.vlnv!r}
#: the spec this driver was generated from (relative to this file's folder when it is a file)
SPEC = {spec_label!r}


class {cls}(StreamKernelDriver):
    """{spec.name}: {i.name} {i.dtype.name}{list(i.shape)} -> {o.name} {o.dtype.name}{list(o.shape)}, {spec.control}, max_batch {spec.max_batch}."""

    bindto = [VLNV]
    KERNEL = {spec.name!r}
    KERNEL_INSTANCE = {spec.instance!r}
    DMA_NAME = {spec.dma!r}
    CONTROL = {spec.control!r}
    MAX_BATCH = {spec.max_batch}
    ITEMS_PER_CALL = {spec.driver_items_per_call}
    OUTPUT_TLAST = {o.tlast!r}
    INPUT = {_stream_format(i)}
    OUTPUT = {_stream_format(o)}
    SCALARS = ({scalars + "," if scalars else ""})
    #: AXI-Lite offsets, as Vitis HLS lays out the s_axilite block
    REGISTERS = {registers!r}


def simulate_cpp() -> None:
    """On the simulated board: compute with this kernel's C++ (hls/{spec.name}.cpp and your
    hls/{spec.name}_compute.h), compiled with g++ against Xilinx's headers. Call it after loading
    overlay/{spec.name}.bit; a kernel the board already models by its VLNV ignores it."""
    from labkit import register_cpp_kernel  # labkit's one door to the simulated board

    here = Path(__file__).resolve().parent
    register_cpp_kernel({spec.instance!r}, here / "hls" / "{spec.name}.cpp", top={spec.name!r},
                        include_dirs=[here / "hls", *(here / d for d in {include_dirs!r})])
'''
