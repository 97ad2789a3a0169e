"""The exercise of notebook 09: read the calibration view (a hint for any wrong answer, never a traceback)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..checks import _verdict, close
from .report import calibration

__all__ = ["check_calibration_ratio"]


def _close(a: float, b: float, rel: float = 0.03) -> bool:
    return close(a, b, rel)


def check_calibration_ratio(df: pd.DataFrame, profile: str, answer: Any) -> bool:
    """How many times longer real ``profile`` boards took than the simulated board estimated:
    the median over methods and sizes of measured (real) / estimated (simulated)."""
    table = calibration(df)
    mine = table[table["profile"] == profile]
    if mine.empty:
        known = ", ".join(sorted(table["profile"].unique())) or "none"
        return _verdict(False, f"this class has no real {profile} boards next to simulated ones; profiles with "
                               f"both: {known}.")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _verdict(False, f"give one number (a ratio such as 1.25), got {answer!r}.")
    right = float(mine["ratio"].median())
    if _close(value, right):
        slower = "slower" if right > 1 else "faster"
        return _verdict(True, f"real {profile} boards took {right:.2f}x the estimate (median of {len(mine)} "
                              f"method/size cells): the estimate is {abs(right - 1) * 100:.0f}% "
                              f"{'optimistic' if right > 1 else 'pessimistic'}; the boards run {slower}.")
    if value and _close(1 / value, right):
        return _verdict(False, "upside down: the ratio is measured on the real board / estimated by the simulated "
                               "one.")
    if _close(value, float(table["ratio"].median())):
        return _verdict(False, f"that mixes every profile; keep only the {profile} rows (table[table.profile == "
                               f"'{profile}']).")
    others = table[table["profile"] != profile]
    for name, part in others.groupby("profile"):
        if _close(value, float(part["ratio"].median())):
            return _verdict(False, f"that is the {name} boards' ratio; the question is about {profile}.")
    if _close(value, float(mine["ratio"].mean())):
        return _verdict(False, "that is the mean; take the median (one slow cell should not move the answer).")
    return _verdict(False, f"{value:g} is not it: take report.calibration(df), keep the {profile} rows and the "
                           "median of the 'ratio' column (measured_real_s / estimated_s).")
