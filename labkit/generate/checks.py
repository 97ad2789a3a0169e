"""The check of notebook 11's exercise: a compute body that makes the kernel return 2 x + 1."""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.classroom.records import CheckResult, autosave

__all__ = ["check_points_body"]


def _verdict(ok: bool, message: str) -> bool:
    print(("Correct: " if ok else "Not yet: ") + message)
    autosave(CheckResult(ok, message))  # classroom record of this attempt
    return ok


def check_points_body(x: Any, y: Any) -> bool:
    """Exercise of 11_generated_interfaces: ``y`` (what the kernel returned for ``x``) must be ``2 * x + 1``.

    Never raises: every wrong answer gets a hint.
    """
    try:
        x = np.asarray(x)
        y = np.asarray(y)
    except Exception as exc:  # noqa: BLE001 - a check must answer, not crash
        return _verdict(False, f"pass the input and what the kernel returned as arrays ({exc})")
    if y.shape != x.shape:
        return _verdict(False, f"the kernel returned shape {y.shape} for an input of shape {x.shape}: pass y = "
                               f"points(x), the same x you sent")
    if y.dtype != np.int32:
        return _verdict(False, f"y is {y.dtype}; the driver returns int32 -- pass what points(x) returned")
    want = (2 * x.astype(np.int64) + 1).astype(np.int32)
    if np.array_equal(y, want):
        return _verdict(True, "the kernel computes 2 x + 1: your body replaced the pass-through, and the "
                              "interface (streams, TLAST, driver) stayed what the spec says")
    if np.array_equal(y, x):
        return _verdict(False, "still the pass-through: write your body into hls/points_compute.h and call "
                               "drv.simulate_cpp() again so the simulated board compiles it")
    if np.array_equal(y, 2 * x):
        return _verdict(False, "2 x: the + 1 is missing")
    if np.array_equal(y, x + 1):
        return _verdict(False, "x + 1: the factor 2 is missing")
    wrong = int(np.flatnonzero(y.reshape(-1) != want.reshape(-1))[0])
    return _verdict(False, f"point {wrong} is {int(y.reshape(-1)[wrong])}, expected 2 * {int(x.reshape(-1)[wrong])} "
                           f"+ 1 = {int(want.reshape(-1)[wrong])}; the body writes out_stream[e] from in_stream[e]")
