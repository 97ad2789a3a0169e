"""What every simulated IP block has: an address range of 32-bit words the PS reaches over AXI-Lite.

A model keeps its registers in ``self.regs`` (one ``uint32`` per word of its
address range).  MMIO windows handed to pynq are views of that array (see
``_regwindow.c``), so plain memories -- an HLS kernel's input RAM -- cost no
Python at all.  Words with side effects are *watched*: the window calls the
model when one of them is loaded or stored, and only then.

Subclasses call :meth:`watch` in ``__init__`` for every register with side
effects, e.g. ``self.watch(CTRL, on_write=self._ctrl_written, on_read=self._ctrl_read)``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np

from labkit.errors import AddressError

from .. import _regwindow

if TYPE_CHECKING:
    from ..fabric import Fabric

__all__ = ["IPSpec", "IPModel", "RegStats", "FLAG_READ_HOOK", "FLAG_WRITE_HOOK", "FLAG_READ_ON_SLICE"]

# Keep in step with _regwindow.c.
FLAG_READ_HOOK = 0x1
FLAG_WRITE_HOOK = 0x2
FLAG_READ_ON_SLICE = 0x4

WORD = 4  # bytes per AXI-Lite word


@dataclass(frozen=True)
class RegStats:
    """AXI-Lite traffic one IP has seen: calls (Python operations) and words (bus transactions)."""

    read_calls: int
    read_words: int
    write_calls: int
    write_words: int


@dataclass
class IPSpec:
    """One IP instance of a block design, as ``designs.py`` describes it."""

    name: str
    vlnv: str
    base: int | None  #: physical base address on the GP port, None for IP without AXI-Lite
    addr_range: int
    parameters: dict[str, str] = field(default_factory=dict)
    registers: dict[str, dict] = field(default_factory=dict)
    memory_port: str | None = None  #: PS slave port its AXI master uses ("S_AXI_HP0" ...)
    description: str = ""
    #: AXI-Stream ports from a .hwh: port -> ("in" | "out", bytes per beat)
    stream_ports: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: no model in the catalogue: the IP loads, touching it raises (see ip/unmodelled.py)
    unmodelled: bool = False


ReadHandler = Callable[[], int]  # refreshes the word, returns the bits to clear after the load
WriteHandler = Callable[[int], None]  # receives the value just stored


class IPModel:
    """Base class of every IP model."""

    #: VLNV this model implements; the registry in ``ip/__init__.py`` keys on it.
    vlnv: ClassVar[str] = ""

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        self.fabric = fabric
        self.spec = spec
        self.name = spec.name
        self.base = spec.base
        self.addr_range = spec.addr_range
        nwords = spec.addr_range // WORD
        self.regs = np.zeros(nwords, dtype=np.uint32)
        self.flags = np.zeros(nwords, dtype=np.uint8)
        self._stats = np.zeros(4, dtype=np.uint64)
        self._on_read: dict[int, ReadHandler] = {}
        self._on_write: dict[int, WriteHandler] = {}
        self._read_words: list[int] = []  # sorted, for range look-ups
        self._write_words: list[int] = []

    # -- set-up used by subclasses -------------------------------------------------
    def watch(self, offset: int, *, on_read: ReadHandler | None = None,
              on_write: WriteHandler | None = None) -> None:
        """Call ``on_read`` before a load of the word at ``offset``, ``on_write`` after a store."""
        word = self._word(offset)
        if on_read is not None:
            self.flags[word] |= FLAG_READ_HOOK
            self._on_read[word] = on_read
            bisect.insort(self._read_words, word)
        if on_write is not None:
            self.flags[word] |= FLAG_WRITE_HOOK
            self._on_write[word] = on_write
            bisect.insort(self._write_words, word)

    def mark_result_memory(self, offset: int, nbytes: int) -> None:
        """Slicing this memory counts as reading it back over the bus (see ``_regwindow.c``)."""
        lo = self._word(offset)
        self.flags[lo: lo + nbytes // WORD] |= FLAG_READ_ON_SLICE

    def _word(self, offset: int) -> int:
        if offset % WORD or not 0 <= offset < self.addr_range:
            raise ValueError(f"{self.name}: register offset {offset:#x} is not a word inside {self.addr_range:#x}")
        return offset // WORD

    # -- register helpers for subclasses ---------------------------------------------
    def reg(self, offset: int) -> int:
        """Current value of the register at byte ``offset`` (no side effects)."""
        return int(self.regs[offset // WORD])

    def set_reg(self, offset: int, value: int) -> None:
        self.regs[offset // WORD] = value & 0xFFFFFFFF

    def reg64(self, offset: int) -> int:
        """A 64-bit argument split over two words (low word first), as HLS lays out pointers."""
        return self.reg(offset) | (self.reg(offset + WORD) << 32)

    # -- the protocol _regwindow.c calls -------------------------------------------------
    def _reg_write(self, lo: int, hi: int) -> None:
        words = self._write_words
        for i in range(bisect.bisect_left(words, lo), bisect.bisect_left(words, hi)):
            word = words[i]
            self._on_write[word](int(self.regs[word]))

    def _reg_read(self, lo: int, hi: int) -> list[tuple[int, int]] | None:
        words = self._read_words
        clears = None
        for i in range(bisect.bisect_left(words, lo), bisect.bisect_left(words, hi)):
            word = words[i]
            mask = self._on_read[word]()
            if mask:
                clears = clears or []
                clears.append((word, mask))
        return clears

    # -- windows and statistics ----------------------------------------------------------
    def window(self, offset: int, length: int, config: np.ndarray, reference: list | None = None) -> np.ndarray:
        """A register window (numpy uint32 view) of ``length`` bytes from byte ``offset``; ``config`` and
        ``reference`` are shared by every window on the same bus (see _regwindow.c)."""
        if offset % WORD or length % WORD:
            raise AddressError(f"{self.name}: MMIO windows must start and end on 4-byte boundaries, "
                               f"got offset {offset:#x} length {length:#x}")
        if offset < 0 or offset + length > self.addr_range:
            raise AddressError(f"{self.name} spans {self.addr_range:#x} bytes; a window of {length:#x} bytes "
                               f"at offset {offset:#x} reaches past its end")
        return _regwindow.make_window(self.regs, offset // WORD, length // WORD, self, self.flags,
                                      self._stats, config, reference)

    @property
    def stats(self) -> RegStats:
        s = [int(x) for x in self._stats]
        return RegStats(*s)

    def reset_stats(self) -> None:
        self._stats[:] = 0

    # -- life cycle ----------------------------------------------------------------------
    def reset(self) -> None:
        """Power-on state: every register 0, then :meth:`on_reset` sets the non-zero ones."""
        self.regs[:] = 0
        self.on_reset()

    def on_reset(self) -> None:
        """Set reset values of registers (subclasses). Called by :meth:`reset`."""

    def connect(self) -> None:
        """Called once every IP of a newly loaded design exists: look up stream peers here."""

    def shutdown(self) -> None:
        """Called when the PL is reconfigured: stop work in flight. Default: nothing to stop."""

    # -- faults (see faults.py) --------------------------------------------------------------
    #: which part of the fault catalogue applies ("axi_dma", "hls_kernel"; "" = this IP cannot fail)
    fault_type: ClassVar[str] = ""

    def fault_kinds(self) -> tuple[str, ...]:
        """The fault kinds this model honours (none by default)."""
        return ()

    def fault_never_fires(self, kind: str, params: dict[str, Any]) -> str | None:
        """Why a ``kind`` fault with ``params`` could never fire in this design (None: it can)."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "vlnv": self.vlnv, "base": self.base, "range": self.addr_range}
