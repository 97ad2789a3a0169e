"""Models of the IP blocks a simulated design can contain, looked up by VLNV.

Each model lives in its own module and names the VLNV it implements; the
registry below maps a design's VLNVs to them.  Kernel models share the
ap_ctrl_hs register block in ``hls_kernel.py``.
"""

from __future__ import annotations

import importlib

from labkit.errors import DesignError

from .base import IPModel

__all__ = ["model_class", "IPModel"]

# Modules that define models; imported on first use so that importing labkit.sim stays cheap.
_MODEL_MODULES = ("axi_dma", "axis_fifo", "kernels")
_registry: dict[str, type[IPModel]] = {}


def _load() -> None:
    for module in _MODEL_MODULES:
        mod = importlib.import_module(f"{__name__}.{module}")
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, IPModel) and obj.vlnv:
                _registry[obj.vlnv] = obj


def model_class(vlnv: str) -> type[IPModel]:
    """The model class for IP type ``vlnv``."""
    if not _registry:
        _load()
    try:
        return _registry[vlnv]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise DesignError(f"the simulated board has no model of {vlnv}; it models: {known}") from None
