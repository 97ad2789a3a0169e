"""The watchdog: calibrate a kernel call, watch every call against a threshold, recover and carry on.

This is the recovery routine of the paper "On how to efficiently implement Deep Learning
algorithms on PYNQ platform" (Stornaiuolo, Santambrogio, Sciuto), section "System Failure
Recovery": measure the kernel's execution time in a calibration phase (or take a threshold
from an expert), time every call against it, and on an anomaly kill the call, reconfigure the
programmable logic and go on with the next input; after several anomalies in a row raise an
alarm, or widen the threshold a little to learn what kind of failure it is.

>>> wd = watch_accelerator(acc)                     # or Watchdog(my_call, check=..., overlay=ol)
>>> wd.calibrate([batch] * 30)                      # N healthy calls -> distribution -> threshold
>>> report = wd.run(batches)                        # every input: verified, or flagged
>>> print(report)

What counts as an **anomaly**: the call did not finish by the threshold (a hang, or a kernel far
slower than usual: labkit's waits raise :class:`~labkit.errors.LabTimeoutError`), it raised an
error (a DMA error), it returned later than the threshold, or its output failed the check.  A
call's time is its wall-clock time less what is not the call's doing, in calibration as in
watching: the time its thread waited for a CPU (:func:`cpu_wait_s`) and, on the simulated board,
the simulation's own computing (the kernels' C++ runs on this computer, often slower than the PL
it models; the probe's ``model_s``, zero on a real board).  Modelled PL time still counts: in
board pace the PS waits for it as on the board, so a slow kernel is seen.
What happens then is the :class:`Policy`: recover (reconfigure the PL, or only reset the DMAs),
re-initialise, retry the input or skip it (flagged), and after ``alarm_after`` anomalies in a
row an alarm (callback and event), optionally widening the threshold.

**Nothing is lost**: every input ends as exactly one :class:`Outcome`, ``verified`` (the check
passed) or ``flagged`` (with the reasons).  Every event carries its time in the three kinds of
DESIGN.md: measured here, modelled PL time and estimated board time where the board provides them.

The call must accept the deadline: ``call(input, timeout)``.  labkit's engines stop themselves
at their timeout (``transfer.run(..., timeout=)``, ``CnnAccelerator.timeout``); a callable that
ignores it cannot be killed, and the watchdog then only sees it when it returns.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import board
from .errors import LabkitError
from .recovery import reconfigure, reset_dmas
from .owntime import cpu_wait_s, no_gc, own_time
from .run import DEFAULT_TIMEOUT_S
from .timing import Timing, format_seconds, measured, this_machine

__all__ = ["Watchdog", "Policy", "Calibration", "Event", "Outcome", "WatchdogReport", "CalibrationError",
           "calibrate_threshold", "watch_accelerator", "watch_transfer", "DEFAULT_MARGIN", "DEFAULT_ALLOWANCE_S",
           "EVENT_KINDS", "cpu_wait_s"]

#: threshold = max(margin x p99, p99 + allowance) of the calibration calls
DEFAULT_MARGIN = 1.5
#: Headroom above the slowest healthy calls.  The PS runs Linux, not a real-time OS: time a call spends
#: waiting for a CPU is left out of its time (:func:`cpu_wait_s`), and a timed wait that resumes after
#: a pause first looks whether the PL is done, so descheduling alone raises no alarm; what is left
#: (page faults, a VM's stolen time, interpreter variance) still reaches milliseconds on a busy
#: machine.  An expert who knows the system can give a tighter threshold instead.
DEFAULT_ALLOWANCE_S = 0.02
DEFAULT_QUANTILE = 0.99
EVENT_KINDS = ("calibrated", "ok", "anomaly", "recovery", "alarm", "threshold", "flagged")
_LOG_LENGTH = 10_000


class CalibrationError(LabkitError, RuntimeError):
    """Calibration saw a failing call: calibrate on a healthy board (no faults armed)."""


# -- calibration ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Calibration:
    """The distribution of healthy call times and the threshold chosen from it."""

    samples: tuple[float, ...]  #: measured seconds per call (this machine)
    threshold_s: float
    rule: str  #: how the threshold was chosen

    @property
    def median_s(self) -> float:
        return float(np.median(self.samples)) if self.samples else float("nan")

    @property
    def p99_s(self) -> float:
        return float(np.quantile(self.samples, DEFAULT_QUANTILE)) if self.samples else float("nan")

    def __str__(self) -> str:
        if not self.samples:
            return f"threshold {format_seconds(self.threshold_s)} ({self.rule})"
        return (f"{len(self.samples)} calls measured on {this_machine()} (wall clock less CPU waits and the "
                f"simulation's own computing): median {format_seconds(self.median_s)}, "
                f"p99 {format_seconds(self.p99_s)}, max {format_seconds(max(self.samples))} -> threshold "
                f"{format_seconds(self.threshold_s)} ({self.rule})")


def calibrate_threshold(samples: Sequence[float], margin: float = DEFAULT_MARGIN,
                        allowance_s: float = DEFAULT_ALLOWANCE_S, quantile: float = DEFAULT_QUANTILE) -> Calibration:
    """The threshold for healthy call times ``samples``: max(margin x quantile, quantile + allowance)."""
    values = tuple(float(s) for s in samples)
    if len(values) < 5:
        raise CalibrationError(f"calibration needs at least 5 healthy calls to see their spread, got {len(values)}")
    if not margin >= 1 or not allowance_s >= 0:
        raise ValueError(f"margin must be >= 1 and allowance_s >= 0, got {margin!r}, {allowance_s!r}")
    q = float(np.quantile(values, quantile))
    threshold = max(margin * q, q + allowance_s)
    return Calibration(values, threshold, f"max({margin:g} x p{quantile * 100:g}, p{quantile * 100:g} + "
                                          f"{format_seconds(allowance_s)})")


# -- policy, events, outcomes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    """What the watchdog does about an anomaly."""

    recovery: str | Callable[[], Any] = "reconfigure"  #: "reconfigure" (ol.download()), "reset" (DMAs), "none", or a callable
    retries: int = 1  #: tries of the same input after a recovery before it is flagged and skipped
    alarm_after: int = 3  #: k consecutive anomalies raise an alarm
    widen: float = 1.0  #: on an alarm multiply the threshold by this (the paper: "slightly modify the thresholds")

    def __post_init__(self) -> None:
        if not callable(self.recovery) and self.recovery not in ("reconfigure", "reset", "none"):
            raise ValueError(f"recovery must be 'reconfigure', 'reset', 'none' or a callable, got {self.recovery!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"retries must be a whole number >= 0, got {self.retries!r}")
        if isinstance(self.alarm_after, bool) or not isinstance(self.alarm_after, int) or self.alarm_after < 1:
            raise ValueError(f"alarm_after must be a whole number >= 1, got {self.alarm_after!r}")
        if not self.widen >= 1:
            raise ValueError(f"widen must be >= 1 (1: never widen), got {self.widen!r}")


@dataclass(frozen=True)
class Event:
    """One line of the watchdog's log."""

    t: float  #: perf_counter time it was logged
    kind: str  #: one of EVENT_KINDS
    index: int | None  #: the input it concerns
    attempt: int
    reason: str
    measured: Timing | None = None  #: wall clock here
    modelled: Timing | None = None  #: simulated PL time (calls: the PL work they booked; recoveries: the bitstream)
    estimated: Timing | None = None  #: board estimate (when the engine makes one)
    cpu_wait_s: float = 0.0  #: calls: of the measured time, how long the thread waited for a CPU
    sim_s: float = 0.0  #: simulated board: of the measured time, the simulation's own computing (probe model_s)

    def __str__(self) -> str:
        times = "; ".join(str(x) for x in (self.measured, self.modelled, self.estimated) if x is not None)
        where = f"input {self.index}" if self.index is not None else "-"
        return f"{self.kind:<10} {where:<10} {self.reason}" + (f" [{times}]" if times else "")


