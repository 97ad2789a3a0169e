"""Helpers shared by the kernel twins: the IP identity every kernel shares,
cycle arithmetic, the bridges' argument checks and register tables.

Nothing here is specific to one kernel. The public names of each kernel live
in its own module (``labkit.kernels.mmio_rowsum`` and so on); a module
re-exports the shared ones it uses (``ADDR_RANGE``, ``AXI_LITE_PORT``, ...).
"""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional

import numpy as np

from . import _status
from ..errors import LabkitError

# ---------------------------------------------------------------------------
# The IP identity: hls/common/lab_hls.tcl exports every kernel the same way.
# ---------------------------------------------------------------------------

#: Size of a kernel's AXI-Lite window.
ADDR_RANGE: int = 0x10000
#: The bus interface of the s_axilite bundle "control".
AXI_LITE_PORT: str = "s_axi_control"
#: AXI-Stream ports of the streaming kernels (TDATA, TKEEP, TSTRB, TLAST).
AXIS_INPUT: str = "in_stream"
AXIS_OUTPUT: str = "out_stream"


def vlnv(kernel: str) -> str:
    """The IP's identity in the block design; pynq drivers bind to it."""
    return f"xilinx.com:hls:{kernel}:1.0"

#: The overlays clock the PL kernels at 100 MHz (FCLK_CLK0; ``create_clock
#: -period 10`` in hls/common/lab_hls.tcl).
DEFAULT_CLOCK_HZ: int = 100_000_000

#: 32-bit words wrap around modulo 2**32, exactly like the kernels' adders.
U32_MASK: int = 0xFFFF_FFFF
WORD_BYTES: int = 4

RegisterTable = Dict[str, Dict[str, Any]]


class KernelArgumentError(LabkitError, ValueError):
    """A kernel call the bridge would refuse (or could not finish).

    ``code`` is the bridge's return code (see :mod:`labkit.kernels._bridge`),
    so the numpy twin and the C++ bridge can be compared error for error.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def pipelined_loop_cycles(trip_count: int, ii: int, depth: int) -> int:
    """Cycles a pipelined loop takes: ``(trip_count - 1) * ii + depth``.

    The first iteration needs the whole pipeline ``depth``; every further
    iteration starts ``ii`` cycles after the previous one. A loop that runs
    zero times costs nothing here (its exit test is part of the caller's
    overhead).
    """
    if trip_count <= 0:
        return 0
    return (trip_count - 1) * ii + depth


def cycles_to_seconds(cycles: int, clock_hz: float = DEFAULT_CLOCK_HZ) -> float:
    """Modelled PL time in seconds for ``cycles`` clock cycles."""
    return cycles / float(clock_hz)


def check_stream_args(in_len: int, count: int, max_count: int,
                      out_cap: Optional[int] = None, *, in_beats_per: int = 1,
                      out_beats_per: int = 1) -> int:
    """A streaming bridge's verdict before it runs: ``LAB_OK`` or a negative code.

    ``count`` is the size argument (``n`` beats, ``batch`` images), each unit
    ``in_beats_per`` input and ``out_beats_per`` output beats. The checks come
    in the bridges' order: zero size, size above ``max_count``, output buffer
    too small, too many input beats. Too *few* input beats pass: the bridge
    runs and reports ``LAB_ERR_INPUT_DRY`` when the stream runs out.
    """
    if count == 0:
        return _status.LAB_ERR_ZERO_LENGTH
    if count > max_count:
        return _status.LAB_ERR_TOO_LARGE
    if out_cap is not None and out_cap < count * out_beats_per:
        return _status.LAB_ERR_OUT_CAP
    if in_len > count * in_beats_per:
        return _status.LAB_ERR_INPUT_EXTRA
    return _status.LAB_OK


def raise_for_code(code: int, context: str) -> None:
    """Raise :class:`KernelArgumentError` (``"<context>: <what the code means>"``)
    unless ``code`` is ``LAB_OK``."""
    if code != _status.LAB_OK:
        raise KernelArgumentError(code, f"{context}: {_status.describe(code)}")


def tlast_flags(count: int) -> np.ndarray:
    """TLAST of a ``count``-beat packet (uint8): 1 on the last beat only."""
    last = np.zeros(count, dtype=np.uint8)
    last[-1] = 1
    return last


def as_u32_words(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-D uint32 array; refuses values that do not fit."""
    array = np.asarray(values)
    if array.ndim != 1:
        array = array.reshape(-1)
    if array.dtype == np.uint32:
        return array
    if array.size and (array.min() < 0 or array.max() > U32_MASK):
        raise ValueError(f"{name}: every value must fit in 32 unsigned bits")
    return array.astype(np.uint32)


