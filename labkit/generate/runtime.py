"""What every generated driver does at run time: check inputs against the spec, move them, wait.

A generated ``<kernel>_driver.py`` holds the kernel's constants (shapes, types, ranges, names)
and a small ``DefaultIP`` subclass with ``bindto`` its VLNV; the work is here, written and
tested once, so that a bug fixed here is fixed in every generated driver.

One call (:meth:`StreamKernelDriver.__call__`):

1. **check** every input (see :func:`check_stream` and :func:`check_scalar`): a wrong type, shape,
   batch size, dtype that cannot be cast without loss, value out of range, NaN for an integer or
   fixed-point stream, or a non-contiguous view raises :class:`KernelInputError` *before* anything
   touches the board, so a wrong call leaves the board as it was;
2. **copy** the items into the DMA buffers, allocated once (contiguous memory is scarce);
3. **start**: scalar registers, ``batch``, ``AP_START`` (ap_ctrl_hs), then S2MM before MM2S (pynq's
   ``transfer`` flushes the input buffer from the CPU's cache);
4. **wait** for both DMA channels and ``ap_done`` with timeouts (:mod:`labkit.run`); on any failure the
   overlay is reset (:func:`labkit.recovery.recover`) so the next call starts clean;
5. **return** a new numpy array (never a view of the DMA buffer, which the next call overwrites).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from pynq import DefaultIP, allocate

from labkit.errors import LabkitError
from labkit.run import DEFAULT_TIMEOUT_S, check_timeout, overlay_lock, wait_ap_done, wait_dma

__all__ = ["KernelInputError", "DriverError", "StreamFormat", "ScalarFormat", "StreamKernelDriver",
           "check_stream", "check_scalar"]

_AP_START = 0x1  # CTRL bit 0 (UG1399, s_axilite control register map)
_CTRL = 0x00


class KernelInputError(LabkitError, ValueError):
    """An input does not match the kernel's spec; nothing was sent to the board."""


class DriverError(LabkitError, RuntimeError):
    """The driver cannot run: not attached to an overlay, the DMA is missing, or it was closed."""


@dataclass(frozen=True)
class StreamFormat:
    """One stream as the driver sees it (filled in from the spec by the generator)."""

    name: str
    shape: tuple[int, ...]
    storage: str           #: numpy dtype of the bits in the buffer ("<i4", "<u1", "<f4" ...)
    kind: str              #: "int", "uint", "float" or "fixed"
    lo: float              #: smallest value (fixed point: real value)
    hi: float
    frac_bits: int = 0     #: fixed point: bits after the binary point
    type_name: str = ""    #: as the spec writes it, for messages

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.storage)


@dataclass(frozen=True)
class ScalarFormat:
    name: str
    storage: str
    kind: str
    lo: float
    hi: float
    default: float | None = None
    frac_bits: int = 0
    type_name: str = ""


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"a {x.dtype} array of shape {x.shape}"
    return f"{type(x).__name__} {x!r}"[:120]


