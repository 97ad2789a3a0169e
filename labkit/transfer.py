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

import numbers
from typing import Any, Callable, ClassVar, Iterator

import numpy as np
import pynq
from pynq import MMIO, allocate

from ._pynq_compat import dma_alignment
from .classroom.records import autosave
from .errors import LabkitError
from .kernels import ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store
from .recovery import recover
from .results import Phase, TransferResult
from .run import DEFAULT_TIMEOUT_S, Run, check_timeout, wait_ap_done, wait_dma
from .status import AP_START, CTRL_OFFSET as CTRL
from .timing import this_machine

__all__ = ["METHODS", "TransferError", "Phase", "TransferResult", "Transfer", "run", "make_input",
           "DEFAULT_CHUNK_WORDS", "DEFAULT_OP", "default_chunks_per_store", "DEFAULT_TIMEOUT_S"]

DEFAULT_CHUNK_WORDS = pp_load_compute.MAX_N  #: words per pp_load_compute call (its BRAM buffer)
DEFAULT_OP = 1  #: what pp_load_compute adds to every word
#: most compute outputs one store call gathers by default: the blog post's 10 (fewer if pp_store's
#: buffer holds fewer); each store call costs the PS a DMA transfer and two waits, so gathering
#: several outputs per call takes that cost off most loads
MAX_CHUNKS_PER_STORE = 10
IMAGE_OFFSET = mmio_rowsum.MEMORIES["image"]["offset"]
ROWSUM_OFFSET = mmio_rowsum.MEMORIES["rowsum"]["offset"]
WORD = 4


class TransferError(LabkitError, ValueError):
    """The data or the overlay does not fit the transfer method asked for."""


# -- the methods ----------------------------------------------------------------------------------------

