"""Every way of getting an image or a buffer into the PL and the results back, timed phase by phase.

>>> import labkit, numpy as np
>>> ol = labkit.open_board()
>>> image = np.arange(70 * 80, dtype=np.uint32).reshape(70, 80)
>>> result = labkit.transfer.run("array_slice", ol, image)
>>> print(result)                     # phases, three kinds of time, verified or not

========================  =====================================================================
method                    what the PS does
========================  =====================================================================
``per_word``              ``MMIO.write`` for every pixel in a Python loop (the forum's slow way)
``array_slice``           one ``mmio.array[a:b] = image`` assignment into the kernel's memory
``packed16``              16-bit pixels packed two per 32-bit word with numpy views, one slice
``dma``                   ``pynq.allocate`` buffers and the AXI DMA, one transfer at a time
``dma_pingpong``          double buffering (store started first, two buffers alternating)
``dram_master``           an m_axi kernel reading DDR by physical address, with its syncs
========================  =====================================================================

The MMIO methods and ``dram_master`` send a ``rows x cols`` image and get its per-row sums
back (kernels ``mmio_rowsum`` and ``ddr_rowsum``); the DMA methods send a buffer of 32-bit
words through ``pp_load_compute`` + ``pp_store`` and get every word plus ``op`` back.  Every
result is checked against the kernel's numpy twin.

Each run returns a :class:`TransferResult`: the bytes moved, and for every phase (write,
pack, sync, start, wait, read back) its **measured** time on this computer; on the simulated
board also the **modelled** PL/bus time and the **estimated** time on the simulated board's
profile (see :mod:`labkit.timing` and :mod:`labkit.estimate`).
"""

from __future__ import annotations

import contextlib
import gc
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

import numpy as np
import pynq
from pynq import MMIO, allocate

from . import estimate
from .board import board_label
from .errors import LabkitError, LabTimeoutError
from .kernels import ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store
from .sim.device import SimDevice
from .timing import format_seconds, this_machine

__all__ = ["METHODS", "TransferError", "Phase", "TransferResult", "Transfer", "run", "make_input",
           "DEFAULT_CHUNK_WORDS", "DEFAULT_OP", "default_chunks_per_store"]

DEFAULT_CHUNK_WORDS = pp_load_compute.MAX_N  #: words per pp_load_compute call (its BRAM buffer)
DEFAULT_OP = 1  #: what pp_load_compute adds to every word
#: most compute outputs one store call gathers by default: the seed's 10 (fewer if pp_store's
#: buffer holds fewer); each store call costs the PS a DMA transfer and two waits, so gathering
#: several outputs per call takes that cost off most loads
MAX_CHUNKS_PER_STORE = 10
WAIT_TIMEOUT_S = 30.0

CTRL, AP_START, AP_DONE = 0x00, 0x1, 0x2
IMAGE_OFFSET = mmio_rowsum.MEMORIES["image"]["offset"]
ROWSUM_OFFSET = mmio_rowsum.MEMORIES["rowsum"]["offset"]
WORD = 4


class TransferError(LabkitError, ValueError):
    """The data or the overlay does not fit the transfer method asked for."""


# -- results ---------------------------------------------------------------------------------------

@dataclass
class Phase:
    """One phase of a transfer, summed over its repetitions (tiles, chunks)."""

    name: str
    measured: float = 0.0  #: seconds, wall clock on this computer
    modelled: float | None = None  #: PL/bus seconds (simulated board only)
    estimated: float | None = None  #: seconds on the simulated board's profile (simulated board only)
    count: int = 0  #: how many times the phase ran


