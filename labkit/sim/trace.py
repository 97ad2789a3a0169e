"""A stream trace of the simulated board: the last N stream transfers, as an ILA would show them.

On a board, debugging a stream that "does nothing" means adding an Integrated Logic Analyzer
(Vivado's ILA) to the stream and rebuilding.  The simulated board records every hand-over of
beats from a producer to a consumer anyway: which channel, how many beats, whether the last one
carried TLAST, whether TKEEP marked the bytes valid, and who waited for whom (a consumer ready
before the data came waited for its producer; data offered before its consumer was ready is
back-pressure: the producer waited).  :meth:`StreamTrace.pending` says who is waiting *now*.

Times are modelled (the PL's time on the simulated board's timeline, in perf_counter seconds).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .streams import Chunk, StreamChannel, StreamConsumer

__all__ = ["StreamTrace", "TraceRecord", "PendingStream", "DEFAULT_TRACE_LENGTH"]

DEFAULT_TRACE_LENGTH = 256


def who(owner: Any) -> str:
    """A readable name of a stream's producer or consumer: ``"dma_pp.mm2s"``, ``"pp_store"``."""
    return getattr(owner, "resource", None) or getattr(owner, "name", None) or "?"


@dataclass(frozen=True)
class TraceRecord:
    """One hand-over of beats on one stream channel."""

    channel: str  #: "dma_pp.M_AXIS_MM2S->pp_load_compute.in_stream"
    producer: str
    consumer: str
    beats: int
    tlast: bool  #: TLAST was on the last beat of this hand-over
    tkeep: bool  #: TKEEP marked the bytes valid (False: tied low, the bytes are null)
    offered: float  #: modelled time the first beat was offered
    start: float  #: modelled time the consumer took the first beat
    end: float  #: modelled time it took the last
    waited: str  #: "consumer waited for producer", "producer waited for consumer (back-pressure)" or "none"
    wait_s: float  #: how long (modelled seconds)

    def describe(self, t0: float = 0.0) -> str:
        last = "TLAST" if self.tlast else "no TLAST"
        keep = "" if self.tkeep else ", TKEEP low (null bytes)"
        wait = "" if self.waited == "none" else f"; {self.waited} {self.wait_s * 1e6:.2f} us"
        return (f"{(self.start - t0) * 1e6:10.2f} us  {self.producer} -> {self.consumer}: {self.beats} beats, "
                f"{last}{keep}{wait}")


@dataclass(frozen=True)
class PendingStream:
    """What is waiting on one channel right now."""

    channel: str
    queued_beats: int  #: beats offered that no consumer has taken (the producer waits: back-pressure)
    queued_tlast: bool  #: the queued data ends with TLAST
    waiting: tuple[str, ...]  #: consumers posted and not satisfied, with what they have and want

    def describe(self) -> str:
        parts = []
        if self.queued_beats:
            parts.append(f"{self.queued_beats} beats wait for a consumer"
                         + ("" if self.queued_tlast else " (no TLAST among them)"))
        parts += list(self.waiting)
        return f"{self.channel}: " + ("; ".join(parts) or "idle")


class StreamTrace:
    """The last ``length`` stream hand-overs of a simulated board (a ring buffer: old ones drop out)."""

    def __init__(self, length: int = DEFAULT_TRACE_LENGTH) -> None:
        self.records: deque[TraceRecord] = deque(maxlen=length)

    def take(self, channel: "StreamChannel", chunk: "Chunk", k0: int, k1: int, ready: float, start: float,
             end: float, consumer: "StreamConsumer") -> None:
        """Called by a stream channel each time a consumer takes beats ``k0..k1`` of ``chunk``."""
        offered = chunk.offered_at(k0)
        if ready > offered:
            waited, wait_s = "producer waited for consumer (back-pressure)", ready - offered
        elif offered > ready:
            waited, wait_s = "consumer waited for producer", offered - ready
        else:
            waited, wait_s = "none", 0.0
        self.records.append(TraceRecord(channel.name, who(chunk.owner), who(consumer.owner), k1 - k0,
                                        chunk.last and k1 == chunk.beats,
                                        not getattr(consumer, "tkeep_low", False), offered, start, end, waited,
                                        wait_s))

    def last(self, n: int | None = None) -> list[TraceRecord]:
        """The newest ``n`` records (all kept ones if None), oldest first."""
        records = list(self.records)
        return records if n is None else records[-n:]

    def clear(self) -> None:
        self.records.clear()


def pending(channels: "list[StreamChannel]") -> list[PendingStream]:
    """Who is waiting on each channel now: queued beats without a consumer, consumers without data."""
    result = []
    for channel in channels:
        queued = sum(c.beats - c.taken for c in channel.queue)
        tlast = bool(channel.queue) and channel.queue[-1].last
        waiting = []
        for consumer in channel.consumers:
            if consumer.want is not None:
                waiting.append(f"{who(consumer.owner)} has {consumer.got} of {consumer.want} beats")
            else:
                waiting.append(f"{who(consumer.owner)} has {consumer.got} beats and waits for TLAST "
                               f"(room for {consumer.budget - consumer.got} more)")
        result.append(PendingStream(channel.name, queued, tlast, tuple(waiting)))
    return result
