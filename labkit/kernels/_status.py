"""Return codes of the kernel bridges (mirror of hls/common/lab_bridge.h).

A test in tests/hls checks that every value here equals the C++ enum.
"""

from __future__ import annotations

from typing import Dict, Tuple

LAB_OK = 0
LAB_DECODE_ERROR = 1
LAB_ERR_NULL = -1
LAB_ERR_ZERO_LENGTH = -2
LAB_ERR_TOO_LARGE = -3
LAB_ERR_INPUT_DRY = -4
LAB_ERR_INPUT_EXTRA = -5
LAB_ERR_OUT_CAP = -6
LAB_ERR_BAD_WINDOW = -7
LAB_ERR_INTERNAL = -99

#: code -> (name, what it means for the student)
STATUS: Dict[int, Tuple[str, str]] = {
    LAB_OK: ("LAB_OK", "the kernel ran"),
    LAB_DECODE_ERROR: ("LAB_DECODE_ERROR",
                       "an m_axi address is outside DDR or not 4-byte aligned "
                       "(on hardware: an AXI decode error); memory was not touched"),
    LAB_ERR_NULL: ("LAB_ERR_NULL", "a required buffer pointer is NULL"),
    LAB_ERR_ZERO_LENGTH: ("LAB_ERR_ZERO_LENGTH", "a size that must be non-zero is zero"),
    LAB_ERR_TOO_LARGE: ("LAB_ERR_TOO_LARGE", "a size exceeds the kernel's on-chip buffer"),
    LAB_ERR_INPUT_DRY: ("LAB_ERR_INPUT_DRY",
                        "the input stream ran dry: on hardware the kernel would "
                        "wait forever for the missing beats"),
    LAB_ERR_INPUT_EXTRA: ("LAB_ERR_INPUT_EXTRA",
                          "more input beats than the kernel reads: on hardware "
                          "the DMA transfer would never finish"),
    LAB_ERR_OUT_CAP: ("LAB_ERR_OUT_CAP", "the output buffer is too small"),
    LAB_ERR_BAD_WINDOW: ("LAB_ERR_BAD_WINDOW",
                         "the simulated DDR window's base or size is not a multiple of 4"),
    LAB_ERR_INTERNAL: ("LAB_ERR_INTERNAL", "unexpected C++ exception inside the bridge"),
}


def describe(code: int) -> str:
    """A one-line explanation of a bridge return code.

    (The streaming bridges return a beat count on success; only pass them
    here when they are negative.)
    """
    name, text = STATUS.get(code, (f"code {code}", "unknown return code"))
    return f"{name}: {text}"
