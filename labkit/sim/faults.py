"""Fault injection: make a simulated IP fail the way real hardware does, validated against the loaded design.

Lessons about debugging and recovery need the forum's classic failures on demand.  A notebook
arms one through the public seam::

    faults = labkit.probe(ol).faults                  # the seam: never ol.device.fabric
    faults.kinds("dma_pp")                            # what this IP can be made to do
    faults.inject("dma_pp", "bus_error")              # the next DMA transfer gets SLVERR
    faults.inject("pp_store", "drop_tlast")           # the next output stream has no TLAST
    faults.inject("cnn_classifier", "hang", rate=0.01, seed=1, persistent=True)  # 1 % of calls hang

The injector checks every request against the design in the PL: an unknown IP, a kind that IP
cannot have, or a fault that can never fire (``drop_tlast`` on a kernel with no output stream,
``rate=0``) is refused with a message listing what is possible.  A fault fires once by default;
``count=n`` fires it n times; only ``persistent=True`` keeps it armed until :meth:`clear`.

The IP models ask :meth:`FaultInjector.take` at the moment the failure would happen; each
model's docstring says which kinds it honours and what the board then shows (with sources).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.errors import DesignError

if TYPE_CHECKING:
    from .fabric import Fabric

__all__ = ["Fault", "FaultKind", "FaultInjector", "FAULT_KINDS", "CATALOGUE", "FaultError"]

PG021 = "Xilinx PG021 AXI DMA v7.1"
FORUM = "discuss.pynq.io"


class FaultError(DesignError):
    """A fault request that does not fit the loaded design (unknown IP, impossible kind, can never fire)."""


@dataclass(frozen=True)
class FaultKind:
    """One kind of failure: which IPs can have it, what the board does, what pynq shows, and the source."""

    name: str
    ip_type: str  #: "axi_dma" or "hls_kernel"
    what: str  #: what happens in the PL
    outcome: str  #: what the PS (pynq's driver, the status registers) shows
    source: str
    params: tuple[str, ...] = ()  #: keyword parameters the kind accepts


_KINDS: tuple[FaultKind, ...] = (
    FaultKind("bus_error", "axi_dma",
              "the next transfer's memory access gets an AXI SLVERR response",
              "DMASR.DMASlvErr and Halted; pynq's wait() checks Halted first and says 'DMA channel not started' "
              "(its 'DMA Slave Error' message is never reached): only the decoded DMASR names the error",
              f"{PG021}, DMASR bit 5 (DMASlvErr): the channel halts, only a reset restarts it"),
    FaultKind("decode_error", "axi_dma",
              "the next transfer's address decodes to no slave (AXI DECERR)",
              "DMASR.DMADecErr and Halted; pynq's wait() says 'DMA channel not started' (Halted is checked "
              "first); the decoded DMASR names the decode error",
              f"{PG021}, DMASR bit 6 (DMADecErr)"),
    FaultKind("hang", "axi_dma",
              "the next transfer starts and never completes (an interconnect that never answers)",
              "DMASR.Idle stays 0: channel.wait() never returns; labkit's timed waits raise LabTimeoutError",
              f"{FORUM}: 'DMA wait() never returns' threads"),
    FaultKind("hp32", "axi_dma",
              "the HP port the DMA reads through is configured 32-bit while the DMA's memory side is 64-bit: "
              "every odd-index 32-bit word of what MM2S reads arrives as zero",
              "no error at all: the data is silently wrong (every second word 0)",
              f"{FORUM}: 'DMA returns zeros in every other word' (PCW_S_AXI_HPn_DATA_WIDTH = 32 with a 64-bit DMA)"),
    FaultKind("tkeep_low", "axi_dma",
              "TKEEP of the stream into S2MM is tied low: every beat carries no valid byte",
              "S2MM never writes a byte and never goes idle (a hang); DMASR shows neither Idle nor an error",
              f"{FORUM}: S2MM hangs when TKEEP is left unconnected (tied to 0) on a custom AXI-Stream IP; "
              f"{PG021}: S2MM writes only the bytes TKEEP marks valid"),
    FaultKind("hang", "hls_kernel",
              "the next call starts and never raises ap_done (a deadlocked dataflow, a stuck stream)",
              "ap_ctrl stays 0x1 (ap_start held, not done); it takes its input but sends nothing: the S2MM "
              "that receives its output is never idle",
              "Vitis HLS UG1399, ap_ctrl_hs: ap_done is raised only when the function returns"),
    FaultKind("slow", "hls_kernel",
              "the next call takes `factor` times its modelled cycles (a thermal throttle, a slower clock "
              "domain, a congested memory port)",
              "correct results, late: only a timing check (the watchdog) sees it", "the paper's "
              "'System Failure Recovery': execution time against a calibrated threshold", ("factor",)),
    FaultKind("drop_tlast", "hls_kernel",
              "the next call's output stream never asserts TLAST on its last beat",
              "the S2MM channel that receives it never goes idle (it waits for TLAST)",
              f"{PG021}, S2MM: a transfer ends at TLAST; {FORUM}: 'DMA stuck, S2MM never idle' threads"),
    FaultKind("wrong_result", "hls_kernel",
              "the next call's output stream carries one corrupted 32-bit word (a silent data error)",
              "nothing in any status register: only an output check finds it", "the paper's recovery routine "
              "(an anomaly is any wrong behaviour of a kernel call)", ("word",)),
)
#: every kind, keyed "ip type:kind" ("axi_dma:hang", "hls_kernel:slow" ...)
CATALOGUE: dict[str, FaultKind] = {f"{k.ip_type}:{k.name}": k for k in _KINDS}
CATALOGUE_BY_TYPE: dict[tuple[str, str], FaultKind] = {(k.ip_type, k.name): k for k in _KINDS}
#: every kind name with one line (the first IP type's) each
FAULT_KINDS: dict[str, str] = {}
for _k in _KINDS:
    FAULT_KINDS.setdefault(_k.name, _k.what)


@dataclass
class Fault:
    """One armed fault."""

    ip: str
    kind: str
    remaining: int | None  #: how many more times it fires; None = until cleared (persistent)
    params: dict[str, Any] = field(default_factory=dict)
    rate: float | None = None  #: fire at each event with this probability (None: at every event)
    rng: random.Random | None = field(default=None, repr=False)
    fired: int = 0


class FaultInjector:
    """Armed faults of one simulated board, checked against the design in its PL."""

    def __init__(self, fabric: "Fabric | None" = None) -> None:
        self._fabric = fabric
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        #: (perf_counter time, ip, kind) of the most recent faults that fired
        self.log: deque[tuple[float, str, str]] = deque(maxlen=1000)

    # -- what is possible ---------------------------------------------------------------------------
    def _ips(self) -> dict[str, Any]:
        if self._fabric is None:
            return {}
        return self._fabric.ips

    def kinds(self, ip: str) -> dict[str, str]:
        """The fault kinds IP ``ip`` of the loaded design can have, with what each does."""
        model = self._model(ip)
        return {name: CATALOGUE_BY_TYPE[(model.fault_type, name)].what for name in model.fault_kinds()}

    def about(self, ip: str, kind: str) -> FaultKind:
        """What a ``kind`` fault on ``ip`` does, what pynq then shows, and the source."""
        model = self._model(ip)
        try:
            return CATALOGUE_BY_TYPE[(model.fault_type, kind)]
        except KeyError:
            raise FaultError(f"{ip} cannot have a {kind!r} fault; it can have: {', '.join(model.fault_kinds())}") \
                from None

    def possible(self) -> dict[str, list[str]]:
        """Every IP of the loaded design that can fail, and its kinds."""
        return {name: list(m.fault_kinds()) for name, m in sorted(self._ips().items()) if m.fault_kinds()}

    def _model(self, ip: str) -> Any:
        ips = self._ips()
        if not ips:
            raise FaultError("no design is loaded in the PL: open the overlay (ol = labkit.open_board()) first")
        if ip not in ips:
            raise FaultError(f"no IP called {ip!r} in the loaded design. IPs that can fail: {self._listing()}")
        return ips[ip]

    def _listing(self) -> str:
        return "; ".join(f"{name} ({', '.join(kinds)})" for name, kinds in self.possible().items())

    # -- arming -------------------------------------------------------------------------------------
    def inject(self, ip: str, kind: str, count: int | None = 1, *, rate: float | None = None,
               seed: int | None = None, persistent: bool = False, **params: Any) -> Fault:
        """Arm ``kind`` on IP ``ip``.

        Args:
            count: how many times it fires (default once).
            rate: fire at each matching event with this probability (0 < rate <= 1) instead of every time.
            seed: seed of the ``rate`` draw, for a repeatable run.
            persistent: keep it armed until :meth:`clear` (``count`` is then ignored).
            params: the kind's parameters (``slow``: ``factor``; ``wrong_result``: ``word``).

        Raises:
            FaultError: unknown IP, a kind that IP cannot have, a parameter it does not take, or a fault
                that could never fire -- the message lists what is possible.
        """
        model = self._model(ip)
        kinds = model.fault_kinds()
        if kind not in kinds:
            raise FaultError(f"{ip} ({model.fault_type}) cannot have a {kind!r} fault; it can have: "
                             + ", ".join(f"{k} ({CATALOGUE_BY_TYPE[(model.fault_type, k)].what})" for k in kinds)
                             + f". Other IPs: {self._listing()}")
        spec = CATALOGUE_BY_TYPE[(model.fault_type, kind)]
        unknown = sorted(set(params) - set(spec.params))
        if unknown:
            allowed = ", ".join(spec.params) or "none"
            raise FaultError(f"{kind} takes no parameter {', '.join(unknown)}; its parameters: {allowed}")
        why_never = model.fault_never_fires(kind, params)
        if why_never:
            raise FaultError(f"a {kind!r} fault on {ip} could never fire: {why_never}")
        if rate is not None and (isinstance(rate, bool) or not 0 < rate <= 1):
            raise FaultError(f"rate must be a probability in (0, 1] (a rate of 0 never fires), got {rate!r}")
        if persistent:
            count = None
        elif count is None or isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FaultError(f"count must be a positive whole number of events, got {count!r}; a fault armed "
                             "until cleared needs persistent=True (and faults.clear() afterwards)")
        fault = Fault(ip, kind, count, dict(params), rate, random.Random(seed) if rate is not None else None)
        with self._lock:
            self._armed.append(fault)
        return fault

    def take(self, ip: str, kind: str) -> Fault | None:
        """Called by the IP models: if a ``kind`` fault on ``ip`` fires now, consume one shot and return it."""
        if not self._armed:  # the healthy path: no lock, no search
            return None
        with self._lock:
            for fault in self._armed:
                if fault.ip == ip and fault.kind == kind:
                    if fault.rng is not None and fault.rng.random() >= fault.rate:
                        return None
                    fault.fired += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._armed.remove(fault)
                    self.log.append((time.perf_counter(), ip, kind))
                    return fault
        return None

    def armed(self) -> list[Fault]:
        """The faults still armed."""
        with self._lock:
            return list(self._armed)

    def clear(self, ip: str | None = None) -> None:
        """Disarm every fault (or every fault of one IP)."""
        with self._lock:
            self._armed = [f for f in self._armed if ip is not None and f.ip != ip]

    def __repr__(self) -> str:
        armed = ", ".join(f"{f.ip}:{f.kind}" for f in self.armed()) or "nothing armed"
        return f"<FaultInjector {armed}>"

