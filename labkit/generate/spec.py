"""The kernel interface spec: what is known in advance about a dataflow kernel, checked once.

A spec is a small TOML file (reference: ``docs/kernel_spec.md``) or the same data as a Python
dict; :func:`load_spec` / :func:`spec_from_dict` turn it into a :class:`KernelSpec`.  Everything
generated (the HLS top, the Vivado Tcl, the simulated design, the Python driver) is derived from
this one object, so the four can no longer drift apart.

Every error is a :class:`SpecError` that names the field (``inputs[0].dtype``), says what was
given and what is allowed.
"""

from __future__ import annotations

import keyword
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from labkit.errors import LabkitError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (setup.py installs the backport there)
    import tomli as tomllib

__all__ = ["SpecError", "ElementType", "StreamSpec", "ScalarSpec", "KernelSpec", "load_spec", "spec_from_dict",
           "element_type", "CONTROLS", "TLAST_POLICIES", "MAX_DMA_LENGTH_BITS"]

CONTROLS = ("ap_ctrl_hs", "ap_ctrl_none")
#: where the kernel raises TLAST on an output stream: on the last beat of the whole call (the
#: DMA's S2MM transfer ends there), or on the last beat of every item of the batch
TLAST_POLICIES = ("end_of_call", "end_of_item")
#: PG021 (AXI DMA v7.1), "Width of Buffer Length Register": 8 to 26 bits
MIN_DMA_LENGTH_BITS, MAX_DMA_LENGTH_BITS = 8, 26
#: AXI-Stream TDATA widths the generated kernel and DMA use (PG021: the DMA's stream side is
#: 8..1024 bits; the lab keeps to widths a PYNQ-Z1's 64-bit HP port serves without a converter)
BEAT_BITS = (8, 16, 32, 64)
#: register names Vitis HLS gives the control block (UG1399, "S_AXILITE Control Register Map")
RESERVED_NAMES = {"CTRL", "GIER", "IP_IER", "IP_ISR", "batch", "ap_return", "return", "timeout"}
#: C++ keywords and names the generated C++ uses that a Python keyword check does not catch
_CPP_WORDS = {"auto", "bool", "case", "char", "const", "default", "delete", "do", "double", "enum", "explicit",
              "extern", "float", "goto", "inline", "int", "long", "namespace", "new", "operator", "private",
              "protected", "public", "register", "short", "signed", "sizeof", "static", "struct", "switch",
              "template", "this", "throw", "typedef", "typename", "union", "unsigned", "using", "virtual",
              "void", "volatile", "main", "hls", "std", "uint32_t", "int32_t", "uint64_t"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIXED = re.compile(r"^(u?fixed)<\s*(\d+)\s*,\s*(-?\d+)\s*>$")
_VLNV = re.compile(r"^[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+:[A-Za-z_][A-Za-z0-9_]*:\d+\.\d+$")


class SpecError(LabkitError, ValueError):
    """A kernel spec is wrong; the message names the field, what was given and what is allowed."""


@dataclass(frozen=True)
class ElementType:
    """One element type of the spec, as C++ (HLS), numpy (driver) and bits (stream packing) see it."""

    name: str          #: as written in the spec: "int16", "float32", "fixed<16,8>"
    bits: int
    kind: str          #: "int", "uint", "float" or "fixed"
    signed: bool
    frac_bits: int = 0  #: fixed-point only: bits after the binary point

    @property
    def storage(self) -> np.dtype:
        """The numpy dtype of the raw bits in a DMA buffer."""
        if self.kind == "float":
            return np.dtype("<f4")
        return np.dtype(f"<{'i' if self.signed else 'u'}{self.bits // 8}")

    @property
    def user_dtype(self) -> np.dtype:
        """The numpy dtype a user passes and gets back (fixed point: float64 real values)."""
        return np.dtype(np.float64) if self.kind == "fixed" else self.storage

    @property
    def cpp(self) -> str:
        if self.kind == "float":
            return "float"
        if self.kind == "fixed":
            return f"ap_{'' if self.signed else 'u'}fixed<{self.bits}, {self.bits - self.frac_bits}>"
        return f"{'' if self.signed else 'u'}int{self.bits}_t"

    @property
    def limits(self) -> tuple[float, float]:
        """Smallest and largest value the type holds (fixed point: real values)."""
        if self.kind == "float":
            return float(np.finfo(np.float32).min), float(np.finfo(np.float32).max)
        lo = -(1 << (self.bits - 1)) if self.signed else 0
        hi = (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1
        scale = 2.0 ** -self.frac_bits
        return (lo * scale, hi * scale) if self.kind == "fixed" else (lo, hi)


def element_type(text: Any, where: str) -> ElementType:
    """Parse an element type: int8/16/32, uint8/16/32, float32, fixed<W,I> or ufixed<W,I> (W = 8, 16, 32)."""
    if not isinstance(text, str):
        raise SpecError(f"{where}: an element type is a string such as \"int32\", got {text!r}")
    name = text.strip().replace(" ", "")
    match = re.fullmatch(r"(u?)int(8|16|32)", name)
    if match:
        return ElementType(name, int(match.group(2)), "uint" if match.group(1) else "int", not match.group(1))
    if name == "float32":
        return ElementType(name, 32, "float", True)
    match = _FIXED.match(name)
    if match:
        width, integer = int(match.group(2)), int(match.group(3))
        if width not in (8, 16, 32) or not 0 <= integer <= width:
            raise SpecError(f"{where}: {text!r}: a fixed-point type is fixed<W,I> with W in 8, 16, 32 and "
                            f"0 <= I <= W (I integer bits, sign included, as ap_fixed<W,I>)")
        return ElementType(name, width, "fixed", match.group(1) == "fixed", width - integer)
    raise SpecError(f"{where}: unknown element type {text!r}; use int8, int16, int32, uint8, uint16, uint32, "
                    f"float32, fixed<W,I> or ufixed<W,I>")


@dataclass(frozen=True)
class StreamSpec:
    """One AXI-Stream port: elements of one type, ``shape`` of them per item of the batch."""

    name: str
    dtype: ElementType
    shape: tuple[int, ...]
    beat_bits: int
    tlast: str = "end_of_call"
    direction: str = "in"

    @property
    def count(self) -> int:
        """Elements per item."""
        return math.prod(self.shape)

    @property
    def per_beat(self) -> int:
        """Elements packed into one beat (little-endian: element 0 in the low bits)."""
        return self.beat_bits // self.dtype.bits

    @property
    def beats(self) -> int:
        """Beats per item."""
        return self.count // self.per_beat

    @property
    def item_bytes(self) -> int:
        return self.beats * self.beat_bits // 8


@dataclass(frozen=True)
class ScalarSpec:
    """One ``s_axilite`` scalar argument with its allowed range."""

    name: str
    dtype: ElementType
    min: float
    max: float
    default: float | None = None


@dataclass(frozen=True)
class KernelSpec:
    """A dataflow kernel's interface, validated (see :func:`spec_from_dict` for the fields)."""

    name: str
    vlnv: str
    control: str
    clock_mhz: float
    max_batch: int
    inputs: tuple[StreamSpec, ...]
    outputs: tuple[StreamSpec, ...]
    scalars: tuple[ScalarSpec, ...] = ()
    instance: str = ""
    dma: str = ""
    description: str = ""
    hp_port: str = "S_AXI_HP0"
    #: where the spec came from (a file path, or "a Python dict"): generated files name it
    source: str = "a Python dict"
    #: the spec file's text (or a canonical dump of the dict): its hash marks generated files
    text: str = field(default="", repr=False, compare=False)
    #: optional: a C++ file with the compute body to start from (resolved path) instead of a pass-through
    body: str = ""
    #: optional: C++ include folders the body needs (resolved paths)
    include_dirs: tuple[str, ...] = ()

    @property
    def has_lite(self) -> bool:
        """Whether the kernel has an ``s_axilite`` block (ap_ctrl_hs always; ap_ctrl_none with scalars)."""
        return self.control == "ap_ctrl_hs" or bool(self.scalars)

    @property
    def has_batch_register(self) -> bool:
        """ap_ctrl_hs kernels read the number of items of a call from a ``batch`` register."""
        return self.control == "ap_ctrl_hs"

    @property
    def items_per_call(self) -> int:
        """Most items one kernel call takes: ``max_batch`` (ap_ctrl_hs) or 1 (ap_ctrl_none runs item by item)."""
        return self.max_batch if self.has_batch_register else 1

    @property
    def driver_items_per_call(self) -> int:
        """Items the generated driver sends per kernel call: with TLAST after every item each item
        is its own S2MM packet, so the driver runs the kernel item by item (one receive per call)."""
        return 1 if self.outputs[0].tlast == "end_of_item" else self.items_per_call

    def register_offsets(self) -> dict[str, int]:
        """AXI-Lite offset of every argument, laid out as Vitis HLS does: control words at 0x00-0x0C,
        then one 8-byte slot per 32-bit argument from 0x10 (UG1399)."""
        names = (["batch"] if self.has_batch_register else []) + [s.name for s in self.scalars]
        return {name: 0x10 + 8 * i for i, name in enumerate(names)}

    @property
    def lite_addr_bits(self) -> int:
        """C_S_AXI_CONTROL_ADDR_WIDTH Vitis HLS would give the block (enough for the last slot)."""
        last = max(self.register_offsets().values(), default=0x0C) + 8
        return max(4, math.ceil(math.log2(last)))

    def largest_transfer(self) -> int:
        """Bytes of the largest single DMA transfer (one kernel call, any stream)."""
        return max(s.item_bytes * self.items_per_call for s in self.inputs + self.outputs)

    @property
    def dma_length_bits(self) -> int:
        """c_sg_length_width: the DMA's length register sized for the largest transfer (PG021)."""
        return max(14, self.largest_transfer().bit_length())


# -- reading ----------------------------------------------------------------------------------------

def load_spec(path: str | Path) -> KernelSpec:
    """Read and check a TOML kernel spec (see ``docs/kernel_spec.md``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"no kernel spec at {path}: give the path of a .toml file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    return spec_from_dict(data, source=str(path), text=text, base=path.parent)


_TOP_KEYS = {"kernel", "inputs", "outputs", "scalars", "hls"}
_KERNEL_KEYS = {"name", "vlnv", "control", "clock_mhz", "max_batch", "instance", "dma", "description", "hp_port"}
_STREAM_KEYS = {"name", "dtype", "shape", "beat_bits", "tlast"}
_SCALAR_KEYS = {"name", "dtype", "min", "max", "default"}
_HLS_KEYS = {"body", "include_dirs"}


def _unknown(table: Mapping, allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise SpecError(f"{where}: unknown field{'s' if len(extra) > 1 else ''} {', '.join(extra)}; "
                        f"allowed: {', '.join(sorted(allowed))}")


def _table(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected a table (key = value pairs), got {type(value).__name__}")
    return value


def _ident(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value) or keyword.iskeyword(value) \
            or value.lower().startswith("labgen") or value in _CPP_WORDS:
        raise SpecError(f"{where}: {value!r} is not a usable name: it becomes a C++ and Python identifier "
                        f"(letters, digits, _; not starting with a digit; not a C++ or Python keyword; not "
                        f"starting with labgen, which the generated code uses)")
    return value


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SpecError(f"{where}: expected an integer {lo}..{hi}, got {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{where}: expected a finite number, got {value!r}")
    return value


def _stream(raw: Any, where: str, direction: str) -> StreamSpec:
    table = _table(raw, where)
    _unknown(table, _STREAM_KEYS, where)
    for key in ("name", "dtype", "shape"):
        if key not in table:
            raise SpecError(f"{where}.{key} is missing (a stream needs name, dtype and shape)")
    name = _ident(table["name"], f"{where}.name")
    dtype = element_type(table["dtype"], f"{where}.dtype")
    shape_raw = table["shape"]
    shape = (shape_raw,) if isinstance(shape_raw, int) and not isinstance(shape_raw, bool) else shape_raw
    if not isinstance(shape, (list, tuple)) or not shape:
        raise SpecError(f"{where}.shape: expected a number of elements or a list such as [28, 28], got {shape_raw!r}")
    shape = tuple(_int(d, f"{where}.shape[{i}]", 1, 1 << 24) for i, d in enumerate(shape))
    beat_bits = table.get("beat_bits", max(dtype.bits, 8))
    if beat_bits not in BEAT_BITS:
        raise SpecError(f"{where}.beat_bits: {beat_bits!r} is not a stream width the generator supports; use one "
                        f"of {', '.join(map(str, BEAT_BITS))}")
    if beat_bits < dtype.bits or beat_bits % dtype.bits:
        raise SpecError(f"{where}.beat_bits: {beat_bits}-bit beats cannot carry whole {dtype.bits}-bit "
                        f"{dtype.name} elements; use a multiple of {dtype.bits}")
    count = math.prod(shape)
    per_beat = beat_bits // dtype.bits
    if count % per_beat:
        raise SpecError(f"{where}.shape: {count} elements per item do not fill whole {beat_bits}-bit beats "
                        f"({per_beat} elements each); change shape or beat_bits")
    tlast = table.get("tlast", "end_of_call")
    if tlast not in TLAST_POLICIES:
        raise SpecError(f"{where}.tlast: {tlast!r}; use one of {', '.join(TLAST_POLICIES)}")
    if direction == "in" and "tlast" in table:
        raise SpecError(f"{where}.tlast: the DMA sets TLAST on an input stream (at the end of each transfer); "
                        f"a tlast policy belongs to outputs only")
    return StreamSpec(name, dtype, shape, beat_bits, tlast, direction)


def _scalar(raw: Any, where: str) -> ScalarSpec:
    table = _table(raw, where)
    _unknown(table, _SCALAR_KEYS, where)
    for key in ("name", "dtype", "min", "max"):
        if key not in table:
            raise SpecError(f"{where}.{key} is missing (a scalar needs name, dtype, min and max)")
    name = _ident(table["name"], f"{where}.name")
    if name in RESERVED_NAMES:
        raise SpecError(f"{where}.name: {name!r} is a name Vitis HLS or the driver uses; choose another")
    dtype = element_type(table["dtype"], f"{where}.dtype")
    if dtype.bits > 32:
        raise SpecError(f"{where}.dtype: scalars are one 32-bit register; {dtype.name} does not fit")
    lo, hi = _number(table["min"], f"{where}.min"), _number(table["max"], f"{where}.max")
    tlo, thi = dtype.limits
    if lo > hi:
        raise SpecError(f"{where}: min {lo} is larger than max {hi}")
    if lo < tlo or hi > thi:
        raise SpecError(f"{where}: the range {lo}..{hi} does not fit {dtype.name} ({tlo}..{thi})")
    default = table.get("default")
    if default is not None:
        default = _number(default, f"{where}.default")
        if not lo <= default <= hi:
            raise SpecError(f"{where}.default: {default} is outside min..max ({lo}..{hi})")
    return ScalarSpec(name, dtype, lo, hi, default)


def spec_from_dict(data: Mapping, *, source: str = "a Python dict", text: str = "",
                   base: str | Path | None = None) -> KernelSpec:
    """Check a spec given as data (the TOML file's tables) and return the :class:`KernelSpec`.

    ``base``: folder that relative paths of ``[hls]`` are resolved against (the spec file's).
    """
    data = _table(data, "the spec")
    _unknown(data, _TOP_KEYS, "the spec")
    kernel = _table(data.get("kernel", {}), "kernel")
    _unknown(kernel, _KERNEL_KEYS, "kernel")
    if "name" not in kernel:
        raise SpecError("kernel.name is missing: the name of the HLS top function, e.g. name = \"scale\"")
    name = _ident(kernel["name"], "kernel.name")
    vlnv = kernel.get("vlnv", f"xilinx.com:hls:{name}:1.0")
    if not isinstance(vlnv, str) or not _VLNV.match(vlnv) or vlnv.split(":")[1] != "hls" \
            or vlnv.split(":")[2] != name:
        raise SpecError(f"kernel.vlnv: {vlnv!r}; an HLS kernel's VLNV is vendor:hls:<kernel.name>:major.minor, "
                        f"e.g. \"xilinx.com:hls:{name}:1.0\" (Vitis HLS's default)")
    control = kernel.get("control", "ap_ctrl_hs")
    if control not in CONTROLS:
        raise SpecError(f"kernel.control: {control!r}; use \"ap_ctrl_hs\" (started by the PS, one call per start) "
                        f"or \"ap_ctrl_none\" (free-running: runs whenever data arrives)")
    clock = _number(kernel.get("clock_mhz", 100), "kernel.clock_mhz")
    if not 10 <= clock <= 300:
        raise SpecError(f"kernel.clock_mhz: {clock} MHz is outside 10..300, the PL clocks a PYNQ PS generates")
    max_batch = _int(kernel.get("max_batch", 1), "kernel.max_batch", 1, 1 << 16)
    instance = _ident(kernel.get("instance", f"{name}_0"), "kernel.instance")
    dma = _ident(kernel.get("dma", f"{name}_dma"), "kernel.dma")
    if dma == instance:
        raise SpecError(f"kernel.dma: the DMA and the kernel cannot both be called {dma!r}")
    hp_port = kernel.get("hp_port", "S_AXI_HP0")
    if hp_port not in ("S_AXI_HP0", "S_AXI_HP1", "S_AXI_HP2", "S_AXI_HP3"):
        raise SpecError(f"kernel.hp_port: {hp_port!r}; use S_AXI_HP0..S_AXI_HP3 (the Zynq-7000's high-performance ports)")
    description = kernel.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"kernel.description: expected a string, got {description!r}")

    def streams(key: str, direction: str) -> tuple[StreamSpec, ...]:
        raw = data.get(key, [])
        if not isinstance(raw, list):
            raise SpecError(f"{key}: expected a list of tables ([[{key}]] in TOML), got {type(raw).__name__}")
        return tuple(_stream(r, f"{key}[{i}]", direction) for i, r in enumerate(raw))

    inputs, outputs = streams("inputs", "in"), streams("outputs", "out")
    if len(inputs) != 1 or len(outputs) != 1:
        raise SpecError(f"inputs/outputs: the generator supports exactly one input and one output stream (one "
                        f"AXI DMA with both channels); this spec has {len(inputs)} input(s) and {len(outputs)} "
                        f"output(s)")
    raw_scalars = data.get("scalars", [])
    if not isinstance(raw_scalars, list):
        raise SpecError(f"scalars: expected a list of tables ([[scalars]] in TOML), got {type(raw_scalars).__name__}")
    scalars = tuple(_scalar(r, f"scalars[{i}]") for i, r in enumerate(raw_scalars))
    names = [s.name for s in inputs + outputs] + [s.name for s in scalars]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecError(f"inputs/outputs/scalars: the name{'s' if len(dup) > 1 else ''} {', '.join(dup)} "
                        f"appear{'' if len(dup) > 1 else 's'} twice; every port needs its own name")
    if control == "ap_ctrl_none" and any(o.tlast == "end_of_item" for o in outputs):
        pass  # one item per call: both policies put TLAST on the same beat
    hls = _table(data.get("hls", {}), "hls")
    _unknown(hls, _HLS_KEYS, "hls")
    root = Path(base) if base is not None else Path.cwd()
    body = ""
    if "body" in hls:
        if not isinstance(hls["body"], str):
            raise SpecError(f"hls.body: expected a path, got {hls['body']!r}")
        body_path = (root / hls["body"]).resolve()
        if not body_path.is_file():
            raise SpecError(f"hls.body: {body_path} does not exist (paths are relative to the spec's folder)")
        body = str(body_path)
    include_dirs = hls.get("include_dirs", [])
    if not isinstance(include_dirs, list) or not all(isinstance(d, str) for d in include_dirs):
        raise SpecError(f"hls.include_dirs: expected a list of folder paths, got {include_dirs!r}")
    includes = tuple(str((root / d).resolve()) for d in include_dirs)
    for d in includes:
        if not Path(d).is_dir():
            raise SpecError(f"hls.include_dirs: {d} is not a folder (paths are relative to the spec's folder)")
    spec = KernelSpec(name=name, vlnv=vlnv, control=control, clock_mhz=float(clock), max_batch=max_batch,
                      inputs=inputs, outputs=outputs, scalars=scalars, instance=instance, dma=dma,
                      description=description, hp_port=hp_port, source=source,
                      text=text or repr(sorted(data.items(), key=lambda kv: kv[0])), body=body,
                      include_dirs=includes)
    if spec.largest_transfer().bit_length() > MAX_DMA_LENGTH_BITS:
        raise SpecError(f"kernel.max_batch: one call moves {spec.largest_transfer()} bytes, more than the AXI DMA's "
                        f"largest transfer (2^{MAX_DMA_LENGTH_BITS} - 1 bytes, PG021); lower max_batch or the shapes")
    return spec