@dataclass
class TransferResult:
    """What one transfer did and how long each part took (three kinds of time, kept apart)."""

    method: str
    kernel: str
    board: str
    simulated: bool
    pace: str | None
    machine: str  #: the computer that measured
    nbytes_in: int  #: payload the PS sent to the PL
    nbytes_out: int  #: results the PS got back
    phases: list[Phase]
    verified: bool
    mismatches: int
    output: np.ndarray = field(repr=False)
    intervals: list = field(default_factory=list, repr=False)  #: modelled PL intervals (simulated board)
    options: dict[str, Any] = field(default_factory=dict)
    scale: str = ""  #: how the board estimate scaled Python time

    @property
    def measured(self) -> float:
        return sum(p.measured for p in self.phases)

    @property
    def modelled(self) -> float | None:
        return None if not self.simulated else sum(p.modelled or 0.0 for p in self.phases)

    @property
    def estimated(self) -> float | None:
        return None if not self.simulated else sum(p.estimated or 0.0 for p in self.phases)

    @property
    def mb_per_s(self) -> float:
        """Measured MB/s of the input payload (10**6 bytes per second)."""
        return self.nbytes_in / self.measured / 1e6 if self.measured else float("inf")

    @property
    def estimated_mb_per_s(self) -> float | None:
        est = self.estimated
        return None if not est else self.nbytes_in / est / 1e6

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(f"{self.method} has no phase {name!r}; phases: {[p.name for p in self.phases]}")

    def table(self) -> str:
        where = f"measured on {self.machine}"
        head = (f"{self.method} ({self.kernel}) on {self.board}: {self.nbytes_in:,} bytes in, "
                f"{self.nbytes_out:,} out, verified: {self.verified}")
        lines = [head, f"{'phase':<12}{'measured':>14}{'modelled PL/bus':>18}{'estimated board':>18}"]
        for p in self.phases + [Phase("TOTAL", self.measured, self.modelled, self.estimated, 1)]:
            mod = format_seconds(p.modelled) if p.modelled is not None else "-"
            est = format_seconds(p.estimated) if p.estimated is not None else "-"
            lines.append(f"{p.name:<12}{format_seconds(p.measured):>14}{mod:>18}{est:>18}")
        lines.append(f"({where}; modelled/estimated: simulated board only)" if self.simulated else f"({where})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.table())

    def to_dict(self) -> dict[str, Any]:
        """A flat record for CSV/JSON (labkit.bench)."""
        record: dict[str, Any] = {
            "method": self.method, "kernel": self.kernel, "board": self.board, "simulated": self.simulated,
            "pace": self.pace, "machine": self.machine, "nbytes_in": self.nbytes_in,
            "nbytes_out": self.nbytes_out, "verified": self.verified, "mismatches": self.mismatches,
            "measured_s": self.measured, "modelled_s": self.modelled, "estimated_s": self.estimated,
            "mb_per_s": self.mb_per_s, "estimated_mb_per_s": self.estimated_mb_per_s,
        }
        for p in self.phases:
            key = p.name.replace(" ", "_")
            record[f"{key}_measured_s"] = p.measured
            record[f"{key}_modelled_s"] = p.modelled
            record[f"{key}_estimated_s"] = p.estimated
        record.update({f"opt_{k}": v for k, v in self.options.items()})
        return record


# -- timing a run: measured, modelled, estimated -------------------------------------------------------

class _Recorder:
    """Times the phases of one run and, on the simulated board, estimates the board's time.

    During the run it only takes timestamps and counter snapshots (cheap: the PS's loop must
    not slow down); :meth:`finish` turns them into phases.  The board estimate runs on a virtual
    board clock: PS phases advance it by their Python part scaled to the board's CPU, bulk
    copies at the board's copy bandwidth, plus the modelled bus time.  Time spent inside the
    simulation itself (its IP models, the PL work it computes) is not the student's Python and
    is left out.  A wait advances the clock to whichever comes last: one status read, or the end
    of the PL work it waits for -- counted from the end of the start phase that launched it,
    since a board's PS launches it later than ours does.
    """

    def __init__(self, overlay: pynq.Overlay) -> None:
        self.device = overlay.device
        self.sim = isinstance(self.device, SimDevice)
        self.fabric = self.device.fabric if self.sim else None
        self.probe = estimate.SimProbe(self.fabric) if self.sim else None
        self.mark = self.fabric.timeline.mark() if self.sim else 0
        self.t0 = time.perf_counter()
        self.events: list[tuple] = []

    def _snapshot(self) -> tuple[int, int, float, int]:
        return self.probe.snapshot() if self.sim else (0, 0, 0.0, 0)

    def ps(self, name: str, copy_bytes: int = 0, launch: bool = False) -> "_Span":
        """``with rec.ps(...)``: work the PS does -- Python, bus accesses, ``copy_bytes`` of copying."""
        return _Span(self, ("ps", name, copy_bytes, launch))

    def start(self, name: str = "start") -> "_Span":
        """``with rec.start():`` a PS phase that launches PL work the next :meth:`wait` waits for."""
        return _Span(self, ("ps", name, 0, True))

    def wait(self, name: str, resources: list[str]) -> "_Span":
        """``with rec.wait(...)``: the PS polls until the PL work on ``resources`` launched by the last
        start phase is done."""
        return _Span(self, ("wait", name, resources))

    def finish(self) -> tuple[list[Phase], list]:
        """The phases (in order of first appearance) and the modelled intervals of the run."""
        phases: dict[str, Phase] = {}
        intervals = self.fabric.timeline.booked_since(self.mark) if self.sim else []
        if self.sim:
            # Booking number of intervals[0] (the timeline keeps only its newest intervals).
            base = self.fabric.timeline.mark() - len(intervals)
            scale = self.probe.cpu_scale(self.device.profile)  # calibrated after the run began
            virtual = launched_virtual = 0.0
            launched_host, launch_mark = self.t0, self.mark  # when the last start phase began
            counted: set[int] = set()  # intervals a wait already accounted for
        for (kind, name, *info), start, end, before, after in self.events:
            elapsed = end - start
            phase = phases.setdefault(name, Phase(name, 0.0, 0.0 if self.sim else None,
                                                  0.0 if self.sim else None))
            phase.measured += elapsed
            phase.count += 1
            if not self.sim:
                continue
            python = self.probe.python_s(elapsed, before, after)
            if kind == "ps":
                copy_bytes, launch = info
                bus = self.probe.bus_s(before, after)
                est = estimate.ps_stage_s(scale, python, bus, copy_bytes, numpy_calls=1 if copy_bytes else 0)
                phase.modelled += bus
                phase.estimated += est
                virtual += est
                if launch:
                    launched_virtual = virtual
                    launched_host, launch_mark = start, before[3]
            else:
                (resources,) = info
                wanted = set(resources)
                # The PL work booked since the launch, up to the wait's end, not counted by an earlier
                # wait: booking order, not modelled times (in host pace the model runs ahead of the clock).
                booked = intervals[max(0, launch_mark - base): max(0, after[3] - base)]
                work = [iv for iv in booked if iv.resource in wanted and id(iv) not in counted]
                counted.update(id(iv) for iv in work)
                # Work that began before the launch (a store started earlier) counts from the launch.
                span = max(0.0, max(iv.end for iv in work) - max(launched_host, min(iv.start for iv in work))
                           ) if work else 0.0
                one_poll = scale.ps(python / max(1, after[0] - before[0])) + self.fabric.gp_access_s(reads=1)
                end = max(virtual + one_poll, launched_virtual + span)
                phase.modelled += span
                phase.estimated += end - virtual
                virtual = end
        self.scale = scale if self.sim else None
        return list(phases.values()), intervals


class _Span:
    """One timed stretch of a run (a class, not a generator: the PS's loop must stay cheap)."""

    __slots__ = ("rec", "what", "start", "before")

    def __init__(self, rec: _Recorder, what: tuple) -> None:
        self.rec = rec
        self.what = what

    def __enter__(self) -> None:
        self.before = self.rec._snapshot()
        self.start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        end = time.perf_counter()
        self.rec.events.append((self.what, self.start, end, self.before, self.rec._snapshot()))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a run is timed, as :mod:`timeit` does.

    A full collection walks every object of the process (tens of milliseconds with pynq,
    OpenCV and the widgets loaded) and would land in whichever phase happened to be running.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _wait_done(ip_mmio: MMIO, what: str, timeout: float = WAIT_TIMEOUT_S) -> None:
    """Poll ap_done like the forum's loop, but give up after ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while not ip_mmio.read(CTRL) & AP_DONE:
        if time.perf_counter() > deadline:
            raise LabTimeoutError(f"{what} did not raise ap_done within {timeout} s: is its input stream "
                                  "fed and its output drained (a consumer started)?")


# -- the methods ----------------------------------------------------------------------------------------

class _Method:
    """One transfer method: checks its input, prepares buffers once, runs, knows the right answer."""

    name: ClassVar[str]
    kernel: ClassVar[str]
    ips: ClassVar[tuple[str, ...]]
    summary: ClassVar[str]

    def __init__(self, overlay: pynq.Overlay, data: np.ndarray, options: dict[str, Any]) -> None:
        missing = [ip for ip in self.ips if ip not in overlay.ip_dict]
        if missing:
            raise TransferError(f"{self.name} needs the IP {', '.join(missing)}, which this overlay does not have: "
                                "load the lab's overlay with labkit.open_board()")
        self.overlay = overlay
        self.options = options
        self.data = self.check(data)

    def mmio(self, ip: str) -> MMIO:
        entry = self.overlay.ip_dict[ip]
        return MMIO(entry["phys_addr"], entry["addr_range"], device=self.overlay.device)

    def check(self, data: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def expected(self) -> np.ndarray:
        raise NotImplementedError

    def run(self, rec: _Recorder) -> np.ndarray:
        raise NotImplementedError

    @property
    def nbytes_in(self) -> int:
        return int(self.data.nbytes)

    def close(self) -> None:
        """Free buffers (default: none)."""


def _as_array(data: Any, name: str) -> np.ndarray:
    if not isinstance(data, np.ndarray):
        raise TransferError(f"{name} needs a numpy array, got {type(data).__name__}")
    return data


def _image(data: Any, method: str, dtype: type, max_value: int) -> np.ndarray:
    image = _as_array(data, method)
    if image.ndim != 2:
        raise TransferError(f"{method} sends an image: a 2-D array (rows, cols), got shape {image.shape}")
    if image.dtype != dtype:
        raise TransferError(f"{method} sends {np.dtype(dtype).name} pixels, got {image.dtype}; convert with "
                            f".astype(np.{np.dtype(dtype).name}) if the values fit")
    if image.size == 0:
        raise TransferError(f"{method} got an empty image {image.shape}")
    if int(image.max()) > max_value:
        raise TransferError(f"{method}: pixel values must be at most {max_value}, found {int(image.max())}")
    return np.ascontiguousarray(image)


class _RowsumOverMmio(_Method):
    """Shared by the three MMIO methods: tiles of the image through mmio_rowsum's memory."""

    kernel = "mmio_rowsum"
    ips = ("mmio_rowsum",)
    pack16 = 0

    def check(self, data: np.ndarray) -> np.ndarray:
        image = _image(data, self.name, np.uint32 if not self.pack16 else np.uint16,
                       0xFFFF_FFFF if not self.pack16 else 0xFFFF)
        per_word = 2 if self.pack16 else 1
        if image.shape[1] > mmio_rowsum.MAX_WORDS * per_word:
            raise TransferError(f"{self.name}: a row of {image.shape[1]} pixels does not fit the kernel's "
                                f"{mmio_rowsum.MAX_WORDS}-word input memory")
        return image

    def tiles(self) -> Iterator[np.ndarray]:
        """Row bands that fit the kernel's memories (at most 128 rows, 8192 words)."""
        rows, cols = self.data.shape
        per_word = 2 if self.pack16 else 1
        band = max(1, min(mmio_rowsum.MAX_ROWS, (mmio_rowsum.MAX_WORDS * per_word) // cols))
        for r in range(0, rows, band):
            yield self.data[r: r + band]

    def expected(self) -> np.ndarray:
        return self.data.astype(np.uint64).sum(axis=1).astype(np.uint32)

    @property
    def nbytes_out(self) -> int:
        return self.data.shape[0] * WORD

    def run(self, rec: _Recorder) -> np.ndarray:
        m = self.mmio("mmio_rowsum")
        out = []
        for tile in self.tiles():
            self.write(rec, m, tile)
            rows, cols = tile.shape
            with rec.start():
                m.write(mmio_rowsum.ROWS_OFFSET, rows)
                m.write(mmio_rowsum.COLS_OFFSET, cols)
                m.write(mmio_rowsum.PACK16_OFFSET, self.pack16)
                m.write(CTRL, AP_START)
            with rec.wait("wait", ["mmio_rowsum"]):
                _wait_done(m, "mmio_rowsum")
            out.append(self.read_back(rec, m, rows))
        return np.concatenate(out)

    def write(self, rec: _Recorder, m: MMIO, tile: np.ndarray) -> None:
        with rec.ps("write"):
            m.array[IMAGE_OFFSET // WORD: IMAGE_OFFSET // WORD + tile.size] = tile.ravel()

    def read_back(self, rec: _Recorder, m: MMIO, rows: int) -> np.ndarray:
        with rec.ps("read back"):
            return m.array[ROWSUM_OFFSET // WORD: ROWSUM_OFFSET // WORD + rows].copy()


class PerWord(_RowsumOverMmio):
    name = "per_word"
    summary = "MMIO.write per pixel in a Python loop (the forum's code)"

    def write(self, rec: _Recorder, m: MMIO, tile: np.ndarray) -> None:
        image_in = tile.tolist()  # the forum's image: plain Python ints (pynq's write wants int or bytes)
        PL = m
        with rec.ps("write"):
            write_address = IMAGE_OFFSET
            for i in range(len(image_in)):
                for j in range(len(image_in[0])):
                    PL.write(write_address, image_in[i][j])
                    write_address = write_address + 4

    def read_back(self, rec: _Recorder, m: MMIO, rows: int) -> np.ndarray:
        with rec.ps("read back"):
            return np.array([m.read(ROWSUM_OFFSET + WORD * r) for r in range(rows)], dtype=np.uint32)


class ArraySlice(_RowsumOverMmio):
    name = "array_slice"
    summary = "one mmio.array[a:b] slice assignment (index = byte offset // 4)"


class Packed16(_RowsumOverMmio):
    name = "packed16"
    summary = "16-bit pixels packed two per word with numpy views, one slice"
    pack16 = 1

    def write(self, rec: _Recorder, m: MMIO, tile: np.ndarray) -> None:
        with rec.ps("pack"):
            pixels = tile.reshape(-1)
            if pixels.size % 2:  # the kernel only reads rows*cols pixels: the padding is never summed
                pixels = np.append(pixels, np.uint16(0))
            words = pixels.view(np.uint32)  # no bit shifts: little-endian words hold pixel pairs
        with rec.ps("write"):
            m.array[IMAGE_OFFSET // WORD: IMAGE_OFFSET // WORD + words.size] = words

    @property
    def nbytes_in(self) -> int:
        return -(-self.data.size // 2) * WORD  # what crosses the bus: half the words


class DramMaster(_Method):
    name = "dram_master"
    summary = "the kernel reads DDR itself by physical address (ZynqNet style)"
    kernel = "ddr_rowsum"
    ips = ("ddr_rowsum",)

    def check(self, data: np.ndarray) -> np.ndarray:
        return _image(data, self.name, np.uint32, 0xFFFF_FFFF)

    def __init__(self, overlay, data, options) -> None:
        super().__init__(overlay, data, options)
        cacheable = bool(options.get("cacheable", True))
        self.sync = bool(options.get("sync", True))
        rows, _ = self.data.shape
        self.src = allocate(self.data.shape, np.uint32, cacheable=cacheable, target=overlay.device)
        self.dst = allocate(rows, np.uint32, cacheable=cacheable, target=overlay.device)

    def expected(self) -> np.ndarray:
        return ddr_rowsum.rowsums(self.data)

    @property
    def nbytes_out(self) -> int:
        return self.data.shape[0] * WORD

    def run(self, rec: _Recorder) -> np.ndarray:
        m = self.mmio("ddr_rowsum")
        rows, cols = self.data.shape
        with rec.ps("write", copy_bytes=self.data.nbytes):
            self.src[:] = self.data
        if self.sync:
            with rec.ps("sync"):
                self.src.sync_to_device()  # the kernel reads DDR, not the CPU's cache
                self.dst.sync_to_device()  # no dirty lines of dst may be written back over the results
        with rec.start():
            regs = ddr_rowsum.REGISTERS
            m.write(regs["src_1"]["address_offset"], self.src.physical_address & 0xFFFF_FFFF)
            m.write(regs["src_2"]["address_offset"], self.src.physical_address >> 32)
            m.write(regs["dst_1"]["address_offset"], self.dst.physical_address & 0xFFFF_FFFF)
            m.write(regs["dst_2"]["address_offset"], self.dst.physical_address >> 32)
            m.write(regs["rows"]["address_offset"], rows)
            m.write(regs["cols"]["address_offset"], cols)
            m.write(CTRL, AP_START)
        with rec.wait("wait", ["ddr_rowsum"]):
            _wait_done(m, "ddr_rowsum")
        if self.sync:
            with rec.ps("sync back"):
                self.dst.sync_from_device()  # drop the CPU's stale cached copy of the results
        with rec.ps("read back", copy_bytes=self.dst.nbytes):
            return np.array(self.dst)

    def close(self) -> None:
        self.src.freebuffer()
        self.dst.freebuffer()


class _PingPongKernels(_Method):
    """Shared by the DMA methods: words through pp_load_compute + pp_store and the dma_pp DMA."""

    kernel = "pp_load_compute + pp_store"
    ips = ("dma_pp", "pp_load_compute", "pp_store")
    PL_RESOURCES = ["dma_pp.mm2s", "dma_pp.s2mm", "pp_load_compute.read", "pp_load_compute.compute",
                    "pp_store.read", "pp_store.write", "pp_load_compute.stall", "pp_store.stall"]
    _results: np.ndarray | None = None  # where _read_back copies the results (allocated on first use)

    def check(self, data: np.ndarray) -> np.ndarray:
        words = _as_array(data, self.name)
        if words.dtype != np.uint32:
            raise TransferError(f"{self.name} sends 32-bit words (uint32), got {words.dtype}")
        words = np.ascontiguousarray(words).reshape(-1)
        if words.size == 0:
            raise TransferError(f"{self.name} got no data")
        self.chunk = int(self.options.get("chunk_words", DEFAULT_CHUNK_WORDS))
        if not 1 <= self.chunk <= min(pp_load_compute.MAX_N, pp_store.MAX_N):
            raise TransferError(f"chunk_words must be 1..{pp_load_compute.MAX_N} (the kernels' BRAM buffers), "
                                f"got {self.chunk}")
        self.op = int(self.options.get("op", DEFAULT_OP)) & 0xFFFF_FFFF
        return words

    def expected(self) -> np.ndarray:
        return self.data + np.uint32(self.op)

    @property
    def nbytes_out(self) -> int:
        return self.data.nbytes

    def _dma(self):
        dma = self.overlay.dma_pp
        limit = dma.buffer_max_size
        return dma, limit

    def _read_back(self, rec: _Recorder, results: np.ndarray) -> np.ndarray:
        """Copy the results out of the DMA buffer into an array allocated once per transfer.

        A new array every run would make the timing depend on the operating system mapping
        fresh pages (milliseconds for a few MiB on a busy machine), not on the copy.
        """
        if self._results is None:
            self._results = np.empty(results.shape, np.uint32)
        with rec.ps("read back", copy_bytes=results.nbytes):
            np.copyto(self._results, results)
        return self._results

    def _configure(self, lc: MMIO, st: MMIO, n: int, pingpong: int) -> None:
        lc.write(pp_load_compute.N_OFFSET, n)
        lc.write(pp_load_compute.OP_OFFSET, self.op)
        lc.write(pp_load_compute.PINGPONG_OFFSET, pingpong)
        st.write(pp_store.N_OFFSET, n)
        st.write(pp_store.PINGPONG_OFFSET, pingpong)


class Dma(_PingPongKernels):
    name = "dma"
    summary = "pynq.allocate + AXI DMA, one transfer at a time (load, then compute)"

    def __init__(self, overlay, data, options) -> None:
        super().__init__(overlay, data, options)
        self.inbuf = allocate(self.data.size, np.uint32, target=overlay.device)
        self.outbuf = allocate(self.data.size, np.uint32, target=overlay.device)

    def run(self, rec: _Recorder) -> np.ndarray:
        dma, limit = self._dma()
        lc, st = self.mmio("pp_load_compute"), self.mmio("pp_store")
        with rec.ps("write", copy_bytes=self.data.nbytes):
            self.inbuf[:] = self.data
        with rec.ps("sync"):
            self.inbuf.sync_to_device()
        configured = None
        for offset in range(0, self.data.size, self.chunk):
            n = min(self.chunk, self.data.size - offset)
            with rec.start():
                if configured != n:
                    self._configure(lc, st, n, pingpong=0)
                    configured = n
                st.write(CTRL, AP_START)  # the store first: the compute's output needs somewhere to go
                dma.recvchannel.transfer(self.outbuf, WORD * offset, WORD * n)
                lc.write(CTRL, AP_START)
                dma.sendchannel.transfer(self.inbuf, WORD * offset, WORD * n)
            with rec.wait("wait", self.PL_RESOURCES):
                dma.sendchannel.wait()
                _wait_done(lc, "pp_load_compute")
                dma.recvchannel.wait()
                _wait_done(st, "pp_store")
        return self._read_back(rec, self.outbuf)

    def close(self) -> None:
        self.inbuf.freebuffer()
        self.outbuf.freebuffer()


class DmaPingPong(_PingPongKernels):
    """The double-buffer seed's schedule, as its PS code runs it.

    The store (SB) is launched first; it gathers ``k`` compute outputs per call (the seed: 10;
    option ``chunks_per_store``, by default :func:`default_chunks_per_store`).  Then ``k`` times:
    start load+compute (LB + COM) and wait for it, while one DMA transfer feeds every load.  Both
    kernels work on two buffers, so each is one call behind: the compute of call ``j`` sends the chunk loaded by
    call ``j-1``, and store call ``b`` sends what store call ``b-1`` gathered.  Extra calls at
    the end, fed with zeros, push the last results out.
    """

    name = "dma_pingpong"
    summary = "double buffering: store started first, load and compute overlap on two buffers"

    def check(self, data: np.ndarray) -> np.ndarray:
        words = super().check(data)
        self.chunk = min(self.chunk, words.size)
        if words.size % self.chunk:
            raise TransferError(f"dma_pingpong needs equal chunks: {words.size} words is not a multiple of "
                                f"chunk_words={self.chunk} (every call computes on the previous call's chunk)")
        return words

    def __init__(self, overlay, data, options) -> None:
        super().__init__(overlay, data, options)
        n = self.chunk
        chunks = self.data.size // n
        align = overlay.dma_pp.recvchannel._align
        per_store = options.get("chunks_per_store")
        per_store = default_chunks_per_store(n, chunks, align) if per_store is None else int(per_store)
        if not 1 <= per_store * n <= pp_store.MAX_N:
            raise TransferError(f"chunks_per_store x chunk_words must fit pp_store's buffer of {pp_store.MAX_N} "
                                f"words, got {per_store} x {n}")
        if (per_store * n * WORD) % align:
            raise TransferError(f"each store call's output ({per_store} x {n} words) must be a multiple of "
                                f"{align} bytes: the DMA's 64-bit memory port has no "
                                "realignment engine, so every transfer must start on an aligned address")
        self.per_store = per_store  #: k: compute outputs gathered per store call (the seed: 10)
        self.blocks = -(-(chunks + 1) // self.per_store)  # one compute output of lag, rounded up to blocks
        self.loads = (self.blocks + 1) * self.per_store  # plus one store call of lag
        self.inbuf = allocate((self.loads, n), np.uint32, target=overlay.device)
        self.outbuf = allocate((self.blocks, self.per_store * n), np.uint32, target=overlay.device)
        if self.inbuf.nbytes > overlay.dma_pp.buffer_max_size:
            raise TransferError(f"dma_pingpong sends everything in one DMA transfer: {self.inbuf.nbytes} bytes "
                                f"is more than the DMA's {overlay.dma_pp.buffer_max_size}")

    def run(self, rec: _Recorder) -> np.ndarray:
        dma, _ = self._dma()
        lc, st = self.mmio("pp_load_compute"), self.mmio("pp_store")
        n, k, chunks = self.chunk, self.per_store, self.data.size // self.chunk
        with rec.ps("write", copy_bytes=self.data.nbytes):
            self.inbuf[:chunks] = self.data.reshape(chunks, n)
            self.inbuf[chunks:] = 0  # fed to the extra calls that push the last results out
        with rec.ps("sync"):
            self.inbuf.sync_to_device()
        with rec.start():
            self._configure(lc, st, n, pingpong=1)
            st.write(pp_store.N_OFFSET, k * n)
            dma.sendchannel.transfer(self.inbuf)  # one transfer feeds every load, n words per call
        call = 0
        for b in range(self.blocks + 1):
            with rec.start():
                st.write(pp_store.NUM_OFFSET, b)
                st.write(CTRL, AP_START)  # the store first: load/compute need somewhere to send
                # Store call b sends block b-1 (call 0 its still empty buffer, overwritten later).
                dma.recvchannel.transfer(self.outbuf[max(b - 1, 0)])
            for _ in range(k):
                with rec.start():
                    lc.write(pp_load_compute.NUM_OFFSET, call)
                    lc.write(CTRL, AP_START)
                with rec.wait("wait", self.PL_RESOURCES):
                    _wait_done(lc, "pp_load_compute")
                call += 1
            with rec.wait("wait", self.PL_RESOURCES):
                dma.recvchannel.wait()
                _wait_done(st, "pp_store")
        with rec.wait("wait", self.PL_RESOURCES):
            dma.sendchannel.wait()
        return self._read_back(rec, self.outbuf.reshape(-1)[n: n + self.data.size])

    def close(self) -> None:
        self.inbuf.freebuffer()
        self.outbuf.freebuffer()


def default_chunks_per_store(chunk_words: int, chunks: int, align: int) -> int:
    """How many compute outputs ``dma_pingpong`` gathers per store call unless told.

    As many as pp_store's buffer holds, at most :data:`MAX_CHUNKS_PER_STORE` (the seed's 10),
    and such that every store transfer stays ``align``-byte aligned.  The last store call's
    ``k`` loads carry no data (they only push the results out), so ``k`` also stays at most a
    sixteenth of the chunks: short transfers use one output per store call.
    """
    most = max(1, min(MAX_CHUNKS_PER_STORE, pp_store.MAX_N // chunk_words, chunks // 16))
    for k in range(most, 0, -1):
        if (k * chunk_words * WORD) % align == 0:
            return k
    return most  # no k aligns (an odd chunk_words on a 64-bit port): the caller's check explains


METHODS: dict[str, type[_Method]] = {cls.name: cls for cls in (PerWord, ArraySlice, Packed16, Dma, DmaPingPong,
                                                                 DramMaster)}


# -- running -------------------------------------------------------------------------------------------------

def _method(name: str) -> type[_Method]:
    try:
        return METHODS[name]
    except KeyError:
        raise TransferError(f"no transfer method {name!r}; methods: {', '.join(METHODS)}") from None


class Transfer:
    """One method prepared for one input: buffers allocated once, :meth:`run` as often as you like.

    Use it as a context manager (or call :meth:`close`) to give the buffers back.
    """

    def __init__(self, method: str, overlay: pynq.Overlay, data: np.ndarray, **options: Any) -> None:
        if overlay is None or not isinstance(overlay, pynq.Overlay):
            raise TransferError("transfer methods need the lab's overlay: ol = labkit.open_board()")
        if not overlay.is_loaded():
            raise TransferError("this overlay is not loaded in the PL any more (another one was downloaded)")
        self.method = _method(method)(overlay, data, options)
        self.overlay = overlay
        self._expected = self.method.expected()

    def run(self, verify: bool = True) -> TransferResult:
        rec = _Recorder(self.overlay)
        with _collector_paused():
            output = self.method.run(rec)
        output = np.array(output)  # this run's own copy: methods may reuse their result arrays
        phases, intervals = rec.finish()
        mismatches = int(np.count_nonzero(output != self._expected)) if verify else -1
        board, simulated, pace = board_label(self.overlay.device)
        return TransferResult(
            method=self.method.name, kernel=self.method.kernel, board=board, simulated=simulated,
            pace=pace, machine=this_machine(),
            nbytes_in=self.method.nbytes_in, nbytes_out=self.method.nbytes_out,
            phases=phases, verified=verify and mismatches == 0, mismatches=mismatches,
            output=output, intervals=intervals, options=dict(self.method.options),
            scale=str(rec.scale) if simulated else "")

    def close(self) -> None:
        self.method.close()

    def __enter__(self) -> "Transfer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run(method: str, overlay: pynq.Overlay, data: np.ndarray, *, verify: bool = True,
        **options: Any) -> TransferResult:
    """Send ``data`` to the PL with ``method``, get the results back, time and check everything.

    Options: ``chunk_words`` and ``op`` for the DMA methods; ``chunks_per_store`` for
    ``dma_pingpong``; ``sync`` and ``cacheable`` for ``dram_master`` (``sync=False`` shows what a
    forgotten cache flush does).
    """
    with Transfer(method, overlay, data, **options) as transfer:
        return transfer.run(verify=verify)


def make_input(method: str, nbytes: int, seed: int = 0, cols: int = 80) -> np.ndarray:
    """Input data of about ``nbytes`` for ``method`` (what ``labkit.bench`` sweeps over).

    Image methods get a ``rows x cols`` image (rows rounded to fit ``nbytes``), the DMA methods a
    buffer of whole 32-bit words (a whole number of chunks for ``dma_pingpong``).
    """
    cls = _method(method)
    rng = np.random.default_rng(seed)
    if issubclass(cls, _PingPongKernels):
        words = max(1, nbytes // WORD)
        if cls is DmaPingPong:  # whole chunks, and an even number of words (8-byte aligned DMA transfers)
            words = max(2, words - words % (DEFAULT_CHUNK_WORDS if words > DEFAULT_CHUNK_WORDS else 2))
        return rng.integers(0, 1 << 32, size=words, dtype=np.uint64).astype(np.uint32)
    if cls is Packed16:
        rows = max(1, nbytes // (2 * cols))
        return rng.integers(0, 1 << 16, size=(rows, cols), dtype=np.uint32).astype(np.uint16)
    rows = max(1, nbytes // (WORD * cols))
    return rng.integers(0, 1 << 16, size=(rows, cols), dtype=np.uint32)