class _Method:
    """One transfer method: checks its input, prepares buffers once, runs, knows the right answer."""

    name: ClassVar[str]
    kernel: ClassVar[str]
    ips: ClassVar[tuple[str, ...]]
    summary: ClassVar[str]
    OPTIONS: ClassVar[frozenset[str]] = frozenset()  #: keyword options the method understands

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

    def run(self, rec: Run) -> np.ndarray:
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

    def run(self, rec: Run) -> np.ndarray:
        m = self.mmio("mmio_rowsum")
        out = []
        rows_done, rows_total = 0, self.data.shape[0]
        for tile in self.tiles():
            self.write(rec, m, tile)
            rows, cols = tile.shape
            with rec.start():
                m.write(mmio_rowsum.ROWS_OFFSET, rows)
                m.write(mmio_rowsum.COLS_OFFSET, cols)
                m.write(mmio_rowsum.PACK16_OFFSET, self.pack16)
                m.write(CTRL, AP_START)
            with rec.wait("wait", ["mmio_rowsum"]):
                wait_ap_done(m, "mmio_rowsum", rec.timeout)
            out.append(self.read_back(rec, m, rows))
            rows_done += rows
            rec.report(self.nbytes_in * rows_done // rows_total, self.nbytes_in)
        return np.concatenate(out)

    def write(self, rec: Run, m: MMIO, tile: np.ndarray) -> None:
        with rec.ps("write"):
            m.array[IMAGE_OFFSET // WORD: IMAGE_OFFSET // WORD + tile.size] = tile.ravel()

    def read_back(self, rec: Run, m: MMIO, rows: int) -> np.ndarray:
        with rec.ps("read back"):
            return m.array[ROWSUM_OFFSET // WORD: ROWSUM_OFFSET // WORD + rows].copy()


class PerWord(_RowsumOverMmio):
    name = "per_word"
    summary = "MMIO.write per pixel in a Python loop (the forum's code)"

    def write(self, rec: Run, m: MMIO, tile: np.ndarray) -> None:
        image_in = tile.tolist()  # the forum's image: plain Python ints (pynq's write wants int or bytes)
        PL = m
        with rec.ps("write"):
            write_address = IMAGE_OFFSET
            for i in range(len(image_in)):
                for j in range(len(image_in[0])):
                    PL.write(write_address, image_in[i][j])
                    write_address = write_address + 4

    def read_back(self, rec: Run, m: MMIO, rows: int) -> np.ndarray:
        with rec.ps("read back"):
            return np.array([m.read(ROWSUM_OFFSET + WORD * r) for r in range(rows)], dtype=np.uint32)


class ArraySlice(_RowsumOverMmio):
    name = "array_slice"
    summary = "one mmio.array[a:b] slice assignment (index = byte offset // 4)"


class Packed16(_RowsumOverMmio):
    name = "packed16"
    summary = "16-bit pixels packed two per word with numpy views, one slice"
    pack16 = 1

    def write(self, rec: Run, m: MMIO, tile: np.ndarray) -> None:
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
    OPTIONS = frozenset({"sync", "cacheable"})

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

    def run(self, rec: Run) -> np.ndarray:
        m = self.mmio("ddr_rowsum")
        rows, cols = self.data.shape
        with rec.ps("write", copy_bytes=self.data.nbytes):
            self.src[:] = self.data
        if self.sync:
            with rec.ps("sync"):
                self.src.sync_to_device()  # the kernel reads DDR, not the CPU's cache
                self.dst.sync_to_device()  # no dirty lines of dst may be written back over the results
        with rec.start():
            m.write(ddr_rowsum.SRC_OFFSET, self.src.physical_address & 0xFFFF_FFFF)  # 64-bit: low word, then high
            m.write(ddr_rowsum.SRC_OFFSET + WORD, self.src.physical_address >> 32)
            m.write(ddr_rowsum.DST_OFFSET, self.dst.physical_address & 0xFFFF_FFFF)
            m.write(ddr_rowsum.DST_OFFSET + WORD, self.dst.physical_address >> 32)
            m.write(ddr_rowsum.ROWS_OFFSET, rows)
            m.write(ddr_rowsum.COLS_OFFSET, cols)
            m.write(CTRL, AP_START)
        with rec.wait("wait", ["ddr_rowsum"]):
            wait_ap_done(m, "ddr_rowsum", rec.timeout)
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
    OPTIONS = frozenset({"chunk_words", "op"})
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
        chunk = self.options.get("chunk_words", DEFAULT_CHUNK_WORDS)
        most = min(pp_load_compute.MAX_N, pp_store.MAX_N)
        if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or not 1 <= chunk <= most:
            raise TransferError(f"chunk_words must be a whole number 1..{most} (the kernels' BRAM buffers), "
                                f"got {chunk!r}")
        self.chunk = int(chunk)
        align = dma_alignment(self.overlay.dma_pp.sendchannel)
        if self.chunk < words.size and (self.chunk * WORD) % align:
            raise TransferError(
                f"chunk_words={self.chunk} puts the second chunk at byte {self.chunk * WORD}, which is not a multiple "
                f"of {align}: the DMA's {8 * align}-bit memory port has no realignment engine, so every transfer must "
                f"start on an aligned address. Use a multiple of {align // WORD} words")
        op = self.options.get("op", DEFAULT_OP)
        if isinstance(op, bool) or not isinstance(op, numbers.Integral):
            raise TransferError(f"op (what the kernel adds to every word) must be a whole number, got {op!r}")
        self.op = int(op) & 0xFFFF_FFFF
        return words

    def expected(self) -> np.ndarray:
        return self.data + np.uint32(self.op)

    @property
    def nbytes_out(self) -> int:
        return self.data.nbytes


    def _read_back(self, rec: Run, results: np.ndarray) -> np.ndarray:
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

    def run(self, rec: Run) -> np.ndarray:
        dma = self.overlay.dma_pp
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
                wait_dma(dma, "send", "dma_pp", rec.timeout)
                wait_ap_done(lc, "pp_load_compute", rec.timeout)
                wait_dma(dma, "recv", "dma_pp", rec.timeout)
                wait_ap_done(st, "pp_store", rec.timeout)
            rec.report(WORD * (offset + n), self.nbytes_in)
        return self._read_back(rec, self.outbuf)

    def close(self) -> None:
        self.inbuf.freebuffer()
        self.outbuf.freebuffer()


class DmaPingPong(_PingPongKernels):
    """The schedule of the blog post "Design NN on ZCU102 (3) -- Double Buffer Design", as its PS code runs it.

    The store (SB) is launched first; it gathers ``k`` compute outputs per call (the blog post: 10;
    option ``chunks_per_store``, by default :func:`default_chunks_per_store`).  Then ``k`` times:
    start load+compute (LB + COM) and wait for it, while one DMA transfer feeds every load.  Both
    kernels work on two buffers, so each is one call behind: the compute of call ``j`` sends the chunk loaded by
    call ``j-1``, and store call ``b`` sends what store call ``b-1`` gathered.  Extra calls at
    the end, fed with zeros, push the last results out.
    """

    name = "dma_pingpong"
    summary = "double buffering: store started first, load and compute overlap on two buffers"
    OPTIONS = _PingPongKernels.OPTIONS | {"chunks_per_store"}

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
        align = dma_alignment(overlay.dma_pp.recvchannel)
        per_store = options.get("chunks_per_store")
        per_store = default_chunks_per_store(n, chunks, align) if per_store is None else int(per_store)
        if not 1 <= per_store * n <= pp_store.MAX_N:
            raise TransferError(f"chunks_per_store x chunk_words must fit pp_store's buffer of {pp_store.MAX_N} "
                                f"words, got {per_store} x {n}")
        if (per_store * n * WORD) % align:
            raise TransferError(f"each store call's output ({per_store} x {n} words) must be a multiple of "
                                f"{align} bytes: the DMA's 64-bit memory port has no "
                                "realignment engine, so every transfer must start on an aligned address")
        self.per_store = per_store  #: k: compute outputs gathered per store call (the blog post: 10)
        self.blocks = -(-(chunks + 1) // self.per_store)  # one compute output of lag, rounded up to blocks
        self.loads = (self.blocks + 1) * self.per_store  # plus one store call of lag
        self.inbuf = allocate((self.loads, n), np.uint32, target=overlay.device)
        self.outbuf = allocate((self.blocks, self.per_store * n), np.uint32, target=overlay.device)
        if self.inbuf.nbytes > overlay.dma_pp.buffer_max_size:
            raise TransferError(f"dma_pingpong sends everything in one DMA transfer: {self.inbuf.nbytes} bytes "
                                f"is more than the DMA's {overlay.dma_pp.buffer_max_size}")

    def run(self, rec: Run) -> np.ndarray:
        dma = self.overlay.dma_pp
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
                    wait_ap_done(lc, "pp_load_compute", rec.timeout)
                call += 1
            with rec.wait("wait", self.PL_RESOURCES):
                wait_dma(dma, "recv", "dma_pp", rec.timeout)
                wait_ap_done(st, "pp_store", rec.timeout)
        with rec.wait("wait", self.PL_RESOURCES):
            wait_dma(dma, "send", "dma_pp", rec.timeout)
        return self._read_back(rec, self.outbuf.reshape(-1)[n: n + self.data.size])

    def close(self) -> None:
        self.inbuf.freebuffer()
        self.outbuf.freebuffer()


def default_chunks_per_store(chunk_words: int, chunks: int, align: int) -> int:
    """How many compute outputs ``dma_pingpong`` gathers per store call unless told.

    As many as pp_store's buffer holds, at most :data:`MAX_CHUNKS_PER_STORE` (the blog post's 10),
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

    Everything is checked here, before the board is touched: the method, its options (an unknown
    one is an error, not ignored), the data.  Use it as a context manager (or call :meth:`close`)
    to give the buffers back.
    """

    def __init__(self, method: str, overlay: pynq.Overlay, data: np.ndarray, *,
                 timeout: float = DEFAULT_TIMEOUT_S, **options: Any) -> None:
        if overlay is None or not isinstance(overlay, pynq.Overlay):
            raise TransferError("transfer methods need the lab's overlay: ol = labkit.open_board()")
        if not overlay.is_loaded():
            raise TransferError("this overlay is not loaded in the PL any more (another one was downloaded)")
        cls = _method(method)
        unknown = sorted(set(options) - cls.OPTIONS)
        if unknown:
            known = ", ".join(sorted(cls.OPTIONS)) or "none"
            raise TransferError(f"{cls.name} has no option {', '.join(map(repr, unknown))}; its options: {known}")
        self.timeout = check_timeout(timeout)
        self.method = cls(overlay, data, options)
        self.overlay = overlay
        self._expected = self.method.expected()

    def run(self, verify: bool = True, *, progress: Callable[[int, int], Any] | bool | None = None) -> TransferResult:
        """Run the transfer once: time it, check the output against the kernel's numpy twin.

        If the run fails part-way (an error, a timeout, Ctrl-C) the overlay is reloaded and its
        DMAs restarted before the error reaches you, so the next run starts from a known state.
        ``progress``: ``True`` shows a progress bar in a notebook, or give a function
        ``progress(bytes_done, bytes_total)``; it is called between tiles/chunks, outside the
        timed phases.
        """
        with Run(self.overlay, timeout=self.timeout) as rec:
            rec.progress = _progress_callback(progress, self.method.name, self.method.nbytes_in)
            try:
                output = np.array(self.method.run(rec))  # this run's own copy: methods reuse their arrays
            except BaseException:
                recover(self.overlay, self.timeout)
                raise
        timing = rec.finish()
        mismatches = int(np.count_nonzero(output != self._expected)) if verify else -1
        result = TransferResult(
            method=self.method.name, kernel=self.method.kernel, board=timing.board, simulated=timing.simulated,
            pace=timing.pace, machine=this_machine(),
            nbytes_in=self.method.nbytes_in, nbytes_out=self.method.nbytes_out,
            phases=timing.phases, verified=verify and mismatches == 0, mismatches=mismatches,
            output=output, intervals=timing.intervals, options=dict(self.method.options),
            scale=str(timing.scale) if timing.scale is not None else "")
        autosave(result)  # classroom record of this run
        return result

    def close(self) -> None:
        self.method.close()

    def __enter__(self) -> "Transfer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _progress_callback(progress: Any, method: str, total: int) -> Callable[[int, int], Any] | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        from .widgets.progress import transfer_progress  # ipywidgets: loaded only when a bar is asked for

        return transfer_progress(method, total)
    if callable(progress):
        return progress
    raise TransferError(f"progress must be True, None or a function progress(bytes_done, bytes_total), "
                        f"got {progress!r}")


def run(method: str, overlay: pynq.Overlay, data: np.ndarray, *, verify: bool = True,
        timeout: float = DEFAULT_TIMEOUT_S, progress: Callable[[int, int], Any] | bool | None = None,
        **options: Any) -> TransferResult:
    """Send ``data`` to the PL with ``method``, get the results back, time and check everything.

    Options: ``chunk_words`` and ``op`` for the DMA methods; ``chunks_per_store`` for
    ``dma_pingpong``; ``sync`` and ``cacheable`` for ``dram_master`` (``sync=False`` shows what a
    forgotten cache flush does).  ``timeout``: seconds any one wait for the PL may take before
    :class:`~labkit.errors.LabTimeoutError` (with the IP's status in words).  ``progress``: see
    :meth:`Transfer.run`.
    """
    with Transfer(method, overlay, data, timeout=timeout, **options) as transfer:
        return transfer.run(verify=verify, progress=progress)


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