def check_stream(x: Any, fmt: StreamFormat, max_batch: int, kernel: str) -> tuple[np.ndarray, int, bool]:
    """Check ``x`` against one input stream; return (items as the buffer's dtype [B, count], B, one item given).

    Accepts one item (``shape``) or a batch (``(B,) + shape``), 1 <= B <= ``max_batch``.
    Integer streams take any integer array whose values fit, and float arrays holding whole
    numbers; fixed-point streams take real numbers in range (rounded to the nearest step);
    float32 streams take any float or integer array whose values are finite in float32.
    """
    where = f"{kernel}: input {fmt.name!r}"
    batch_shape = "(batch, " + ", ".join(map(str, fmt.shape)) + ")"
    if not isinstance(x, np.ndarray):
        raise KernelInputError(f"{where}: expected a numpy array of shape {fmt.shape} or {batch_shape}, "
                               f"got {_describe(x)}. Wrap it: np.asarray(x, dtype=np.{fmt.dtype.name})")
    if x.shape == fmt.shape:
        single, batch = True, 1
    elif x.ndim == len(fmt.shape) + 1 and x.shape[1:] == fmt.shape:
        single, batch = False, x.shape[0]
    else:
        raise KernelInputError(f"{where}: shape {x.shape} does not match the spec: one item is {fmt.shape}, a batch "
                               f"is {batch_shape} with batch 1..{max_batch}")
    if batch == 0:
        raise KernelInputError(f"{where}: the batch is empty (shape {x.shape}); pass at least one item")
    if batch > max_batch:
        raise KernelInputError(f"{where}: batch of {batch} items is larger than the spec's max_batch {max_batch} "
                               f"(the DMA buffers hold that many); split it, e.g. x[:{max_batch}]")
    if not x.flags.c_contiguous:
        raise KernelInputError(f"{where}: the array is a non-contiguous view (strides {x.strides}); the DMA reads "
                               f"memory in order. Pass np.ascontiguousarray(x) (that copies it)")
    dtype = x.dtype
    if dtype == np.bool_ or dtype.kind not in "iuf":
        raise KernelInputError(f"{where}: dtype {dtype} cannot carry {fmt.type_name} values; pass "
                               f"{'real numbers (float)' if fmt.kind == 'fixed' else f'np.{fmt.dtype.name}'}")
    flat = x.reshape(batch, fmt.count)
    if fmt.kind == "float":
        if dtype == fmt.dtype:
            return flat, batch, single
        with np.errstate(all="ignore"):
            values = flat.astype(np.float64)
        bad = np.isfinite(values) & (np.abs(values) > fmt.hi)
        if bad.any():
            raise KernelInputError(f"{where}: {int(bad.sum())} value(s) overflow float32 (first: "
                                   f"{values[bad][0]!r}); the stream carries float32")
        return flat.astype(fmt.dtype), batch, single
    if dtype.kind == "f" or fmt.kind == "fixed":
        values = flat.astype(np.float64, copy=False)
        nan = ~np.isfinite(values)
        if nan.any():
            index = np.unravel_index(int(np.flatnonzero(nan)[0]), x.shape)
            raise KernelInputError(f"{where}: {int(nan.sum())} value(s) are NaN or infinite (first at index "
                                   f"{tuple(int(i) for i in index)}); a {fmt.type_name} stream has no such value")
        if fmt.kind == "fixed":
            values = np.rint(values * (1 << fmt.frac_bits))
            lo, hi = fmt.lo * (1 << fmt.frac_bits), fmt.hi * (1 << fmt.frac_bits)
        else:
            if (values != np.floor(values)).any():
                first = values[values != np.floor(values)][0]
                raise KernelInputError(f"{where}: {fmt.type_name} stream, but the array holds fractions (first: "
                                       f"{first!r}); round them yourself (np.rint) if that is what you mean")
            lo, hi = fmt.lo, fmt.hi
        _check_range(values, lo, hi, where, fmt, x.shape)
        return values.astype(fmt.dtype), batch, single
    if dtype == fmt.dtype:
        return flat, batch, single
    if not np.can_cast(dtype, fmt.dtype, "safe"):
        _check_range(flat, fmt.lo, fmt.hi, where, fmt, x.shape)
    return flat.astype(fmt.dtype), batch, single


def _check_range(values: np.ndarray, lo: float, hi: float, where: str, fmt: StreamFormat, shape: tuple) -> None:
    low, high = values.min(), values.max()
    if low < lo or high > hi:
        bad = int(np.flatnonzero((values < lo) | (values > hi))[0])
        index = tuple(int(i) for i in np.unravel_index(bad, shape))
        scale = 2.0 ** -fmt.frac_bits if fmt.kind == "fixed" else 1
        raise KernelInputError(f"{where}: value {values.reshape(-1)[bad] * scale!r} at index {index} is outside "
                               f"{fmt.type_name}'s range {fmt.lo}..{fmt.hi}; nothing was sent")


