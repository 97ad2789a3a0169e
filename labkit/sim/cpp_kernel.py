"""A user's HLS kernel given as C++ source: compiled for C-simulation and run by the simulated board.

``register_cpp_kernel("my_kernel_0", "my_kernel.cpp", top="my_kernel")`` compiles the source with
g++ against Xilinx's real open-source arbitrary-precision headers (``ap_int.h``, ``ap_fixed.h``,
``hls_stream.h``; Apache-2.0), which the lab takes from the ``hls4ml`` wheel installed from PyPI
(``make install`` does ``pip install --no-deps hls4ml``: only the headers are used).  No registry
package ships ``ap_axi_sdata.h``; ``labkit/sim/cpp/ap_axi_sdata.h`` gives its documented struct.

The binding between the simulated board and the top function is generated from the function's
signature and the kernel's ``.hwh`` register map:

* ``hls::stream<T>& name`` -- an AXI-Stream port of that name; the ``.hwh`` says whether it is an
  input or an output.  Input bytes become elements of ``T`` (``ap_uint<W>``/``ap_int<W>``, plain
  integers, ``ap_axiu``/``ap_axis`` with TLAST on the last element); output elements become bytes.
* ``T* name`` / ``T name[N]`` -- an ``m_axi`` pointer: the register ``name`` holds a physical DDR
  address, the kernel gets the memory there.
* anything else (``int``, ``unsigned``, ``ap_uint<W>`` ...) -- an ``s_axilite`` scalar read from
  the register of the same name.

Compiled libraries are cached by a hash of the source, headers and flags (``LABKIT_CACHE`` or
``~/.cache/labkit/kernels``), so a notebook re-run does not recompile.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from labkit.errors import DesignError

from .kernel_behaviour import PythonKernel, _device

__all__ = ["register_cpp_kernel", "xilinx_headers", "parse_top", "CppKernel"]

CXXFLAGS = ["-std=c++17", "-O2", "-fPIC", "-shared", "-w"]  # -w: Xilinx's headers are noisy under g++ 12
COMPILE_TIMEOUT_S = 300
_HERE = Path(__file__).parent


def xilinx_headers() -> Path:
    """Where the installed hls4ml wheel keeps Xilinx's ap_types headers (no hls4ml import needed)."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise DesignError("compiling an HLS kernel needs Xilinx's ap_int/hls_stream headers from the hls4ml "
                          "package: run `pip install --no-deps hls4ml` (make install does it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_int.h").is_file():
        raise DesignError(f"{path} has no ap_int.h: this hls4ml version lays its headers out differently; "
                          f"install hls4ml==1.3.0 (pip install --no-deps hls4ml==1.3.0)")
    return path


@dataclass
class Param:
    name: str
    kind: str  #: "stream", "pointer" or "scalar"
    ctype: str  #: element type for streams and pointers, the type for scalars


def _split_params(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts]


def parse_top(source: str, top: str) -> list[Param]:
    """The parameters of ``void top(...)`` in ``source``, classified for the binding."""
    clean = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.S)
    match = re.search(r"\bvoid\s+" + re.escape(top) + r"\s*\(([^{;]*)\)\s*\{", clean, flags=re.S)
    if match is None:
        raise DesignError(f"no definition `void {top}(...) {{` found in the kernel source: give top= the name of "
                          f"the top function (the one Vitis HLS synthesises)")
    params = []
    for text in _split_params(match.group(1)):
        if not text or text == "void":
            continue
        stream = re.match(r"(?:const\s+)?hls::stream\s*<\s*(.+)\s*>\s*&\s*(\w+)$", text, flags=re.S)
        if stream:
            params.append(Param(stream.group(2), "stream", stream.group(1).strip()))
            continue
        array = re.match(r"(?:const\s+)?(.+?)\s*(?:\*\s*(\w+)|(\w+)\s*\[[^\]]*\])$", text, flags=re.S)
        if array and ("*" in text or "[" in text):
            params.append(Param(array.group(2) or array.group(3), "pointer", array.group(1).strip()))
            continue
        scalar = re.match(r"(?:const\s+)?(.+?)\s*&?\s*(\w+)$", text, flags=re.S)
        if scalar is None:
            raise DesignError(f"cannot bind the parameter `{text}` of {top}: use hls::stream<T>&, a pointer, or a scalar")
        params.append(Param(scalar.group(2), "scalar", scalar.group(1).strip()))
    return params


