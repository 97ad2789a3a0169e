"""AXI-Stream connections between simulated IPs: data, TLAST and back-pressure, at transaction level.

A producer (a DMA's MM2S channel, a kernel's output port) puts a :class:`Chunk`
of beats on a :class:`StreamChannel`; consumers (a kernel's input port, a DMA's
S2MM channel) are *posted* on the channel when the PS starts them and take
beats in order.  A chunk may be split over several consumers (one 16 KiB DMA
transfer feeding four kernel calls of 4 KiB) and a consumer may take several
chunks (one S2MM transfer collecting ten kernel outputs) -- as on hardware.

Timing.  Beat ``k`` of a chunk is offered at ``t_first + k * step``.  A
consumer takes beats at its own rate from the moment it is ready, never
before a beat is offered; the moment it took the last beat of a chunk is that
chunk's *acceptance* time.  A producer is finished only when its output was
accepted, minus what the channel's FIFO can hold: a kernel whose consumer was
never started never raises ap_done, an MM2S transfer into a kernel that was
never started never goes idle.  That is the back-pressure that makes the
double-buffer seed launch its store kernel first.

Data.  Chunks carry bytes (``uint8``).  Producers fill them in PL jobs (see
worker.py); a consumer's own job (a kernel call, the S2MM write to DDR) is
queued after the jobs of every chunk it took, so the PL runs them in a valid
order.  An MM2S chunk is a *view* of DDR (the DMA reads memory while
it streams); the producer stays busy until the consuming work has run, so the
PS cannot change the source under it.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np

from .worker import memcpy

if TYPE_CHECKING:
    from .fabric import Fabric

__all__ = ["Chunk", "StreamConsumer", "StreamChannel", "Producer", "pieces", "copy_ops", "gather_ops"]


class Producer(Protocol):
    """What a chunk reports back to when it has been taken."""

    def chunk_accepted(self, chunk: "Chunk") -> None: ...


class Chunk:
    """Beats one producer offered in one go (one DMA transfer, one kernel call's output)."""

    __slots__ = ("nbytes", "width", "beats", "last", "data", "t_first", "t_last", "taken",
                 "producer", "accept_end", "consumed_future", "owner", "borrowed", "notified")

    def __init__(self, nbytes: int, width: int, last: bool, t_first: float, t_last: float,
                 producer: Producer | None, data: np.ndarray | None = None, owner: object = None,
                 borrowed: bool = False) -> None:
        self.nbytes = int(nbytes)
        self.width = int(width)
        self.beats = -(-self.nbytes // self.width)
        self.last = bool(last)  #: TLAST on the final beat
        self.data = data if data is not None else np.empty(self.nbytes, dtype=np.uint8)
        self.t_first = t_first
        self.t_last = t_last
        self.taken = 0  #: beats already taken by consumers
        self.producer = producer
        self.accept_end: float | None = None
        self.consumed_future: Any = None
        self.owner = owner  #: the IP (or DMA channel) that produced it, for withdraw()
        #: data is a view of memory the producer gives back when done (DDR under an MM2S transfer)
        self.borrowed = borrowed
        self.notified = False

    def rewidth(self, width: int, clock_hz: float) -> None:
        """Pass through an AXI-Stream width converter (PG183): the same bytes in beats of ``width``.

        The converter moves one beat per cycle on each side, so the narrower side sets the pace:
        the last beat leaves no earlier than one cycle per output beat after the first.
        """
        self.width = int(width)
        self.beats = -(-self.nbytes // self.width)
        self.t_last = max(self.t_last, self.t_first + (self.beats - 1) / clock_hz)

    def notify_producer(self, future: Any) -> None:
        """Tell the producer this chunk has been taken (once)."""
        if self.notified:
            return
        self.notified = True
        self.consumed_future = future
        if self.producer is not None:
            self.producer.chunk_accepted(self)

    def offered_at(self, k: int) -> float:
        """Modelled moment beat ``k`` is offered."""
        if self.beats <= 1:
            return self.t_first
        return self.t_first + k * (self.t_last - self.t_first) / (self.beats - 1)

    def byte_range(self, k0: int, k1: int) -> tuple[int, int]:
        return k0 * self.width, min(k1 * self.width, self.nbytes)


Take = tuple[Chunk, int, int]


class StreamConsumer:
    """One consumption on a channel: a kernel call's input port, or one S2MM transfer.

    ``want`` beats exactly (kernels, which ignore TLAST), or -- with ``want=None`` --
    until a TLAST, taking at most ``budget`` beats (the S2MM LENGTH register).
    """

    def __init__(self, ready_at: float, clock_hz: float, on_done: Callable[["StreamConsumer"], None],
                 want: int | None = None, budget: int | None = None, cycles_per_beat: float = 1.0,
                 owner: object = None) -> None:
        if want is None and budget is None:
            raise ValueError("a consumer needs a beat count or a budget")
        self.t = ready_at  #: modelled time it is ready for its next beat
        self.first_take: float | None = None
        self.cycle = cycles_per_beat / clock_hz
        self.want = want
        self.budget = budget
        self.on_done = on_done
        self.takes: list[Take] = []
        self.got = 0
        self.saw_last = False
        self.overflow = False  #: budget ran out before TLAST (S2MM: DMA internal error)
        self.done = False
        self.owner = owner

    def room(self) -> int:
        limit = self.want if self.want is not None else self.budget
        return limit - self.got

    def satisfied(self) -> bool:
        if self.want is not None:
            return self.got >= self.want
        return self.saw_last or self.got >= self.budget

    def beat_offered_at(self, j: int) -> float:
        """When the ``j``-th beat this consumer took was offered (its arrival, at the earliest)."""
        for chunk, k0, k1 in self.takes:
            if j < k1 - k0:
                return chunk.offered_at(k0 + j)
            j -= k1 - k0
        raise IndexError(f"this consumer took only {self.got} beats")

    @property
    def nbytes(self) -> int:
        return sum(c.byte_range(k0, k1)[1] - c.byte_range(k0, k1)[0] for c, k0, k1 in self.takes)

    def release(self, future: Any) -> None:
        """The consumer's own work was submitted as ``future``: release the chunks it finished."""
        for chunk, _, k1 in self.takes:
            if k1 == chunk.beats:
                chunk.notify_producer(future)


def pieces(takes: list[Take]) -> list[np.ndarray]:
    """The byte ranges ``takes`` cover, one uint8 view per chunk (no copy; filled when the producer ran)."""
    return [chunk.data[slice(*chunk.byte_range(k0, k1))] for chunk, k0, k1 in takes]


def copy_ops(parts: list[np.ndarray], target: np.ndarray) -> list[tuple]:
    """Copy operations that lay ``parts`` out one after another in ``target``, up to its end."""
    ops, offset = [], 0
    for part in parts:
        n = min(part.nbytes, target.nbytes - offset)
        if n > 0:
            ops.append(memcpy(target[offset:], part, n))
        offset += part.nbytes
    return ops


def gather_ops(takes: list[Take], keep: list) -> tuple[np.ndarray, list[tuple]]:
    """An array holding the bytes of ``takes`` in order, and the copy operations that fill it.

    One take needs no copy: the consumer reads the producer's bytes where they are.
    """
    parts = pieces(takes)
    keep.extend(parts)
    if len(parts) == 1:
        return parts[0], []
    joined = np.empty(sum(p.nbytes for p in parts), dtype=np.uint8)
    keep.append(joined)
    return joined, copy_ops(parts, joined)


class StreamChannel:
    """A connection from one master stream port to one slave port, with an optional FIFO."""

    def __init__(self, fabric: "Fabric", name: str, width: int, depth: int = 0, converts: bool = False,
                 drops_tlast: bool = False) -> None:
        self.fabric = fabric
        self.name = name
        self.width = width  #: bytes per beat at the consumer's end (TDATA width / 8)
        self.depth = depth  #: beats the channel can hold without a consumer (axis_data_fifo depth)
        #: an axis_dwidth_converter sits on the channel: producers may offer beats of another width
        self.converts = converts
        #: an IP on the channel is configured without TLAST (HAS_TLAST = 0): packet ends are lost
        self.drops_tlast = drops_tlast
        self.queue: deque[Chunk] = deque()
        self.consumers: deque[StreamConsumer] = deque()

    def buffered_beats(self) -> int:
        return sum(c.beats - c.taken for c in self.queue)

    def offer(self, chunk: Chunk) -> None:
        """A producer puts ``chunk`` on the stream."""
        if self.drops_tlast:
            chunk.last = False
        if chunk.width != self.width and self.converts:
            chunk.rewidth(self.width, self.fabric.clock_hz)
        if chunk.width != self.width:
            raise ValueError(f"{self.name}: {chunk.width}-byte beats offered on a {self.width}-byte stream")
        fits = chunk.beats <= self.depth - self.buffered_beats()
        self.queue.append(chunk)
        if fits and chunk.producer is not None:
            # The FIFO swallows the whole chunk: its producer is done without waiting for a consumer.
            chunk.accept_end = chunk.t_last + 1 / self.fabric.clock_hz
            self._keep_copy(chunk)
        self.pump()

    def _keep_copy(self, chunk: Chunk) -> None:
        """Release a chunk's producer before the consumer's work ran: keep a copy of borrowed data."""
        task = None
        if chunk.borrowed:
            snapshot = np.empty_like(chunk.data)
            task = self.fabric.submit([memcpy(snapshot, chunk.data)], keep=(snapshot, chunk.data))
            chunk.data, chunk.borrowed = snapshot, False
        chunk.notify_producer(task)

    def post(self, consumer: StreamConsumer) -> None:
        """A consumer starts taking beats (kernel started, S2MM transfer programmed)."""
        self.consumers.append(consumer)
        self.pump()

    def pump(self) -> None:
        """Hand queued beats to posted consumers, in order, as far as they go."""
        clock = self.fabric.clock_hz
        while self.consumers:
            consumer = self.consumers[0]
            if consumer.satisfied():
                self._finish(consumer)
                continue
            if not self.queue:
                return
            chunk = self.queue[0]
            k0 = chunk.taken
            k1 = min(chunk.beats, k0 + consumer.room())
            ready = consumer.t
            start = max(ready, chunk.offered_at(k0))
            end = max(start + (k1 - k0) * consumer.cycle, chunk.offered_at(k1 - 1) + 1 / clock)
            self.fabric.trace.take(self, chunk, k0, k1, ready, start, end, consumer)
            if consumer.first_take is None:
                consumer.first_take = start
            consumer.takes.append((chunk, k0, k1))
            consumer.t = end
            consumer.got += k1 - k0
            chunk.taken = k1
            if k1 == chunk.beats:
                self.queue.popleft()
                if chunk.accept_end is None:
                    # With a FIFO the producer is released `depth` beats before the consumer is done.
                    chunk.accept_end = max(end - self.depth / clock, chunk.t_last + 1 / clock)
                consumer.saw_last = chunk.last
                if not consumer.satisfied():
                    # The consumer needs more chunks before its own work can run; the producer
                    # of this one is done now (a DMA feeding a kernel in several transfers).
                    self._keep_copy(chunk)
            elif consumer.want is None:
                consumer.overflow = True  # the budget ended inside a packet
            if consumer.satisfied():
                self._finish(consumer)

    def _finish(self, consumer: StreamConsumer) -> None:
        self.consumers.popleft()
        consumer.done = True
        if consumer.want is None and not consumer.saw_last:
            consumer.overflow = True
        consumer.on_done(consumer)

    def withdraw(self, owner: object) -> None:
        """Drop what ``owner`` put on this channel: its queued chunks and its posted consumers.

        A DMA reset uses this; the kernel at the other end keeps waiting, as on hardware.  Beats
        already handed over to a FIFO on the channel (their producer was released) stay: a FIFO is
        reset by its own peripheral reset (or a PL reconfiguration), not by the DMA's soft reset, so
        on a board they arrive in the next receive.
        """
        self.queue = deque(c for c in self.queue if c.owner is not owner or (self.depth and c.notified))
        self.consumers = deque(c for c in self.consumers if c.owner is not owner)

    def reset(self) -> None:
        self.queue.clear()
        self.consumers.clear()


def never() -> float:
    """An end time that has not been decided yet (waiting for back-pressure to clear)."""
    return math.inf