def check_scalar(value: Any, fmt: ScalarFormat, kernel: str) -> int:
    """Check one scalar argument against its range; return the 32 register bits."""
    where = f"{kernel}: scalar {fmt.name!r}"
    if value is None:
        if fmt.default is None:
            raise KernelInputError(f"{where} is required (no default in the spec): pass {fmt.name}=<{fmt.lo}..{fmt.hi}>")
        value = fmt.default
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise KernelInputError(f"{where}: expected a number {fmt.lo}..{fmt.hi}, got {_describe(value)}")
    if not math.isfinite(float(value)):
        raise KernelInputError(f"{where}: {value!r} is not a finite number")
    if fmt.kind in ("int", "uint") and float(value) != math.floor(float(value)):
        raise KernelInputError(f"{where}: {fmt.type_name} takes whole numbers, got {value!r}")
    if not fmt.lo <= value <= fmt.hi:
        raise KernelInputError(f"{where}: {value!r} is outside the allowed range {fmt.lo}..{fmt.hi} (the spec's "
                               f"min and max); nothing was sent")
    if fmt.kind == "float":
        return int(np.array(value, dtype="<f4").view("<u4"))
    if fmt.kind == "fixed":
        value = round(float(value) * (1 << fmt.frac_bits))
    return int(value) & 0xFFFFFFFF