_BINDING_HEAD = r'''
#include <cstdint>
#include <cstring>
#include <vector>
#include "ap_int.h"
#include "hls_stream.h"
#include "ap_axi_sdata.h"
#include SOURCE_FILE

namespace labkit_binding {
template <typename T> struct io {  // plain integers and structs: their bytes as they are
    static constexpr int bytes = sizeof(T);
    static T load(const uint8_t* p, bool) { T v; std::memcpy(&v, p, sizeof(T)); return v; }
    static void store(const T& v, uint8_t* p) { std::memcpy(p, &v, sizeof(T)); }
};
template <int W> struct io<ap_uint<W>> {
    static constexpr int bytes = (W + 7) / 8;
    static ap_uint<W> load(const uint8_t* p, bool) {
        ap_uint<W> v = 0;
        for (int b = 0; b < bytes; ++b) v |= ap_uint<W>(p[b]) << (8 * b);
        return v;
    }
    static void store(const ap_uint<W>& v, uint8_t* p) {
        for (int b = 0; b < bytes; ++b) p[b] = (uint8_t)((v >> (8 * b)) & 0xFF).to_uint();
    }
};
template <int W> struct io<ap_int<W>> {
    static constexpr int bytes = (W + 7) / 8;
    static ap_int<W> load(const uint8_t* p, bool last) { ap_int<W> v; v = io<ap_uint<W>>::load(p, last); return v; }
    static void store(const ap_int<W>& v, uint8_t* p) { io<ap_uint<W>>::store(ap_uint<W>(v), p); }
};
template <int D, int U, int TI, int TD> struct io<ap_axiu<D, U, TI, TD>> {
    static constexpr int bytes = (D + 7) / 8;
    static ap_axiu<D, U, TI, TD> load(const uint8_t* p, bool last) {
        ap_axiu<D, U, TI, TD> v;
        v.data = io<ap_uint<D>>::load(p, last); v.keep = -1; v.strb = -1; v.user = 0; v.last = last; v.id = 0; v.dest = 0;
        return v;
    }
    static void store(const ap_axiu<D, U, TI, TD>& v, uint8_t* p) { io<ap_uint<D>>::store(v.data, p); }
};
template <int D, int U, int TI, int TD> struct io<ap_axis<D, U, TI, TD>> {
    static constexpr int bytes = (D + 7) / 8;
    static ap_axis<D, U, TI, TD> load(const uint8_t* p, bool last) {
        ap_axis<D, U, TI, TD> v;
        v.data = io<ap_int<D>>::load(p, last); v.keep = -1; v.strb = -1; v.user = 0; v.last = last; v.id = 0; v.dest = 0;
        return v;
    }
    static void store(const ap_axis<D, U, TI, TD>& v, uint8_t* p) { io<ap_int<D>>::store(v.data, p); }
};
template <typename T> void fill(hls::stream<T>& s, const uint8_t* p, int64_t nbytes) {
    const int64_t n = nbytes / io<T>::bytes;
    for (int64_t i = 0; i < n; ++i) s.write(io<T>::load(p + i * io<T>::bytes, i == n - 1));
}
template <typename T> void drain(hls::stream<T>& s, std::vector<uint8_t>& out) {
    while (!s.empty()) {
        T v = s.read();
        size_t at = out.size();
        out.resize(at + io<T>::bytes);
        io<T>::store(v, &out[at]);
    }
}
static std::vector<std::vector<uint8_t>> outs;
}  // namespace labkit_binding

extern "C" int64_t labkit_out_size(int i) { return (int64_t)labkit_binding::outs.at(i).size(); }
extern "C" void labkit_out_copy(int i, uint8_t* dst) {
    std::memcpy(dst, labkit_binding::outs.at(i).data(), labkit_binding::outs.at(i).size());
}
'''


