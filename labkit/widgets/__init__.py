"""Live charts of the lab (ipywidgets + bqplot).

>>> from labkit.widgets import TransferRace, BandwidthPlot, PingPongTimeline
>>> race = TransferRace(["per_word", "array_slice", "dma"]); race        # in a notebook

Every widget says which kind of time it shows: *measured* (on which machine), *modelled*
(the simulated board's PL/bus model) or *estimated* (a board profile).  Figures are built
once and then updated trait by trait, at most about ten times a second.

Names are looked up lazily (importing ``labkit.widgets`` does not import bqplot): each
public name maps to the submodule that defines it in :data:`_EXPORTS`.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> submodule of labkit.widgets that defines it.  To add a widget: write
# labkit/widgets/<module>.py and add ONE line here.
_EXPORTS: dict[str, str] = {
    # bench and transfer views (labkit.bench)
    "TransferRace": "race",
    "BandwidthPlot": "bandwidth",
    "PingPongTimeline": "timeline",
    "SweepProgress": "progress",
    "ClassifierView": "classifier",  # camera -> preprocessing -> class scores
    "PowerMonitor": "power",  # PMBus rails / the sim's power model
    "WatchdogView": "watchdog",  # labkit.watchdog, live
    "StreamTraceChart": "trace",  # the simulated board's stream trace (what an ILA shows)
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}; widgets: {', '.join(_EXPORTS)}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # next time without __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = list(_EXPORTS)