# ---------------------------------------------------------------------------
# Register tables in the format of pynq's ip_dict[...]["registers"] (the
# format pynq builds from a .hwh file and RegisterMap.create_subclass reads).
# The layout and names follow what Vitis HLS writes into the .hwh of an
# ap_ctrl_hs kernel with an s_axilite "control" bundle.
# ---------------------------------------------------------------------------

READ_WRITE = "read-write"
READ_ONLY = "read-only"
WRITE_ONLY = "write-only"
REGISTER_BITS = 32

CTRL_OFFSET = 0x00
GIER_OFFSET = 0x04
IP_IER_OFFSET = 0x08
IP_ISR_OFFSET = 0x0C
#: Vitis HLS places the first argument register at 0x10.
FIRST_ARGUMENT_OFFSET = 0x10
#: Bytes Vitis HLS gives a 32-bit scalar argument: data word + reserved word.
SCALAR_ARGUMENT_BYTES = 8
#: Bytes it gives a 64-bit m_axi offset: two data words + a reserved word.
POINTER_ARGUMENT_BYTES = 12


def _field(bit_offset: int, bit_width: int, access: str, description: str) -> Dict[str, Any]:
    return {
        "bit_offset": bit_offset,
        "bit_width": bit_width,
        "access": access,
        "description": description,
    }


def _register(offset: int, access: str, description: str, fields: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "address_offset": offset,
        "size": REGISTER_BITS,
        "access": access,
        "description": description,
        "fields": fields,
    }


def control_registers() -> RegisterTable:
    """CTRL, GIER, IP_IER and IP_ISR of an ap_ctrl_hs kernel (0x00-0x0C)."""
    return {
        "CTRL": _register(CTRL_OFFSET, READ_WRITE, "Control signals", {
            "AP_START": _field(0, 1, READ_WRITE,
                               "Write 1 to start the kernel; stays 1 until the kernel "
                               "has taken its arguments (ap_ready)."),
            "AP_DONE": _field(1, 1, READ_ONLY,
                              "1 when the kernel has finished; cleared when CTRL is read."),
            "AP_IDLE": _field(2, 1, READ_ONLY, "1 while the kernel is not running."),
            "AP_READY": _field(3, 1, READ_ONLY,
                               "1 when the kernel can accept new arguments."),
            "RESERVED_1": _field(4, 3, READ_ONLY, "Reserved.  0s on read."),
            "AUTO_RESTART": _field(7, 1, READ_WRITE,
                                   "1: start again automatically after each run."),
            "RESERVED_2": _field(8, 1, READ_ONLY, "Reserved.  0s on read."),
            "INTERRUPT": _field(9, 1, READ_ONLY,
                                "State of the interrupt output (Vitis HLS 2022.1 and later)."),
            "RESERVED_3": _field(10, 22, READ_ONLY, "Reserved.  0s on read."),
        }),
        "GIER": _register(GIER_OFFSET, READ_WRITE, "Global Interrupt Enable Register", {
            "Enable": _field(0, 1, READ_WRITE,
                             "Master enable for the interrupt output: 0 = Disabled, 1 = Enabled"),
            "RESERVED": _field(1, 31, READ_ONLY, "Reserved.  0s on read."),
        }),
        "IP_IER": _register(IP_IER_OFFSET, READ_WRITE, "IP Interrupt Enable Register", {
            "CHAN0_INT_EN": _field(0, 1, READ_WRITE,
                                   "Enable Channel 0 (ap_done) Interrupt.  0 = Disabled, 1 = Enabled."),
            "CHAN1_INT_EN": _field(1, 1, READ_WRITE,
                                   "Enable Channel 1 (ap_ready) Interrupt.  0 = Disabled, 1 = Enabled."),
            "RESERVED_0": _field(2, 30, READ_ONLY, "Reserved.  0s on read."),
        }),
        "IP_ISR": _register(IP_ISR_OFFSET, READ_WRITE, "IP Interrupt Status Register", {
            "CHAN0_INT_ST": _field(0, 1, READ_ONLY,
                                   "Channel 0 (ap_done) Interrupt Status; toggled by writing 1 "
                                   "to the register bit (toggle-on-write)."),
            "CHAN1_INT_ST": _field(1, 1, READ_ONLY,
                                   "Channel 1 (ap_ready) Interrupt Status; toggled by writing 1 "
                                   "to the register bit (toggle-on-write)."),
            "RESERVED_0": _field(2, 30, READ_ONLY, "Reserved.  0s on read."),
        }),
    }


