"""The C ABI of the compiled kernels (hls/*/bridge.cpp), seen from Python.

The simulated board compiles every kernel and its ``bridge.cpp`` into one
shared library and calls it through :mod:`ctypes`. This module holds

* the return codes (re-exported from :mod:`labkit.kernels._status`),
* :func:`declare`, which gives every ``lab_*`` function its exact prototype,
* :class:`KernelLibrary`, a small numpy-friendly wrapper over those calls.

ctypes releases the GIL for the duration of each call, so a kernel run on a
worker thread really runs concurrently with the notebook's Python code.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Optional, Tuple

import numpy as np

from . import mmio_rowsum as _mmio_rowsum
from . import pp_load_compute as _pp_load_compute
from . import pp_store as _pp_store
from ._status import (  # re-exported: the codes belong to the ABI
    LAB_DECODE_ERROR,
    LAB_ERR_BAD_WINDOW,
    LAB_ERR_INPUT_DRY,
    LAB_ERR_INPUT_EXTRA,
    LAB_ERR_INTERNAL,
    LAB_ERR_NULL,
    LAB_ERR_OUT_CAP,
    LAB_ERR_TOO_LARGE,
    LAB_ERR_ZERO_LENGTH,
    LAB_OK,
    STATUS,
    describe,
)

__all__ = [
    "LAB_OK", "LAB_DECODE_ERROR", "LAB_ERR_NULL", "LAB_ERR_ZERO_LENGTH", "LAB_ERR_TOO_LARGE",
    "LAB_ERR_INPUT_DRY", "LAB_ERR_INPUT_EXTRA", "LAB_ERR_OUT_CAP", "LAB_ERR_BAD_WINDOW",
    "LAB_ERR_INTERNAL", "STATUS", "describe", "PROTOTYPES", "declare", "KernelLibrary",
    "LoadComputeInstance", "StoreInstance",
]

_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64
_ptr = ctypes.c_void_p
_size = ctypes.c_size_t

#: name -> (restype, argtypes), exactly the C prototypes of the bridges.
PROTOTYPES = {
    # int lab_mmio_rowsum(const uint32_t *image, uint32_t *rowsum,
    #                     uint32_t rows, uint32_t cols, uint32_t pack16)
    "lab_mmio_rowsum": (ctypes.c_int, [_ptr, _ptr, _u32, _u32, _u32]),
    "lab_pp_load_compute_new": (_ptr, []),
    "lab_pp_load_compute_free": (None, [_ptr]),
    # long lab_pp_load_compute(void *state, const uint32_t *in, size_t in_len,
    #     uint32_t *out, uint8_t *out_last, size_t out_cap,
    #     uint32_t num, uint32_t op, uint32_t n, uint32_t pingpong)
    "lab_pp_load_compute": (ctypes.c_long,
                            [_ptr, _ptr, _size, _ptr, _ptr, _size, _u32, _u32, _u32, _u32]),
    "lab_pp_store_new": (_ptr, []),
    "lab_pp_store_free": (None, [_ptr]),
    # long lab_pp_store(void *state, const uint32_t *in, size_t in_len,
    #     uint32_t *out, uint8_t *out_last, size_t out_cap,
    #     uint32_t num, uint32_t n, uint32_t pingpong)
    "lab_pp_store": (ctypes.c_long, [_ptr, _ptr, _size, _ptr, _ptr, _size, _u32, _u32, _u32]),
    # int lab_ddr_rowsum(uint32_t *ddr, uint64_t ddr_phys_base, uint64_t ddr_bytes,
    #     uint64_t src_phys, uint64_t dst_phys, uint32_t rows, uint32_t cols)
    "lab_ddr_rowsum": (ctypes.c_int, [_ptr, _u64, _u64, _u64, _u64, _u32, _u32]),
}


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Give every bridge function of ``lib`` its C prototype; returns ``lib``.

    Without this, ctypes would pass 64-bit addresses as C ``int`` and
    truncate them.
    """
    for name, (restype, argtypes) in PROTOTYPES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


def _address(array: np.ndarray, dtype: type, name: str, writable: bool = False) -> int:
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise TypeError(f"{name} must be a C-contiguous {np.dtype(dtype).name} array")
    if writable and not array.flags.writeable:
        raise TypeError(f"{name} must be writable")
    return array.ctypes.data


