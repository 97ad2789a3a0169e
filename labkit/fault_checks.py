"""Check functions for lesson 08 (faults and recovery): a hint for any wrong answer, never a traceback."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .checks import _verdict
from .timing import format_seconds

__all__ = ["check_threshold"]


def check_threshold(samples: Sequence[float], answer: object) -> bool:
    """Exercise of 08: a watchdog threshold (seconds) chosen from calibration call times ``samples``.

    Right: above every healthy call seen (no false alarm on the calibration itself), with headroom
    for the PS's jitter, and not so loose that a hang takes ages to notice or a kernel several
    times slower passes unseen.
    """
    times = np.asarray(list(samples), dtype=float)
    if times.size < 5:
        return _verdict(False, "give at least 5 calibration times (wd.calibration.samples) to choose from.")
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return _verdict(False, f"the threshold is a number of seconds, e.g. 0.05; got {type(answer).__name__}.")
    answer = float(answer)
    median, p99, slowest = float(np.median(times)), float(np.quantile(times, 0.99)), float(times.max())
    if answer <= 0:
        return _verdict(False, "a threshold must be a positive number of seconds.")
    if answer > 1 and slowest < 0.5:
        return _verdict(False, f"{answer:g} looks like milliseconds: the watchdog takes seconds "
                               f"(e.g. {answer / 1000:g}).")
    if answer <= median:
        return _verdict(False, f"{format_seconds(answer)} is at or below the median call ({format_seconds(median)}): "
                               "half of the healthy calls would be anomalies, and each one reloads the PL.")
    if answer <= slowest:
        return _verdict(False, f"the slowest healthy call took {format_seconds(slowest)}, above your "
                               f"{format_seconds(answer)}: it would already have been an anomaly. Leave headroom "
                               "above the slowest calls (the PS runs Linux: calls jitter).")
    if answer < p99 + 0.002:
        return _verdict(False, "only just above the slowest call: a little more jitter than in the calibration "
                               "(another program, the garbage collector) would raise false alarms. Add a few ms.")
    loose = max(10 * p99, p99 + 0.5)
    if answer > loose:
        return _verdict(False, f"{format_seconds(answer)} is very loose: a hang is noticed only after that long, and "
                               f"a kernel 5x slower than usual ({format_seconds(5 * median)}) would pass unseen. "
                               "The paper's routine wants a threshold close to the calibrated time.")
    return _verdict(True, f"{format_seconds(answer)} is above every healthy call ({format_seconds(slowest)} the "
                          f"slowest) with headroom, and a hang is noticed after {format_seconds(answer)} instead of "
                          f"never. labkit's own rule: max(1.5 x p99, p99 + 20 ms).")