@dataclass
class Outcome:
    """What became of one input: ``verified`` (its output passed the check) or ``flagged`` (with reasons)."""

    index: int
    status: str
    output: Any
    attempts: int
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0  #: measured: from the first try to the outcome, recoveries included

    @property
    def verified(self) -> bool:
        return self.status == "verified"


@dataclass
class WatchdogReport:
    """The outcomes of one :meth:`Watchdog.run` and its counters."""

    outcomes: list[Outcome]
    calls: int
    anomalies: int
    recoveries: int
    alarms: int
    seconds: float  #: measured wall time of the whole run
    threshold_s: float
    cpu_wait_s: float = 0.0  #: of ``seconds``, the time the watching thread waited for a CPU (busy machine)

    @property
    def verified(self) -> int:
        return sum(o.verified for o in self.outcomes)

    @property
    def flagged(self) -> int:
        return len(self.outcomes) - self.verified

    @property
    def per_second(self) -> float:
        """Inputs finished (verified or flagged) per measured second."""
        return len(self.outcomes) / self.seconds if self.seconds > 0 else float("nan")

    @property
    def per_second_own_cpu(self) -> float:
        """Inputs per second with the time spent waiting for a CPU left out (what a machine of one's own gives)."""
        own = self.seconds - self.cpu_wait_s
        return len(self.outcomes) / own if own > 0 else float("nan")

    def __str__(self) -> str:
        return (f"{len(self.outcomes)} inputs: {self.verified} verified, {self.flagged} flagged; {self.calls} calls, "
                f"{self.anomalies} anomalies, {self.recoveries} recoveries, {self.alarms} alarms; "
                f"{self.per_second:.1f} inputs/s (measured on {this_machine()}); threshold "
                f"{format_seconds(self.threshold_s)}")


