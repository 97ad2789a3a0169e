"""Numpy twins, cycle models and register maps of the PL kernels in ``hls/``.

Each kernel has one module with the same name as its folder in ``hls/``:

=================== ======================================================
``mmio_rowsum``     input through AXI-Lite memories (notebooks 01, 02)
``pp_load_compute`` double buffering: load + compute (notebook 04)
``pp_store``        double buffering: store (notebook 04)
``ddr_rowsum``      an AXI master reading DDR by physical address (05)
``cnn_classifier``  a digit classifier on AXI-Stream (notebook 06)
=================== ======================================================

and every module offers

* ``model`` (or ``Model``): the kernel in plain numpy, bit for bit equal to
  the C++ (the tests in ``tests/hls`` check it);
* ``cycles`` (and ``stage_cycles`` for the streaming kernels): the modelled
  PL cycles, trip count x II + pipeline depth + overheads, at 100 MHz;
* ``REGISTERS``: the AXI-Lite register map in pynq's ``ip_dict`` format,
  ``VLNV``, ``ADDR_RANGE`` and the names of the kernel's bus ports.

The C ABI of the compiled kernels is in :mod:`labkit.kernels._bridge`.
"""

from . import cnn_classifier, ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store
from ._common import DEFAULT_CLOCK_HZ, KernelArgumentError, cycles_to_seconds

__all__ = [
    "cnn_classifier",
    "ddr_rowsum",
    "mmio_rowsum",
    "pp_load_compute",
    "pp_store",
    "KERNELS",
    "DEFAULT_CLOCK_HZ",
    "KernelArgumentError",
    "cycles_to_seconds",
]

#: kernel name -> module, e.g. ``KERNELS["mmio_rowsum"].VLNV``
KERNELS = {module.KERNEL: module for module in (mmio_rowsum, pp_load_compute, pp_store, ddr_rowsum,
                                                   cnn_classifier)}
