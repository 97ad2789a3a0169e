"""Fault injection: make a simulated IP misbehave the way real hardware does.

Lessons about recovery need failures on demand: a kernel that
never raises ap_done, a DMA that gets a bus error, a stream whose producer
never asserts TLAST.  IP models ask the injector at the points where such a
failure would happen; a test or a notebook arms it::

    faults = labkit.probe(ol).faults                  # the seam: never ol.device.fabric
    faults.inject("dma_pp", "bus_error")              # next DMA transfer fails
    faults.inject("pp_store", "drop_tlast")           # next output stream has no TLAST
    faults.inject("mmio_rowsum", "hang", count=None)  # hangs until cleared

Which kinds a model honours is listed in its docstring.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fault", "FaultInjector", "FAULT_KINDS"]

FAULT_KINDS = {
    "hang": "the IP starts but never finishes (status never reports done/idle)",
    "bus_error": "the IP's next memory access gets an AXI error response (DMA: slave error)",
    "decode_error": "the IP's next memory access hits an unmapped address (DMA: decode error)",
    "drop_tlast": "the IP's next output stream never asserts TLAST",
}


@dataclass
class Fault:
    ip: str
    kind: str
    remaining: int | None  #: how many more times it fires; None = until cleared
    params: dict[str, Any] = field(default_factory=dict)


class FaultInjector:
    """Armed faults, consumed by the IP models when the matching event happens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self.log: list[tuple[float, str, str]] = []  #: (perf_counter time, ip, kind) of every fault that fired

    def inject(self, ip: str, kind: str, count: int | None = 1, **params: Any) -> Fault:
        """Arm ``kind`` on IP ``ip`` for the next ``count`` events (``None``: until :meth:`clear`)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose one of: " +
                             ", ".join(f"{k} ({v})" for k, v in FAULT_KINDS.items()))
        if count is not None and count < 1:
            raise ValueError(f"count must be a positive number of events or None, got {count}")
        fault = Fault(ip, kind, count, params)
        with self._lock:
            self._armed.append(fault)
        return fault

    def take(self, ip: str, kind: str) -> Fault | None:
        """If a ``kind`` fault is armed on ``ip``, consume one shot of it and return it."""
        with self._lock:
            for fault in self._armed:
                if fault.ip == ip and fault.kind == kind:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._armed.remove(fault)
                    self.log.append((time.perf_counter(), ip, kind))
                    return fault
        return None

    def armed(self) -> list[Fault]:
        with self._lock:
            return list(self._armed)

    def clear(self, ip: str | None = None) -> None:
        """Disarm every fault (or every fault of one IP)."""
        with self._lock:
            self._armed = [f for f in self._armed if ip is not None and f.ip != ip]
