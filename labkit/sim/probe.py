"""The simulated board's answers to :class:`labkit.boardprobe.BoardProbe`: everything its model knows.

This is the only door from lab code into the simulation (``labkit.board.probe(ol)`` opens it):
modelled clock and bus time, the timeline of PL work, activity counters, power rails, pace and
faults.  Nothing above ``labkit/sim`` touches the fabric any other way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from labkit.boardprobe import BoardProbe, Snapshot

if TYPE_CHECKING:
    from labkit.boards.profiles import BoardProfile

    from .device import SimDevice

__all__ = ["SimBoardProbe"]


class SimBoardProbe(BoardProbe):
    """A :class:`~labkit.boardprobe.BoardProbe` that answers from the simulated board's model."""

    simulated = True

    def __init__(self, device: "SimDevice") -> None:
        super().__init__(device)
        self._fabric = device.fabric

    @property
    def board(self) -> str:
        return self.device.profile.name

    @property
    def label(self) -> str:
        return f"{self.board} (simulated, {self._fabric.pace} pace)"

    @property
    def pace(self) -> str:
        return self._fabric.pace

    def set_pace(self, pace: str) -> None:
        self._fabric.pace = pace

    @property
    def profile(self) -> "BoardProfile":
        return self.device.profile

    @property
    def clock_hz(self) -> float:
        return self._fabric.clock_hz

    @property
    def pool_bytes(self) -> int:
        return self.device.pool.size

    def gp_access_s(self, reads: int = 0, writes: int = 0) -> float:
        return self._fabric.gp_access_s(reads, writes)

    def snapshot(self) -> Snapshot:
        fabric = self._fabric
        reads, writes = fabric.gp_totals()
        return Snapshot(reads, writes, fabric.sim_overhead_s, fabric.timeline.mark())

    def intervals_since(self, mark: int) -> tuple[list, int]:
        timeline = self._fabric.timeline
        booked = timeline.booked_since(mark)
        # The timeline keeps only its newest intervals: number the first one from the count.
        return booked, timeline.mark() - len(booked)

    def intervals(self, since: float = float("-inf"), resources: Iterable[str] | None = None) -> list:
        return self._fabric.timeline.intervals(since=since, resources=resources)

    def counters(self) -> Any:
        return self._fabric.counters()

    def power_rails(self) -> tuple[dict[str, Any], Any]:
        from .rails import meter_for, sim_rails  # the rails need the whole board: built on first use

        return sim_rails(self.device), meter_for(self.device)

    @property
    def faults(self) -> Any:
        return self._fabric.faults