def _binding(source: Path, top: str, params: list[Param], directions: dict[str, str]) -> tuple[str, list[str]]:
    """C++ of ``labkit_run`` for ``top`` and the order of the output streams it fills."""
    lines = [f'#define SOURCE_FILE "{source}"', _BINDING_HEAD,
             "extern \"C\" int labkit_run(const uint64_t* scalars, const uint8_t* const* ins, const int64_t* in_bytes) {",
             "    using namespace labkit_binding;"]
    call, outputs, n_in = [], [], 0
    for k, p in enumerate(params):
        if p.kind == "stream":
            direction = directions.get(p.name)
            if direction is None:
                raise DesignError(f"{top}: the stream parameter {p.name!r} is not an AXI-Stream port of the kernel in "
                                  f"the .hwh (ports: {', '.join(directions) or 'none'})")
            lines.append(f"    hls::stream<{p.ctype}> s_{p.name};")
            if direction == "in":
                lines.append(f"    fill(s_{p.name}, ins[{n_in}], in_bytes[{n_in}]);")
                n_in += 1
            else:
                outputs.append(p.name)
            call.append(f"s_{p.name}")
        elif p.kind == "pointer":
            call.append(f"reinterpret_cast<{p.ctype}*>((uintptr_t)scalars[{k}])")
        else:
            call.append(f"({p.ctype})(scalars[{k}])")
    lines.append(f"    {top}({', '.join(call)});")
    lines.append(f"    outs.assign({len(outputs)}, std::vector<uint8_t>());")
    for i, name in enumerate(outputs):
        lines.append(f"    drain(s_{name}, outs[{i}]);")
    lines.append("    return 0;\n}")
    return "\n".join(lines), outputs


