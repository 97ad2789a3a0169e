"""Models of the IP blocks a simulated design can contain, looked up by VLNV.

Each model lives in its own module and names the VLNV it implements; the registry below maps a
design's VLNVs to them.  A model's ``vlnv`` may leave out the version
(``xilinx.com:ip:axis_dwidth_converter``): it then models every version of that IP.  The
catalogue also knows IP that needs no model at all (interconnects, smartconnects, resets:
transparent), and that any other HLS kernel (``<vendor>:hls:<name>``) gets the generic user-kernel
model, whose behaviour the user gives (``labkit.sim.kernels_user``).  Kernel models share the
ap_ctrl_hs register block in ``hls_kernel.py``.
"""

from __future__ import annotations

import importlib

from labkit.errors import DesignError

from .base import IPModel, IPSpec

__all__ = ["model_class", "model_for", "catalogue_entry", "IPModel", "TRANSPARENT"]

# Modules that define models; imported on first use so that importing labkit.sim stays cheap.
_MODEL_MODULES = ("axi_dma", "axis_fifo", "kernels", "axis_infra", "axi_gpio", "axi_bram")
_registry: dict[str, type[IPModel]] = {}

#: IP the simulated board passes through: AXI interconnects and smartconnects route AXI-Lite and
#: AXI-MM by address (the fabric's address map does that), resets and constants carry no data.
TRANSPARENT = frozenset({
    "xilinx.com:ip:smartconnect", "xilinx.com:ip:axi_interconnect", "xilinx.com:ip:axi_crossbar",
    "xilinx.com:ip:axi_protocol_converter", "xilinx.com:ip:axi_clock_converter",
    "xilinx.com:ip:axi_dwidth_converter", "xilinx.com:ip:axi_register_slice", "xilinx.com:ip:proc_sys_reset",
    "xilinx.com:ip:xlconstant", "xilinx.com:ip:xlconcat", "xilinx.com:ip:xlslice", "xilinx.com:ip:clk_wiz",
    "xilinx.com:ip:util_vector_logic", "xilinx.com:ip:util_ds_buf", "xilinx.com:ip:blk_mem_gen",
})


def _unversioned(vlnv: str) -> str:
    return ":".join(vlnv.split(":")[:3])


def _load() -> None:
    for module in _MODEL_MODULES:
        mod = importlib.import_module(f"{__name__}.{module}")
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, IPModel) and obj.vlnv and obj.__module__ == mod.__name__:
                _registry[obj.vlnv] = obj
                _registry.setdefault(_unversioned(obj.vlnv), obj)  # other versions of the same IP


def catalogue_entry(vlnv: str) -> "type[IPModel] | str | None":
    """The model class for ``vlnv``, ``"transparent"``, ``"hls"`` (user kernel), or None (not simulated)."""
    if not _registry:
        _load()
    if vlnv in _registry:
        return _registry[vlnv]
    base = _unversioned(vlnv)
    if base in _registry:
        return _registry[base]
    if base in TRANSPARENT:
        return "transparent"
    if len(vlnv.split(":")) >= 3 and vlnv.split(":")[1] == "hls":
        return "hls"
    return None


def model_class(vlnv: str) -> type[IPModel]:
    """The model class for IP type ``vlnv`` (the lab's own designs: every IP must be modelled)."""
    entry = catalogue_entry(vlnv)
    if isinstance(entry, type):
        return entry
    if entry == "hls":
        from .user_kernel import UserHlsKernelModel

        return UserHlsKernelModel
    known = ", ".join(sorted(_registry))
    raise DesignError(f"the simulated board has no model of {vlnv}; it models: {known}")


def model_for(spec: IPSpec) -> type[IPModel]:
    """The model class for one IP of a loaded design (unmodelled IP get a model that refuses access)."""
    if spec.unmodelled:
        from .unmodelled import UnmodelledIP

        return UnmodelledIP
    return model_class(spec.vlnv)