def scalar_register(name: str, offset: int, description: str) -> RegisterTable:
    """A 32-bit scalar argument: one write-only register with one field.

    Vitis HLS gives every scalar two words (data + a reserved word), so the
    next argument starts 8 bytes later. The .hwh marks input arguments
    write-only, and pynq's register_map shows them as ``write-only``.
    """
    return {
        name: _register(offset, WRITE_ONLY, f"Data signal of {name}: {description}", {
            name: _field(0, REGISTER_BITS, WRITE_ONLY, f"Bit 31 to 0 Data signal of {name}"),
        }),
    }


def pointer_registers(name: str, offset: int, description: str) -> RegisterTable:
    """A 64-bit m_axi base address: ``<name>_1`` (low word) and ``<name>_2``.

    This is how a Vitis-generated .hwh names the two halves (pynq shows
    ``a_1 = Register(a=write-only)``, ``a_2 = ...``). Write the buffer's
    ``physical_address`` into ``<name>_1`` (and its upper half, 0 on a
    32-bit Zynq-7000, into ``<name>_2``).
    """
    return {
        f"{name}_1": _register(offset, WRITE_ONLY,
                               f"Data signal of {name} (bits 31..0): {description}", {
                                   name: _field(0, REGISTER_BITS, WRITE_ONLY,
                                                f"Bit 31 to 0 Data signal of {name}"),
                               }),
        f"{name}_2": _register(offset + WORD_BYTES, WRITE_ONLY,
                               f"Data signal of {name} (bits 63..32): {description}", {
                                   name: _field(0, REGISTER_BITS, WRITE_ONLY,
                                                f"Bit 63 to 32 Data signal of {name}"),
                               }),
    }


class Argument(NamedTuple):
    """One s_axilite argument of an HLS top, for :func:`kernel_registers`."""

    kind: str         # "scalar" or "pointer"
    name: str
    description: str


def scalar_argument(name: str, description: str) -> Argument:
    """A 32-bit scalar argument (see :func:`scalar_register`)."""
    return Argument("scalar", name, description)


def pointer_argument(name: str, description: str) -> Argument:
    """A 64-bit m_axi base address (see :func:`pointer_registers`)."""
    return Argument("pointer", name, description)


def kernel_registers(*arguments: Argument) -> RegisterTable:
    """The register table of an ap_ctrl_hs kernel: :func:`control_registers`,
    then the arguments in the order of the top's signature, laid out as Vitis
    HLS does: from FIRST_ARGUMENT_OFFSET, SCALAR_ARGUMENT_BYTES per scalar and
    POINTER_ARGUMENT_BYTES per pointer. ``table[name]["address_offset"]``
    (``<name>_1`` for a pointer) is the argument's byte offset.
    """
    table = control_registers()
    offset = FIRST_ARGUMENT_OFFSET
    for argument in arguments:
        if argument.kind == "scalar":
            table.update(scalar_register(argument.name, offset, argument.description))
            offset += SCALAR_ARGUMENT_BYTES
        elif argument.kind == "pointer":
            table.update(pointer_registers(argument.name, offset, argument.description))
            offset += POINTER_ARGUMENT_BYTES
        else:
            raise ValueError(f"{argument.name}: unknown argument kind {argument.kind!r}")
    return table