def _cache_dir() -> Path:
    root = Path(os.environ.get("LABKIT_CACHE", Path.home() / ".cache" / "labkit")) / "kernels"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _compile(code: str, source: Path, include_dirs: list[Path]) -> Path:
    # The headers beside the source count too: a kernel split into a top and an included body
    # (labkit generate's <k>_compute.h) must recompile when the body changes.
    local = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(source.parent.iterdir())
             if p.suffix in (".h", ".hpp") and p.is_file()]
    digest = hashlib.sha256("\0".join([code, source.read_text(encoding="utf-8"), *local, *map(str, include_dirs),
                                       *CXXFLAGS]).encode()).hexdigest()[:20]
    lib = _cache_dir() / f"kernel_{digest}.so"
    if lib.is_file():
        return lib
    binding = lib.with_suffix(".cpp")
    binding.write_text(code, encoding="utf-8")
    cmd = ["g++", *CXXFLAGS, *[f"-I{d}" for d in include_dirs], "-I", str(source.parent), str(binding),
           "-o", str(lib) + ".tmp"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    except FileNotFoundError:
        raise DesignError("compiling an HLS kernel needs g++ (apt-get install g++)") from None
    except subprocess.TimeoutExpired:
        raise DesignError(f"g++ took more than {COMPILE_TIMEOUT_S} s on {source.name}; nothing was loaded") from None
    if done.returncode != 0:
        raise DesignError(f"g++ could not compile {source.name} for C-simulation:\n{done.stderr[-4000:]}")
    os.replace(str(lib) + ".tmp", lib)
    return lib


class CppKernel:
    """A compiled kernel: ``__call__(args, inputs) -> outputs``, the signature of a Python model."""

    def __init__(self, lib: Path, params: list[Param], inputs: list[str], outputs: list[str], device: Any) -> None:
        self.lib = ctypes.CDLL(str(lib))
        self.lib.labkit_run.restype = ctypes.c_int
        self.lib.labkit_out_size.restype = ctypes.c_int64
        self.params = params
        self.inputs = inputs
        self.outputs = outputs
        self.device = device

    def _scalar(self, p: Param, args: dict[str, int]) -> int:
        if p.name not in args:
            raise DesignError(f"the kernel's parameter {p.name!r} has no register of that name in the .hwh "
                              f"(registers: {', '.join(args)})")
        value = int(args[p.name])
        if p.kind == "pointer":
            pool = self.device.pool
            if not pool.contains(value, 1):
                raise DesignError(f"{p.name} = {value:#x} is not an address in the board's contiguous memory: "
                                  f"write a buffer's physical_address to it before ap_start")
            return pool.ddr.ctypes.data + (value - pool.base)
        return value & 0xFFFFFFFFFFFFFFFF

    def __call__(self, args: dict[str, int], inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        scalars = (ctypes.c_uint64 * max(len(self.params), 1))(*[self._scalar(p, args) if p.kind != "stream" else 0
                                                                 for p in self.params])
        arrays = [np.ascontiguousarray(inputs.get(name, np.zeros(0, np.uint8)), dtype=np.uint8) for name in self.inputs]
        ins = (ctypes.c_void_p * max(len(arrays), 1))(*[a.ctypes.data for a in arrays])
        sizes = (ctypes.c_int64 * max(len(arrays), 1))(*[a.nbytes for a in arrays])
        self.lib.labkit_run(scalars, ins, sizes)
        result = {}
        for i, name in enumerate(self.outputs):
            out = np.empty(self.lib.labkit_out_size(i), dtype=np.uint8)
            self.lib.labkit_out_copy(i, out.ctypes.data_as(ctypes.c_void_p))
            result[name] = out
        return result


def register_cpp_kernel(target: str, source: str | Path, *, top: str | None = None,
                        cycles: Callable | None = None, latency_cycles: int | None = None,
                        include_dirs: "tuple[str | Path, ...] | list[str | Path]" = (),
                        device: Any = None) -> PythonKernel:
    """Compile ``source`` (the kernel's C++) and give the HLS kernel ``target`` (instance name) that behaviour.

    The overlay must be loaded (the binding needs the kernel's ports from the ``.hwh``).  ``top``
    defaults to the kernel's name in its VLNV (``xilinx.com:hls:<top>:1.0``).  Timing as for
    :func:`labkit.register_kernel`.  ``include_dirs``: more folders for ``#include`` (the source's
    own folder is always searched).
    """
    device = _device(device)
    model = device.fabric.ips.get(target) or next(
        (m for m in device.fabric.ips.values() if m.name.split("/")[-1] == target), None)
    if model is None or not model.spec.vlnv.split(":")[1:2] == ["hls"]:
        kernels = [m.name for m in device.fabric.ips.values() if m.spec.vlnv.split(":")[1:2] == ["hls"]]
        raise DesignError(f"no HLS kernel called {target!r} in the loaded design; HLS kernels: "
                          f"{', '.join(kernels) or 'none (load your overlay first)'}")
    source = Path(source).resolve()
    if not source.is_file():
        raise DesignError(f"kernel source {source} does not exist")
    top = top or model.spec.vlnv.split(":")[2]
    params = parse_top(source.read_text(encoding="utf-8"), top)
    directions = {port: d for port, (d, _) in model.spec.stream_ports.items()}
    code, outputs = _binding(source, top, params, directions)
    lib = _compile(code, source, [xilinx_headers(), _HERE / "cpp", *(Path(d).resolve() for d in include_dirs)])
    inputs = [p.name for p in params if p.kind == "stream" and directions[p.name] == "in"]
    kernel = CppKernel(lib, params, inputs, outputs, device)
    behaviour = PythonKernel(kernel, cycles=cycles, latency_cycles=latency_cycles, label=f"C++ {source.name}")
    device.fabric.kernel_behaviours.register(target, behaviour)
    return behaviour