class StreamKernelDriver(DefaultIP):
    """Base of the generated drivers: one input stream, one output stream, through one AXI DMA.

    Class attributes the generated subclass sets: ``KERNEL``, ``DMA_NAME``, ``CONTROL``,
    ``MAX_BATCH``, ``ITEMS_PER_CALL``, ``INPUT``, ``OUTPUT``, ``SCALARS``, ``REGISTERS``.
    """

    KERNEL = ""
    KERNEL_INSTANCE = ""
    DMA_NAME = ""
    OUTPUT_TLAST = "end_of_call"
    CONTROL = "ap_ctrl_hs"
    MAX_BATCH = 1
    ITEMS_PER_CALL = 1
    INPUT: StreamFormat
    OUTPUT: StreamFormat
    SCALARS: tuple[ScalarFormat, ...] = ()
    REGISTERS: Mapping[str, int] = {}

    def __init__(self, description: dict) -> None:
        if description.get("phys_addr") is None:
            # An ap_ctrl_none kernel without scalars has no AXI-Lite port, so pynq lists no IP for it
            # and binds no driver; ``open(overlay)`` makes this one with nothing to map.
            self.device = description.get("device")
            self.mmio = None
            self._registers = None
            self._interrupts, self._gpio = {}, {}
        else:
            super().__init__(description)
        self.overlay: Any = None
        self.dma: Any = None
        self.timeout = DEFAULT_TIMEOUT_S
        self._inbuf = self._outbuf = None
        self._lock = threading.Lock()
        self._closed = False

    # -- set-up ------------------------------------------------------------------------------------

    @classmethod
    def open(cls, overlay: Any, *, timeout: float = DEFAULT_TIMEOUT_S) -> "StreamKernelDriver":
        """The driver for this kernel in ``overlay``, attached to its DMA, buffers allocated."""
        name = cls.KERNEL_INSTANCE
        if name in overlay.ip_dict:
            driver = getattr(overlay, name)
            if not isinstance(driver, cls):
                raise DriverError(f"pynq bound {type(driver).__name__} to {name}, not {cls.__name__}: import this "
                                  f"driver module before loading the overlay (pynq binds drivers at load)")
        elif cls.CONTROL == "ap_ctrl_none" and not cls.SCALARS:
            driver = cls({"device": overlay.device, "phys_addr": None})
        else:
            raise DriverError(f"this overlay has no {name} (IPs: {', '.join(sorted(overlay.ip_dict))}); load the "
                              f"design generated for {cls.KERNEL}")
        driver.attach(overlay, timeout=timeout)
        return driver

    def attach(self, overlay: Any, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Find the kernel's DMA in ``overlay`` and allocate the contiguous buffers (once)."""
        if self.DMA_NAME not in overlay.ip_dict:
            raise DriverError(f"this overlay has no DMA {self.DMA_NAME!r} for {self.KERNEL} "
                              f"(IPs: {', '.join(sorted(overlay.ip_dict))})")
        self.overlay = overlay
        self.dma = getattr(overlay, self.DMA_NAME)
        self.timeout = check_timeout(timeout)
        if self._inbuf is None:
            items = self.ITEMS_PER_CALL
            self._inbuf = allocate(items * self.INPUT.count, self.INPUT.dtype, target=overlay.device)
            self._outbuf = allocate(items * self.OUTPUT.count, self.OUTPUT.dtype, target=overlay.device)

    def close(self) -> None:
        """Give the DMA buffers back (safe to call twice)."""
        with self._lock:
            if not self._closed and self._inbuf is not None:
                self._inbuf.freebuffer()
                self._outbuf.freebuffer()
            self._closed = True

    def __enter__(self) -> "StreamKernelDriver":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- a call ------------------------------------------------------------------------------------

    def check(self, x: Any, **scalars: Any) -> tuple[np.ndarray, int, bool, dict[str, int]]:
        """Every check of a call, without touching the board: (items, batch, single, register values)."""
        known = {s.name for s in self.SCALARS}
        unknown = sorted(set(scalars) - known)
        if unknown:
            raise KernelInputError(f"{self.KERNEL}: unknown argument{'s' if len(unknown) > 1 else ''} "
                                   f"{', '.join(unknown)}; this kernel takes "
                                   f"{', '.join(sorted(known)) or 'no scalar arguments'}")
        items, batch, single = check_stream(x, self.INPUT, self.MAX_BATCH, self.KERNEL)
        registers = {s.name: check_scalar(scalars.get(s.name), s, self.KERNEL) for s in self.SCALARS}
        return items, batch, single, registers

    def __call__(self, x: np.ndarray, *, timeout: float | None = None, **scalars: Any) -> np.ndarray:
        """Run the kernel on one item or a batch; return the outputs as a new numpy array.

        Raises:
            KernelInputError: an input does not match the spec (nothing was sent).
            DriverError: not attached (use ``open(overlay)``) or closed.
            LabTimeoutError, DmaError: the PL did not finish or reported an error; the overlay was
                reset, so the next call starts clean.
        """
        items, batch, single, registers = self.check(x, **scalars)
        if self.dma is None:
            raise DriverError(f"{self.KERNEL}: the driver has no DMA yet: make it with "
                              f"{type(self).__name__}.open(overlay)")
        limit = self.timeout if timeout is None else check_timeout(timeout)
        out = np.empty((batch, self.OUTPUT.count), dtype=self.OUTPUT.dtype)
        with self._lock, overlay_lock(self.overlay):
            if self._closed:
                raise DriverError(f"{self.KERNEL}: this driver is closed (its buffers were freed); open it again")
            try:
                for first in range(0, batch, self.ITEMS_PER_CALL):
                    n = min(self.ITEMS_PER_CALL, batch - first)
                    out[first:first + n] = self._run(items[first:first + n], n, registers, limit)
            except BaseException:
                from labkit.recovery import recover

                recover(self.overlay, limit)  # a hung call must not poison the next one
                raise
        return self._result(out, batch, single)

    def _run(self, items: np.ndarray, n: int, registers: dict[str, int], timeout: float) -> np.ndarray:
        inbuf = self._inbuf[:n * self.INPUT.count]
        outbuf = self._outbuf[:n * self.OUTPUT.count]
        inbuf[:] = items.reshape(-1)
        mmio = self.mmio
        for name, value in registers.items():
            mmio.write(self.REGISTERS[name], value)
        if self.CONTROL == "ap_ctrl_hs":
            mmio.write(self.REGISTERS["batch"], n)
            mmio.write(_CTRL, _AP_START)  # the kernel waits for its first beat
        self.dma.recvchannel.transfer(outbuf)  # somewhere for the results to go, before they come
        self.dma.sendchannel.transfer(inbuf)
        wait_dma(self.dma, "send", self.DMA_NAME, timeout)
        wait_dma(self.dma, "recv", self.DMA_NAME, timeout)  # also invalidates outbuf in the CPU's cache
        if self.CONTROL == "ap_ctrl_hs":
            wait_ap_done(mmio, self.KERNEL_INSTANCE, timeout)
        return np.asarray(outbuf).reshape(n, self.OUTPUT.count)

    def _result(self, out: np.ndarray, batch: int, single: bool) -> np.ndarray:
        fmt = self.OUTPUT
        if fmt.kind == "fixed":
            out = out.astype(np.float64) * 2.0 ** -fmt.frac_bits
        shaped = out.reshape((batch,) + fmt.shape)
        return shaped[0] if single else shaped

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("not attached" if self.dma is None else f"DMA {self.DMA_NAME}")
        return f"<{type(self).__name__} {self.KERNEL_INSTANCE}: {self.INPUT.shape} -> {self.OUTPUT.shape}, {state}>"
