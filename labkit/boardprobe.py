"""The probe: what lab code may ask the board about, beyond what pynq offers.

A real board tells you what you measure and nothing else.  The simulated board
can also tell what its model computed: the PL clock it models, how long an
AXI-Lite access takes on its GP port, which PL work it scheduled and when, its
activity counters and power rails, its pace.  Every such question goes through
one object, a :class:`BoardProbe`, obtained with :func:`labkit.board.probe`::

    probe = labkit.board.probe(ol)
    probe.simulated            # False on a real board
    probe.gp_access_s(writes=1)  # modelled time of one store (NotAvailableError on a real board)

This module defines the real-board answers (measured only, "not available" for
anything modelled); the simulated board subclasses it in ``labkit/sim/probe.py``.
Lab code never reaches past a probe into the simulation, so the same code paths
run on both.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ContextManager, Iterable

from .errors import LabkitError

if TYPE_CHECKING:
    from .boards.profiles import BoardProfile

__all__ = ["BoardProbe", "Snapshot", "NotAvailableError", "NO_SNAPSHOT"]


class NotAvailableError(LabkitError, RuntimeError):
    """A modelled quantity was asked of a real board (only the simulated board models time)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The simulated board's running totals at one moment (all zero on a real board).

    The difference of two snapshots says what happened between them: GP-port words moved,
    seconds the PS thread spent inside the simulation (not the student's Python), and which
    modelled PL work was booked (``mark`` is a bookmark into the timeline).
    """

    gp_reads: int
    gp_writes: int
    sim_s: float
    mark: int
    #: of ``sim_s``, the simulation's own computing (IP models, PL data work run in a status read, syncs):
    #: what a board does not spend -- the rest of ``sim_s`` is modelled bus time stalled on the wall clock
    model_s: float = 0.0
    #: for estimates (labkit.estimate): the wall clock and this thread's CPU time when it was taken, and
    #: the GP-port accesses so far as the simulated board's timed access blocks count them
    wall: float = 0.0
    cpu: float = 0.0
    accesses: int = 0


NO_SNAPSHOT = Snapshot(0, 0, 0.0, 0)


class BoardProbe:
    """A real board as lab code sees it: measured time only.

    Every modelled quantity raises :class:`NotAvailableError`; the cheap per-run calls
    (:meth:`snapshot`, :meth:`intervals_since`) return empty answers instead, so a recorder can
    call them unconditionally.
    """

    simulated = False

    def __init__(self, device: Any) -> None:
        self.device = device

    # -- identity ---------------------------------------------------------------------------------
    @property
    def board(self) -> str:
        """The board's name (a simulated board: its profile, e.g. ``"PYNQ-Z1"``)."""
        return getattr(self.device, "name", None) or type(self.device).__name__

    @property
    def label(self) -> str:
        """How results name the board: ``"PYNQ-Z1 (simulated, board pace)"`` or the board's own name."""
        return self.board

    @property
    def pace(self) -> str | None:
        """``"board"`` or ``"host"`` on the simulated board, None on a real one."""
        return None

    def set_pace(self, pace: str) -> None:
        raise NotAvailableError(f"pace only applies to the simulated board; {self.board} is real hardware")

    @property
    def profile(self) -> "BoardProfile | None":
        """The board profile the simulation is built from (None on a real board)."""
        return None

    @property
    def clock_hz(self) -> float | None:
        """The modelled PL clock (FCLK0); None on a real board (ask ``pynq.Clocks.fclk0_mhz``)."""
        return None

    @property
    def pool_bytes(self) -> int | None:
        """Size of the simulated contiguous memory pool; None on a real board."""
        return None

    # -- modelled time ----------------------------------------------------------------------------
    def _not_modelled(self, what: str) -> NotAvailableError:
        return NotAvailableError(f"{what} is modelled by the simulated board only; on {self.board} "
                                 "(real hardware) measure it instead")

    def gp_access_s(self, reads: int = 0, writes: int = 0) -> float:
        """Modelled GP-port time of ``reads`` AXI-Lite loads and ``writes`` stores."""
        raise self._not_modelled("AXI-Lite access time")

    def snapshot(self) -> Snapshot:
        """Running totals now (see :class:`Snapshot`); zeros on a real board."""
        return NO_SNAPSHOT

    def python_s(self, elapsed: float, before: Snapshot, after: Snapshot, scale: Any = None) -> float:
        """The student's Python in a stretch of ``elapsed`` wall seconds between two snapshots (at the
        speed of ``scale``'s calibration, on the simulated board)."""
        return max(0.0, elapsed - (after.sim_s - before.sim_s))

    def speed_reference(self) -> ContextManager[None]:
        """``with probe.speed_reference():`` around a recorded run: the simulated board times a
        reference loop beside its register accesses for the estimate; nothing on a real board."""
        return nullcontext()

    def cpu_scale(self, since: float) -> Any:
        """How much slower the board runs Python than this computer, calibrated after ``since``."""
        raise self._not_modelled("a board estimate")

    def intervals_since(self, mark: int) -> tuple[list, int]:
        """Modelled PL intervals booked after ``mark``, and the booking number of the first one."""
        return [], mark

    def intervals(self, since: float = float("-inf"), resources: Iterable[str] | None = None) -> list:
        """Modelled PL intervals that end after ``since`` (on ``resources``); none on a real board."""
        return []

    def counters(self) -> Any:
        """The simulated fabric's activity counters (bytes per port, busy cycles, GP words)."""
        raise self._not_modelled("PL activity counting")

    def power_rails(self) -> tuple[dict[str, Any], Any]:
        """The power model's rails and the meter that drives them."""
        raise self._not_modelled("the power model's rails")

    def reconfiguration_s(self) -> float:
        """Modelled time of one full-bitstream download (the board profile's, with its source)."""
        raise self._not_modelled("the reconfiguration time")

    @property
    def reconfigurations(self) -> int:
        """How many times the PL was configured since the board was opened (simulated board only)."""
        raise self._not_modelled("counting reconfigurations")

    def stream_trace(self, n: int | None = None) -> list:
        """The last ``n`` stream hand-overs (beats, TLAST, TKEEP, who waited): what an ILA would show."""
        raise NotAvailableError(f"the stream trace needs the simulated board; on {self.board} add an ILA "
                                "(Vivado's Integrated Logic Analyzer) to the stream and rebuild the overlay")

    def stream_pending(self) -> list:
        """Who waits on each stream channel right now (simulated board only)."""
        raise NotAvailableError(f"stream state needs the simulated board; on {self.board} use an ILA")

    @property
    def faults(self) -> Any:
        """The fault injector of the simulated board."""
        raise NotAvailableError(f"faults can only be injected into the simulated board; {self.board} is real")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"