class KernelLibrary:
    """The compiled kernels, called with numpy arrays.

    >>> lib = KernelLibrary("hls/build/liblabkit_hls.so")   # doctest: +SKIP
    >>> lib.mmio_rowsum(image, rowsum, 70, 80, 0)            # doctest: +SKIP
    0
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lib = declare(ctypes.CDLL(path))

    def mmio_rowsum(self, image: np.ndarray, rowsum: np.ndarray,
                    rows: int, cols: int, pack16: int) -> int:
        """Run mmio_rowsum on the 8192-word image and 128-word rowsum memories."""
        k = _mmio_rowsum
        if image.size != k.MAX_WORDS or rowsum.size != k.MAX_ROWS:
            raise ValueError("image must have 8192 words and rowsum 128 words")
        return self.lib.lab_mmio_rowsum(
            _address(image, np.uint32, "image"),
            _address(rowsum, np.uint32, "rowsum", writable=True),
            rows, cols, pack16)

    def ddr_rowsum(self, ddr: np.ndarray, ddr_phys_base: int, src_phys: int,
                   dst_phys: int, rows: int, cols: int) -> int:
        """Run ddr_rowsum on a simulated DDR region (any contiguous array)."""
        if not ddr.flags.c_contiguous or not ddr.flags.writeable:
            raise TypeError("ddr must be a writable C-contiguous array")
        return self.lib.lab_ddr_rowsum(ddr.ctypes.data, ddr_phys_base, ddr.nbytes,
                                       src_phys, dst_phys, rows, cols)

    def pp_load_compute(self) -> "LoadComputeInstance":
        """A new pp_load_compute instance (its own two zeroed buffers)."""
        return LoadComputeInstance(self.lib)

    def pp_store(self) -> "StoreInstance":
        """A new pp_store instance (its own two zeroed buffers)."""
        return StoreInstance(self.lib)


class _StreamKernel:
    """One instance of a streaming kernel that keeps buffers between calls."""

    kernel = ""
    max_n = 0  # the kernel's buffer size in words

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._run = getattr(lib, f"lab_{self.kernel}")
        state = getattr(lib, f"lab_{self.kernel}_new")()
        if not state:
            raise MemoryError(f"lab_{self.kernel}_new returned NULL")
        self._state: Optional[int] = state
        self._finalizer = weakref.finalize(self, getattr(lib, f"lab_{self.kernel}_free"), state)

    def close(self) -> None:
        """Free the instance's buffers now (also happens when it is collected)."""
        self._finalizer()
        self._state = None

    def _call(self, in_words: np.ndarray, n: int, out_cap: Optional[int],
              scalars: Tuple[int, ...]) -> Tuple[int, np.ndarray, np.ndarray]:
        if self._state is None:
            raise ValueError(f"{self.kernel} instance is closed")
        words = np.ascontiguousarray(in_words, dtype=np.uint32).reshape(-1)
        # Room for every beat a valid call produces (n); for n > max_n the
        # bridge refuses before it looks at the output buffer.
        capacity = min(n, self.max_n) if out_cap is None else out_cap
        out = np.zeros(max(capacity, 1), dtype=np.uint32)
        last = np.zeros(max(capacity, 1), dtype=np.uint8)
        status = self._run(self._state, words.ctypes.data if words.size else None,
                           words.size, out.ctypes.data, last.ctypes.data, capacity,
                           *scalars)
        if status < 0:
            return status, out[:0], last[:0]
        return status, out[:status], last[:status]


class LoadComputeInstance(_StreamKernel):
    """pp_load_compute with its own IFM_0/IFM_1 buffers."""

    kernel = "pp_load_compute"
    max_n = _pp_load_compute.MAX_N

    def run(self, in_words: np.ndarray, num: int, op: int, n: int, pingpong: int,
            out_cap: Optional[int] = None) -> Tuple[int, np.ndarray, np.ndarray]:
        """One kernel call. Returns ``(status, out_words, out_last)``: status is
        the number of output beats, or a negative bridge code (then both
        arrays are empty)."""
        return self._call(in_words, n, out_cap, (num, op, n, pingpong))


class StoreInstance(_StreamKernel):
    """pp_store with its own OFM_0/OFM_1 buffers."""

    kernel = "pp_store"
    max_n = _pp_store.MAX_N

    def run(self, in_words: np.ndarray, num: int, n: int, pingpong: int,
            out_cap: Optional[int] = None) -> Tuple[int, np.ndarray, np.ndarray]:
        """One kernel call; same return convention as LoadComputeInstance.run."""
        return self._call(in_words, n, out_cap, (num, n, pingpong))
