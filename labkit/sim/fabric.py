"""The simulated programmable logic: address map, PL clock, pacing, the PL's worker thread, counters.

Pacing -- how modelled time meets the wall clock:

``board`` (default)
    Status bits never report completion before the modelled end of the work,
    and every AXI-Lite access costs its modelled GP-port time on the wall
    clock.  Python timings of the PL then look like a board's, even on a fast
    laptop: per-word MMIO loops stay slow, DMA waits take as long as the DMA.
``host``
    As fast as this computer computes.  Modelled times are still recorded (and
    shown, labelled as modelled), they just do not hold anything back.

Choose with ``open_board(pace=...)`` or the environment variable
``LABKIT_SIM_PACE``; change later with ``board.pace = "host"``.

The data work of the PL -- DMA copies, the kernels' compiled C++ -- runs on a
worker thread with the GIL released, so the PL really runs while Python goes
on, as on a board.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict, deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from labkit.errors import AddressError, DesignError

from .faults import FaultInjector
from .kernel_behaviour import KernelBehaviours
from .ip import model_for
from .ip.base import IPModel, RegStats
from .ip.slcr import SlcrModel
from .ip.zu_clocks import ZuClocks
from .memory import ContiguousPool
from labkit.boards.profiles import BoardProfile
from .streams import StreamChannel
from .timeline import Timeline
from .trace import StreamTrace
from .worker import PLTask, PLWorker

if TYPE_CHECKING:
    from .designs import Design

__all__ = ["Fabric", "PACES", "FabricCounters", "pace_from_env", "BLOCK_ACCESSES"]

PACES = ("board", "host")
PACE_ENV = "LABKIT_SIM_PACE"

# Layout of the config array _regwindow.c reads (and adds its totals to) on every access.
_CFG_BOARD_PACE, _CFG_READ_NS, _CFG_WRITE_NS, _CFG_TOTAL_READS, _CFG_TOTAL_WRITES, _CFG_HOOK_S, _CFG_SPIN_S = range(7)
_CFG_BLOCKS_DONE, _CFG_BLOCK_OPEN, _CFG_RING = 7, 8, 11  # access blocks: count, open, ring of seconds
_CFG_RING_LEN = 256
# interleaved speed reference (_regwindow.c CFG_REF_EVERY): every how many blocks, seconds spent, ring
_CFG_REF_EVERY = _CFG_RING + _CFG_RING_LEN
_CFG_REF_S, _CFG_REF_RING = _CFG_REF_EVERY + 1, _CFG_REF_EVERY + 2
_CFG_LEN = _CFG_REF_RING + _CFG_RING_LEN
CONFIG_LEN = _CFG_LEN  #: length of a register window's config array (make_window's ``config``)
#: accesses per timed block (_regwindow.c BLOCK_ACCESSES): see Fabric.access_block_seconds
BLOCK_ACCESSES = 64
# Longest one status read holds the PS for the PL's data work.  If the work is not done by then the
# status reads "busy" and the caller polls again: the caller's own (labkit: always timed) wait decides
# when to give up, not a read buried in the simulation.
SETTLE_TIMEOUT_S = 0.2


def pace_from_env(default: str = "board") -> str:
    """The pace ``LABKIT_SIM_PACE`` asks for, or ``default``."""
    return check_pace(os.environ.get(PACE_ENV, default))


def check_pace(pace: str) -> str:
    if pace not in PACES:
        raise ValueError(f"pace must be one of {PACES}, got {pace!r} "
                         f"(from the pace argument or ${PACE_ENV})")
    return pace


@dataclass(frozen=True)
class FabricCounters:
    """A snapshot of everything the fabric counts (the power model and the widgets read these)."""

    time: float  #: perf_counter time of the snapshot
    clock_hz: float  #: PL clock (FCLK0)
    gp: dict[str, RegStats]  #: AXI-Lite traffic per IP
    port_bytes: dict[str, dict[str, int]]  #: bytes per memory/stream port and direction
    busy_cycles: dict[str, int]  #: cycles booked per timeline resource

    def gp_words(self) -> tuple[int, int]:
        """Total AXI-Lite (reads, writes) in words over the GP port."""
        return (sum(s.read_words for s in self.gp.values()), sum(s.write_words for s in self.gp.values()))


class Fabric:
    """Address map, clock, pacing and bookkeeping of one simulated board."""

    def __init__(self, profile: BoardProfile, pool: ContiguousPool, pace: str = "board") -> None:
        self.profile = profile
        self.pool = pool
        self.timeline = Timeline()
        self.faults = FaultInjector(self)
        self.trace = StreamTrace()  #: the last stream transfers, "what an ILA would show"
        self.reconfigurations = 0  #: full-bitstream downloads so far
        #: behaviours of users' HLS kernels registered on this board (kernel_behaviour.py)
        self.kernel_behaviours = KernelBehaviours()
        # Shared with every register window (see _regwindow.c and the _CFG_* layout above).
        self._gp_config = np.zeros(_CFG_LEN, dtype=np.float64)
        self._ps_config = np.zeros(_CFG_LEN, dtype=np.float64)  # PS-internal registers cost no GP-port time
        self._gp_config[_CFG_REF_RING:] = np.nan
        #: the GP windows' speed reference: [callable or None] (see :meth:`speed_reference`)
        self._reference: list = [None]
        self._reference_users = 0
        self._pace = check_pace(pace)
        self._lock = threading.RLock()
        self._worker: PLWorker | None = PLWorker()  # None once closed, until the next PL work
        self._port_bytes: dict[str, dict[str, int]] = defaultdict(lambda: {"read": 0, "write": 0})
        #: seconds spent in the simulation's own bookkeeping outside the register hooks (syncs)
        self.extra_overhead_s = 0.0
        #: things a board would not tell you but the simulation can: (perf_counter time, ip, message)
        self.events: deque[tuple[float, str, str]] = deque(maxlen=1000)
        # The PS clock registers pynq's Clocks drives: the SLCR on Zynq-7000, CRL/CRF_APB on UltraScale+.
        self._ps_ips: list[IPModel]
        if profile.family == "zynq_us+":
            self.slcr = ZuClocks(self, profile)
            self._ps_ips = list(self.slcr.models)
        else:
            self.slcr = SlcrModel(self, profile)
            self._ps_ips = [self.slcr]
        self.ips: dict[str, IPModel] = {}
        self.design: "Design | None" = None
        self.streams: dict[tuple[str, str], tuple[str, str]] = {}  #: (ip, out port) -> (ip, in port)
        self._channels_out: dict[tuple[str, str], StreamChannel] = {}
        self._channels_in: dict[tuple[str, str], StreamChannel] = {}
        self._map: list[tuple[int, int, IPModel]] = []
        self._rebuild_map()
        self.clock_changed()

    # -- clock and pace ---------------------------------------------------------------
    @property
    def clock_hz(self) -> float:
        """The PL clock (FCLK_CLK0) as the SLCR registers set it."""
        return self._clock_hz

    def clock_changed(self) -> None:
        """Recompute what depends on the PL clock (called when FPGA0_CLK_CTRL is written)."""
        hz = self._clock_hz = self.slcr.fclk_mhz(0) * 1e6
        if hz <= 0:
            raise DesignError("FCLK0 is stopped (a divisor of 0 in FPGA0_CLK_CTRL): the PL has no clock")
        self._gp_config[_CFG_READ_NS] = float(self.profile.gp_read_cycles) / hz * 1e9
        self._gp_config[_CFG_WRITE_NS] = float(self.profile.gp_write_cycles) / hz * 1e9
        self._gp_config[_CFG_BOARD_PACE] = 1.0 if self._pace == "board" else 0.0

    @property
    def pace(self) -> str:
        return self._pace

    @pace.setter
    def pace(self, value: str) -> None:
        self._pace = check_pace(value)
        self.clock_changed()

    @property
    def board_pace(self) -> bool:
        return self._pace == "board"

    def cycles_to_s(self, cycles: float) -> float:
        return cycles / self.clock_hz

    def gp_access_s(self, reads: int = 0, writes: int = 0) -> float:
        """Modelled GP-port time of ``reads`` loads and ``writes`` stores (seconds)."""
        return (reads * float(self.profile.gp_read_cycles) + writes * float(self.profile.gp_write_cycles)) / self.clock_hz

    # -- the design in the PL -------------------------------------------------------------
    def load_design(self, design: "Design") -> None:
        """Configure the PL with ``design`` (what downloading a bitstream does).

        IPs that keep their name, type and address keep their model object, so
        MMIO objects made before a re-download still reach them (as on a board,
        where they are plain addresses); their registers are reset all the same.
        """
        with self._lock:
            old = self.ips
            new: dict[str, IPModel] = {}
            for spec in design.ips:
                cls = model_for(spec)
                previous = old.get(spec.name)
                if previous is not None and type(previous) is cls and previous.spec == spec:
                    previous.shutdown()
                    previous.reset()
                    new[spec.name] = previous
                else:
                    if previous is not None:
                        previous.shutdown()
                    new[spec.name] = cls(self, spec)
            for name, model in old.items():
                if name not in new:
                    model.shutdown()
            self.timeline.abort_after(self.now())
            self.ips = new
            self.design = design
            self.streams = dict(design.streams)
            self._rebuild_map()
            self._build_channels()
            for model in new.values():
                model.connect()

    def _rebuild_map(self) -> None:
        ips = self._ps_ips + [ip for ip in self.ips.values() if ip.base is not None]
        self._map = sorted(((ip.base, ip.base + ip.addr_range, ip) for ip in ips), key=lambda e: e[0])
        for (lo1, hi1, a), (lo2, _, b) in zip(self._map, self._map[1:]):
            if lo2 < hi1:
                raise DesignError(f"{a.name} [{lo1:#x}, {hi1:#x}) overlaps {b.name} at {lo2:#x}")

    def ip(self, name: str) -> IPModel:
        """The model of IP ``name`` in the loaded design."""
        try:
            return self.ips[name]
        except KeyError:
            loaded = ", ".join(sorted(self.ips)) or "none: no design is loaded"
            raise DesignError(f"no IP called {name!r} in the PL; IPs: {loaded}") from None

    def _build_channels(self) -> None:
        """One StreamChannel per master->slave connection, folding FIFOs, register slices and width
        converters (``passthrough`` models) into the channel: their depth adds up, a converter lets
        the two ends have different widths."""
        self._channels_out: dict[tuple[str, str], StreamChannel] = {}
        self._channels_in: dict[tuple[str, str], StreamChannel] = {}
        for (src, sport), (dst, dport) in self.streams.items():
            if src not in self.ips or dst not in self.ips:
                continue  # an end that is not modelled (listed at load): nothing can flow there
            if getattr(self.ips[src], "passthrough", None):
                continue  # reached by following the connection into the FIFO
            depth = 0
            converts = False
            tlast = True
            seen = {(src, sport)}
            while getattr(self.ips[dst], "passthrough", None):
                fifo = self.ips[dst]
                depth += fifo.depth
                converts = converts or getattr(fifo, "converts_width", False)
                tlast = tlast and getattr(fifo, "passes_tlast", True)
                out = (dst, fifo.passthrough[dport])
                if out in seen or out not in self.streams:
                    raise DesignError(f"stream from {src}.{sport} ends inside {dst} (its {out[1]} is unconnected)")
                seen.add(out)
                dst, dport = self.streams[out]
                if dst not in self.ips:
                    break
            if dst not in self.ips:
                continue
            width = self.ips[dst].stream_width(dport)
            if self.ips[src].stream_width(sport) != width and not converts:
                raise DesignError(f"{src}.{sport} is {8 * self.ips[src].stream_width(sport)} bits wide but "
                                  f"{dst}.{dport} is {8 * width}: Vivado would need a width converter")
            channel = StreamChannel(self, f"{src}.{sport}->{dst}.{dport}", width, depth, converts=converts,
                                    drops_tlast=not tlast)
            self._channels_out[(src, sport)] = channel
            self._channels_in[(dst, dport)] = channel

    def stream_channels(self) -> list[StreamChannel]:
        """Every stream channel of the loaded design."""
        return list(self._channels_out.values())

    def channel_out(self, ip: str, port: str) -> StreamChannel | None:
        """The channel a master stream port writes to (None if unconnected)."""
        return self._channels_out.get((ip, port))

    def channel_in(self, ip: str, port: str) -> StreamChannel | None:
        """The channel a slave stream port reads from (None if unconnected)."""
        return self._channels_in.get((ip, port))

    # -- what pynq's MMIO reaches ------------------------------------------------------------
    def mmap(self, base: int, length: int) -> np.ndarray:
        """A register window onto ``[base, base+length)``: it must lie inside one IP."""
        for lo, hi, ip in self._map:
            if lo <= base < hi:
                if base + length > hi:
                    raise AddressError(
                        f"MMIO({base:#x}, {length:#x}) runs past the end of {ip.name} "
                        f"[{lo:#x}, {hi:#x}); use a length of at most {hi - base:#x}")
                if ip in self._ps_ips:
                    return ip.window(base - lo, length, self._ps_config)
                return ip.window(base - lo, length, self._gp_config, self._reference)
        listing = "; ".join(f"{ip.name} [{lo:#x}, {hi:#x})" for lo, hi, ip in self._map)
        state = "" if self.ips else " (no overlay is loaded in the PL yet: open_board() loads one)"
        raise AddressError(f"no IP at physical address {base:#x}{state}. On a board this access would hang "
                           f"the bus. Mapped: {listing}")

    # -- the PL's worker thread and its timeline -----------------------------------------------
    def now(self) -> float:
        return time.perf_counter()

    def settle(self, task: PLTask | None) -> bool:
        """Is the data work behind a status bit done?  Called whenever the PS reads such a bit.

        The PS thread runs the queued data work itself rather than wait for the worker thread
        (see worker.py): the answer is then exact, and costs only the work itself.
        """
        if task is None or task.done():
            return True
        if task.worker.help_until(task, SETTLE_TIMEOUT_S):
            return True
        self.log_event("pl", f"data work not done after {SETTLE_TIMEOUT_S} s: the status reads busy")
        return False

    def submit(self, ops: list[tuple], keep: tuple = ()) -> PLTask:
        """Queue PL data work (memcpy / kernel-call operations, see worker.py), in order."""
        worker = self._worker
        if worker is None:  # closed: start the worker again (see close())
            with self._lock:
                if self._worker is None:
                    self._worker = PLWorker()
                worker = self._worker
        return worker.submit(ops, keep)

    # -- counters ----------------------------------------------------------------------------------
    def log_event(self, ip: str, message: str) -> None:
        """Note something that happened in the PL that no status register shows."""
        self.events.append((self.now(), ip, message))

    def count_bytes(self, port: str, direction: str, nbytes: int) -> None:
        """Record ``nbytes`` moved on ``port`` ("read" or "write" as seen from the PL master)."""
        self._port_bytes[port][direction] += int(nbytes)

    @property
    def sim_overhead_s(self) -> float:
        """Seconds the PS thread spent inside the simulation (IP models, PL work it ran itself, syncs,
        stalls for modelled bus time): not the student's Python, so labkit.estimate keeps it out of
        board estimates.  A bus stall counts what it cost this thread, not the stretches it was
        descheduled meanwhile (_regwindow.c, ``account``): estimates take those out of the measured
        time separately, from the thread's CPU time (labkit.estimate.SimProbe)."""
        return float(self._gp_config[_CFG_HOOK_S] + self._ps_config[_CFG_HOOK_S] + self._gp_config[_CFG_SPIN_S]
                     + self._ps_config[_CFG_SPIN_S] + self._gp_config[_CFG_REF_S]) + self.extra_overhead_s

    @property
    def model_work_s(self) -> float:
        """Of :attr:`sim_overhead_s`, the simulation's own computing only (no bus-time stalls), the
        estimate's speed reference included (:meth:`speed_reference`)."""
        return float(self._gp_config[_CFG_HOOK_S] + self._ps_config[_CFG_HOOK_S] + self._gp_config[_CFG_REF_S]) \
            + self.extra_overhead_s

    def gp_totals(self) -> tuple[int, int]:
        """AXI-Lite (reads, writes) in words over the GP port so far: a cheap :meth:`counters` subset."""
        return int(self._gp_config[_CFG_TOTAL_READS]), int(self._gp_config[_CFG_TOTAL_WRITES])

    def access_blocks(self) -> int:
        """How many blocks of :data:`BLOCK_ACCESSES` GP-port accesses in a row were timed so far."""
        return int(self._gp_config[_CFG_BLOCKS_DONE])

    def access_count(self) -> int:
        """GP-port accesses (calls, not words) so far, as the access blocks count them: block ``j``
        runs from access ``j * BLOCK_ACCESSES + 1`` to the start of access ``(j + 1) * BLOCK_ACCESSES + 1``."""
        return int(self._gp_config[_CFG_BLOCKS_DONE]) * BLOCK_ACCESSES + int(self._gp_config[_CFG_BLOCK_OPEN])

    def access_block_seconds(self, first: int, end: int) -> np.ndarray:
        """Wall seconds of the timed access blocks ``first .. end-1`` (:meth:`access_blocks` numbers),
        the simulation's own time taken off; those the ring no longer holds are left out.

        Each block is :data:`BLOCK_ACCESSES` iterations of whatever loop made the accesses: a loop of
        register accesses gives many samples of one iteration's cost, which labkit.estimate
        uses to leave out bursts of other programs' work (see _regwindow.c, ``time_block``).
        """
        return self._block_ring(_CFG_RING, first, end)

    def access_block_references(self, first: int, end: int) -> np.ndarray:
        """Seconds of the speed reference timed right after each of the blocks ``first .. end-1``
        (NaN after a block without one), aligned with :meth:`access_block_seconds`."""
        return self._block_ring(_CFG_REF_RING, first, end)

    def _block_ring(self, ring: int, first: int, end: int) -> np.ndarray:
        """Entries ``first .. end-1`` (block numbers) of the ring at ``ring``, those it still holds."""
        done = self.access_blocks()
        first = max(first, done - _CFG_RING_LEN, 0)
        end = min(end, done)
        if end <= first:
            return np.empty(0)
        return self._gp_config[ring + np.arange(first, end) % _CFG_RING_LEN].copy()

    @contextmanager
    def speed_reference(self, reference: Callable[[], float], every: int) -> Iterator[None]:
        """``with fabric.speed_reference(f, every):`` after every ``every``-th block of GP-port
        accesses, call ``f()`` (a few iterations of a reference loop; it returns their seconds) and
        keep its answer beside the block's (:meth:`access_block_references`).  Its time counts as
        the simulation's (:attr:`sim_overhead_s`).  Nested uses share the first one's ``f``."""
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number of blocks >= 1, got {every!r}")
        with self._lock:
            if self._reference_users == 0:
                self._reference[0] = reference
                self._gp_config[_CFG_REF_EVERY] = every
            self._reference_users += 1
        try:
            yield
        finally:
            with self._lock:
                self._reference_users -= 1
                if self._reference_users == 0:
                    self._gp_config[_CFG_REF_EVERY] = 0.0
                    self._reference[0] = None

    def counters(self) -> FabricCounters:
        ips = self._ps_ips + list(self.ips.values())
        return FabricCounters(
            time=self.now(),
            clock_hz=self.clock_hz,
            gp={ip.name: ip.stats for ip in ips},
            # list() copies the items in one step: another thread may count a new port meanwhile
            port_bytes={k: dict(v) for k, v in list(self._port_bytes.items())},
            busy_cycles=self.timeline.busy_cycles(),
        )

    def close(self) -> None:
        """Stop the IPs' work in flight and the worker thread; the next PL work starts a new worker.

        Closing releases what the host holds, it does not take the board away: pynq 3.1's
        ``Overlay.free()`` closes the device, and the next ``Overlay`` on it must work, as it does
        on a board.  Work queued before the close is dropped, as a PL reconfiguration would.
        """
        for model in self.ips.values():
            model.shutdown()
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown()