# -- the watchdog ---------------------------------------------------------------------------------------------

class Watchdog:
    """Watch ``call(input, timeout) -> output`` against a calibrated threshold; recover and carry on.

    Args:
        call: the kernel call; it must stop by itself after ``timeout`` seconds (labkit's engines do).
        check: ``check(input, output) -> bool``; a False is an anomaly (default: every output passes).
        overlay: the overlay to recover (needed for ``recovery="reconfigure"`` or ``"reset"``).
        policy: what to do about anomalies (:class:`Policy`).
        threshold: seconds; an expert's threshold instead of :meth:`calibrate`.
        reinit: called after every recovery (re-initialise what the reload reset, e.g. kernel registers).
        estimate: ``estimate(output) -> seconds | None``: the engine's board estimate of the call.
        on_alarm: called with the alarm :class:`Event`.
        name: how the log names what is watched.
    """

    def __init__(self, call: Callable[[Any, float], Any], *, check: Callable[[Any, Any], bool] | None = None,
                 overlay: Any = None, policy: Policy | None = None, threshold: float | None = None,
                 reinit: Callable[[], Any] | None = None, estimate: Callable[[Any], float | None] | None = None,
                 on_alarm: Callable[[Event], Any] | None = None, name: str = "call") -> None:
        if not callable(call):
            raise TypeError(f"call must be a callable call(input, timeout), got {type(call).__name__}")
        self.call = call
        self.check = check
        self.overlay = overlay
        self.policy = policy or Policy()
        if self.policy.recovery in ("reconfigure", "reset") and overlay is None:
            raise ValueError(f"recovery={self.policy.recovery!r} needs the overlay: Watchdog(..., overlay=ol)")
        self.reinit = reinit
        self.estimate = estimate
        self.on_alarm = on_alarm
        self.name = name
        self.listeners: list[Callable[[Event], Any]] = []  #: called with every event (the live widget)
        self.events: deque[Event] = deque(maxlen=_LOG_LENGTH)
        self.calibration: Calibration | None = None
        self.threshold_s: float | None = None
        if threshold is not None:
            self.set_threshold(threshold, "given by an expert")
            self.calibration = Calibration((), float(threshold), "given by an expert")
        self.calls = self.anomalies = self.recoveries = self.alarms = 0
        self._consecutive = 0
        self._probe = board.probe(overlay) if overlay is not None else None
        self._sim0 = self._last_wait = 0.0  # of the call being judged: sim time at its start, CPU wait
        self._last_times: tuple = (None, None, None)

    # -- threshold ----------------------------------------------------------------------------------------
    def set_threshold(self, seconds: float, why: str = "given by an expert") -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
            raise ValueError(f"threshold must be a positive number of seconds, got {seconds!r}")
        self.threshold_s = float(seconds)
        self._log("threshold", None, 0, f"threshold {format_seconds(self.threshold_s)} ({why})")

    def calibrate(self, inputs: Iterable[Any], *, warmup: int = 1, margin: float = DEFAULT_MARGIN,
                  allowance_s: float = DEFAULT_ALLOWANCE_S, timeout: float = DEFAULT_TIMEOUT_S) -> Calibration:
        """Run ``call`` on each of ``inputs`` (the first ``warmup`` not timed), check every output, and set
        the threshold from the measured times.  Raises :class:`CalibrationError` if any call fails."""
        samples = []
        for i, x in enumerate(inputs):
            start, waited, sim0 = time.perf_counter(), cpu_wait_s(), self._sim_now()
            try:
                with no_gc():
                    out = self.call(x, timeout)
            except Exception as exc:  # noqa: BLE001 -- any failure spoils a calibration
                raise CalibrationError(f"calibration call {i} failed ({type(exc).__name__}: {exc}); calibrate on "
                                       "a healthy board: no faults armed (faults.clear())") from exc
            took = own_time(time.perf_counter() - start, cpu_wait_s() - waited, self._sim_now() - sim0)
            if self.check is not None and not self.check(x, out):
                raise CalibrationError(f"calibration call {i} gave an output that fails the check; calibrate on a "
                                       "healthy board, or fix the check")
            if i >= warmup:
                samples.append(took)
        self.calibration = calibrate_threshold(samples, margin, allowance_s)
        self.threshold_s = self.calibration.threshold_s
        self._log("calibrated", None, 0, str(self.calibration), measured(sum(samples)))
        return self.calibration

    def deadline_s(self) -> float:
        """The timeout handed to the call.  The threshold bounds the whole call, while the call's timeout
        bounds its waits for the PL, which start after its own PS work (about the calibrated median):
        the deadline is the threshold less that median (at least half the threshold), so a hang is
        reported about one threshold after the call began."""
        threshold = float(self.threshold_s)
        samples = self.calibration.samples if self.calibration is not None else ()
        if not samples:
            return threshold
        return max(threshold - float(np.median(samples)), threshold / 2)

    # -- watching ---------------------------------------------------------------------------------------------
    def process(self, x: Any, index: int = 0) -> Outcome:
        """One input under the watchdog: its outcome, after as many tries as the policy allows."""
        if self.threshold_s is None:
            raise CalibrationError("no threshold yet: call calibrate(healthy_inputs) first, or give threshold=")
        first = time.perf_counter()
        reasons: list[str] = []
        out = None
        for attempt in range(1 + self.policy.retries):
            reason, out = self._attempt(x, index, attempt)
            if reason is None:
                return Outcome(index, "verified", out, attempt + 1, reasons, time.perf_counter() - first)
            reasons.append(reason)
            self._anomaly(index, attempt, reason)
            self._recover(index, attempt)
        self._log("flagged", index, self.policy.retries, "; ".join(reasons))
        return Outcome(index, "flagged", out, self.policy.retries + 1, reasons, time.perf_counter() - first)

    def run(self, inputs: Iterable[Any]) -> WatchdogReport:
        """:meth:`process` every input in order; the report has one outcome per input."""
        before = (self.calls, self.anomalies, self.recoveries, self.alarms)
        start, waited = time.perf_counter(), cpu_wait_s()
        outcomes = [self.process(x, i) for i, x in enumerate(inputs)]
        after = (self.calls, self.anomalies, self.recoveries, self.alarms)
        calls, anomalies, recoveries, alarms = (a - b for a, b in zip(after, before))
        return WatchdogReport(outcomes, calls, anomalies, recoveries, alarms, time.perf_counter() - start,
                              float(self.threshold_s), cpu_wait_s() - waited)

    def _attempt(self, x: Any, index: int, attempt: int) -> tuple[str | None, Any]:
        """One call under the deadline: (None, output) if healthy, else (why, output or None)."""
        threshold = float(self.threshold_s)
        snap = self._probe.snapshot() if self._probe is not None and self._probe.simulated else None
        mark = snap.mark if snap is not None else None
        self._sim0 = snap.model_s if snap is not None else 0.0
        self.calls += 1
        with no_gc():
            return self._timed_attempt(x, index, attempt, threshold, mark)

    def _timed_attempt(self, x: Any, index: int, attempt: int, threshold: float,
                       mark: int | None) -> tuple[str | None, Any]:
        start, waited = time.perf_counter(), cpu_wait_s()
        try:
            out = self.call(x, self.deadline_s())
        except TimeoutError as exc:
            took = time.perf_counter() - start
            self._last_wait = cpu_wait_s() - waited
            return self._bad("timeout", index, attempt, took, mark, None,
                             f"no result within the threshold {format_seconds(threshold)}: {_first_line(exc)}")
        except Exception as exc:  # noqa: BLE001 -- an engine's error (DMA error ...) is an anomaly, not a crash
            took = time.perf_counter() - start
            self._last_wait = cpu_wait_s() - waited
            return self._bad("error", index, attempt, took, mark, None, f"{type(exc).__name__}: {_first_line(exc)}")
        took = time.perf_counter() - start
        descheduled = self._last_wait = cpu_wait_s() - waited
        simulation = self._sim_since()
        if own_time(took, descheduled, simulation) > threshold:
            return self._bad("slow", index, attempt, took, mark, out,
                             f"took {format_seconds(took)} (not counted: {format_seconds(descheduled)} waiting for a "
                             f"CPU, {format_seconds(simulation)} of the simulation's own computing), over the "
                             f"threshold {format_seconds(threshold)}")
        if self.check is not None and not self.check(x, out):
            return self._bad("check", index, attempt, took, mark, out, "the output failed the check")
        self._consecutive = 0
        self._log("ok", index, attempt, "verified", measured(took), self._modelled(mark), self._estimated(out),
                  descheduled)
        return None, out

    def _bad(self, what: str, index: int, attempt: int, took: float, mark: int | None, out: Any,
             detail: str) -> tuple[str, Any]:
        reason = f"{what}: {detail}"
        self._last_times = (measured(took), self._modelled(mark), self._estimated(out) if out is not None else None)
        return reason, out

    def _anomaly(self, index: int, attempt: int, reason: str) -> None:
        self.anomalies += 1
        self._consecutive += 1
        self._log("anomaly", index, attempt, reason, *self._last_times, cpu_wait=self._last_wait,
                  sim_s=self._sim_since())
        if self._consecutive >= self.policy.alarm_after:
            self.alarms += 1
            self._consecutive = 0
            event = self._log("alarm", index, attempt, f"{self.policy.alarm_after} anomalies in a row (last: {reason})")
            if self.on_alarm is not None:
                self.on_alarm(event)
            if self.policy.widen > 1:
                self.set_threshold(float(self.threshold_s) * self.policy.widen,
                                   f"widened x{self.policy.widen:g} after an alarm")

    def _recover(self, index: int, attempt: int) -> None:
        recovery = self.policy.recovery
        if recovery == "none":
            return
        start = time.perf_counter()
        modelled = None
        if recovery == "reconfigure":
            done = reconfigure(self.overlay)
            modelled = done.modelled
            what = "PL reconfigured (ol.download()), DMAs restarted"
        elif recovery == "reset":
            reset_dmas(self.overlay)
            what = "DMAs reset and restarted"
        else:
            recovery()
            what = f"{getattr(recovery, '__name__', 'recovery')}() called"
        if self.reinit is not None:
            self.reinit()
        self.recoveries += 1
        self._log("recovery", index, attempt, what, measured(time.perf_counter() - start), modelled)

    # -- times and the log ----------------------------------------------------------------------------------------
    def _modelled(self, mark: int | None) -> Timing | None:
        if mark is None:
            return None
        work, _ = self._probe.intervals_since(mark)
        if not work:
            return None
        span = max(iv.end for iv in work) - min(iv.start for iv in work)
        return Timing(span, "modelled", f"simulated {self._probe.board}: PL work booked by the call")

    def _estimated(self, out: Any) -> Timing | None:
        if self.estimate is None or out is None:
            return None
        seconds = self.estimate(out)
        if seconds is None:
            return None
        return Timing(float(seconds), "estimated", f"{self._probe.board if self._probe else 'board'} profile")

    def _sim_now(self) -> float:
        """Seconds this process has spent in the simulated board's own computing (0 on a real board)."""
        if self._probe is None or not self._probe.simulated:
            return 0.0
        return self._probe.snapshot().model_s

    def _sim_since(self) -> float:
        return self._sim_now() - self._sim0

    def _log(self, kind: str, index: int | None, attempt: int, reason: str, measured_: Timing | None = None,
             modelled: Timing | None = None, estimated: Timing | None = None, cpu_wait: float = 0.0,
             sim_s: float = 0.0) -> Event:
        event = Event(time.perf_counter(), kind, index, attempt, reason, measured_, modelled, estimated, cpu_wait,
                      sim_s)
        self.events.append(event)
        for listener in list(self.listeners):
            listener(event)
        return event

    def counters(self) -> dict[str, int]:
        return {"calls": self.calls, "anomalies": self.anomalies, "recoveries": self.recoveries, "alarms": self.alarms}

    def log(self, kinds: Iterable[str] | None = None, last: int = 20) -> str:
        """The newest ``last`` events (of ``kinds``) as text."""
        wanted = set(kinds) if kinds is not None else None
        chosen = [e for e in self.events if wanted is None or e.kind in wanted][-last:]
        return "\n".join(str(e) for e in chosen)

    def __repr__(self) -> str:
        threshold = format_seconds(self.threshold_s) if self.threshold_s else "not calibrated"
        return f"<Watchdog {self.name}: threshold {threshold}, {self.counters()}>"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.split(". ")[0][:200] if text else type(exc).__name__


