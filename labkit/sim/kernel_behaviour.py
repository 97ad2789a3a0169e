"""Behaviour for a user's HLS kernel on the simulated board: a Python function (or compiled C++).

A ``.hwh`` tells the simulated board a kernel's registers and ports, not what it computes.  Give
it behaviour by registering, for its instance name (``"resize_accel_0"``) or its VLNV
(``"xilinx.com:hls:resize_accel:1.0"``, any version if you leave the version out)::

    import pynq, cv2
    from labkit import register_kernel

    def resize(args, inputs):                       # numpy in, numpy out
        src = inputs["src"].reshape(args["src_rows"], args["src_cols"], 3)
        return {"dst": cv2.resize(src, (args["dst_cols"], args["dst_rows"]))}

    register_kernel("resize_accel_0", resize, cycles=lambda args, i, o: args["src_rows"] * args["src_cols"])

``args`` holds the kernel's ``s_axilite`` registers by the names the ``.hwh`` gives (pointers split
in ``_1``/``_2`` words are joined into one 64-bit value); ``inputs`` one ``uint8`` array per input
stream with the bytes that arrived up to TLAST; the function returns one array per output stream
(any dtype: its bytes are sent, with TLAST on the last beat).  A kernel with ``m_axi`` ports takes
a third parameter, ``ddr``: ``ddr(address, nbytes)`` is the board's DDR at a physical address (a
``uint8`` view: read it, or write into it), so ``fn(args, inputs, ddr)`` follows the pointers the
PS wrote into the kernel's registers.

Time (modelled, in PL cycles of the design's clock): ``cycles(args, inputs, outputs)``, or a fixed
``latency_cycles``; with neither, one cycle per beat of the longest stream (a pipelined loop with
II=1, the usual target of a streaming HLS kernel) -- an estimate, said so in the timeline.

Registrations belong to one simulated board (its fabric), not to the process: a new board starts
with none, so tests need no clean-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import inspect

import numpy as np

from labkit.errors import DesignError

__all__ = ["PythonKernel", "KernelBehaviours", "register_kernel", "no_behaviour_error"]

KernelFunction = Callable[[dict, dict], Mapping[str, Any]]


@dataclass
class PythonKernel:
    """A kernel's behaviour as a Python function, with its timing."""

    function: KernelFunction
    cycles: Callable[[dict, dict, dict], float] | None = None
    latency_cycles: int | None = None
    #: beats each input port takes per call, ``input_beats(args) -> {port: beats}``; default: up to TLAST
    input_beats: Callable[[dict], Mapping[str, int]] | None = None
    label: str = "python model"

    def __post_init__(self) -> None:
        try:
            params = inspect.signature(self.function).parameters
            self.wants_ddr = len(params) >= 3 or any(p.kind is p.VAR_POSITIONAL for p in params.values())
        except (TypeError, ValueError):  # a compiled callable: (args, inputs) as documented
            self.wants_ddr = False

    def run(self, args: dict, inputs: dict[str, np.ndarray], ddr: Callable | None = None
            ) -> tuple[dict[str, np.ndarray], float, bool]:
        """Outputs (as bytes), modelled cycles, and whether the cycles are only the II=1 estimate."""
        if self.wants_ddr:
            result = self.function(dict(args), inputs, ddr)
        else:
            result = self.function(dict(args), inputs)
        if not isinstance(result, Mapping):
            raise TypeError(f"a kernel model must return a dict of output stream -> numpy array, got "
                            f"{type(result).__name__}")
        outputs = {port: np.ascontiguousarray(value).reshape(-1).view(np.uint8) for port, value in result.items()}
        if self.cycles is not None:
            return outputs, float(self.cycles(dict(args), inputs, outputs)), False
        if self.latency_cycles is not None:
            return outputs, float(self.latency_cycles), False
        return outputs, -1.0, True


class KernelBehaviours:
    """The behaviours registered on one simulated board, by instance name or VLNV."""

    def __init__(self) -> None:
        self._by_key: dict[str, PythonKernel] = {}

    def register(self, target: str, behaviour: PythonKernel) -> None:
        self._by_key[str(target)] = behaviour

    def unregister(self, target: str) -> None:
        self._by_key.pop(str(target), None)

    def find(self, name: str, vlnv: str) -> PythonKernel | None:
        """Instance name first (full path, then last component), then the VLNV, then it without version."""
        for key in (name, name.split("/")[-1], vlnv, ":".join(vlnv.split(":")[:3])):
            if key in self._by_key:
                return self._by_key[key]
        return None


def no_behaviour_error(name: str, vlnv: str) -> DesignError:
    """The error of ap_start on a kernel that has no behaviour: what is missing and the two remedies."""
    return DesignError(
        f"{name} ({vlnv}) was started, but the simulated board does not know what this HLS kernel computes: "
        f"its registers work, its behaviour is missing. Give it behaviour in one of two ways: "
        f"(a) its C++ source: labkit.register_cpp_kernel({name.split('/')[-1]!r}, 'kernel.cpp', top='...'), "
        f"compiled for C-simulation with Xilinx's ap_int/hls_stream headers; or "
        f"(b) a Python function: labkit.register_kernel({name.split('/')[-1]!r}, fn) where "
        f"fn(args, inputs) returns {{output_port: numpy array}}.")


def _device(device: Any = None):
    if device is not None:
        return device
    from .patches import active_sim_device

    found = active_sim_device()
    if found is None:
        raise DesignError("no simulated board is active: set LABKIT_BOARD=sim (or load an overlay on the simulated "
                          "board) before registering a kernel model, or pass device=")
    return found


def register_kernel(target: str, function: KernelFunction, *, cycles: Callable | None = None,
                    latency_cycles: int | None = None, input_beats: Callable | None = None,
                    device: Any = None) -> PythonKernel:
    """Give the HLS kernel ``target`` (instance name or VLNV) behaviour as a Python function.

    Works before or after the overlay is loaded: the board looks the behaviour up at ``ap_start``.
    Returns the registered :class:`PythonKernel`.
    """
    if not callable(function):
        raise TypeError(f"function must be callable (args, inputs) -> dict of arrays, got {function!r}")
    behaviour = PythonKernel(function, cycles=cycles, latency_cycles=latency_cycles, input_beats=input_beats)
    _device(device).fabric.kernel_behaviours.register(target, behaviour)
    return behaviour