# -- ready-made watchdogs for labkit's engines -------------------------------------------------------------------

def watch_accelerator(acc: Any, *, check: Callable[[Any, Any], bool] | None = None, **kwargs: Any) -> Watchdog:
    """A watchdog around ``CnnAccelerator.classify``: the deadline is the accelerator's timeout, the
    default check compares the scores with the numpy reference (bit for bit), the estimate is the
    accelerator's board estimate.  During a watched call the accelerator's own reload after a failure
    is off (``acc.recover_on_failure``): the watchdog's policy recovers instead."""
    from .classifier import classify_reference

    def call(images: Any, timeout: float) -> Any:
        saved = acc.timeout, acc.recover_on_failure
        acc.timeout, acc.recover_on_failure = timeout, False  # the watchdog recovers, by its policy
        try:
            return acc.classify(images)
        finally:
            acc.timeout, acc.recover_on_failure = saved

    def matches_reference(images: Any, scores: Any) -> bool:
        return bool(np.array_equal(scores, classify_reference(images)))

    def estimate(_: Any) -> float | None:
        return acc.last_run.estimated_s if acc.last_run is not None else None

    kwargs.setdefault("name", "cnn_classifier")
    return Watchdog(call, check=check or matches_reference, overlay=acc.overlay, estimate=estimate, **kwargs)


def watch_transfer(method: str, overlay: Any, **kwargs: Any) -> Watchdog:
    """A watchdog around ``labkit.transfer.run(method, overlay, data)``: the check is the method's own
    verification against the kernel's numpy twin."""
    from . import transfer

    kwargs.setdefault("name", method)
    return Watchdog(lambda data, timeout: transfer.run(method, overlay, data, timeout=timeout),
                    check=lambda data, result: result.verified, overlay=overlay,
                    estimate=lambda result: result.estimated, **kwargs)
