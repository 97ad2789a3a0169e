"""Check functions for the notebooks' exercises: they say what is right, and what is wrong and why.

Each returns True when the answer is right and prints a short explanation
either way, so a student gets more than "wrong".
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["check_element_address"]


def _verdict(ok: bool, message: str) -> bool:
    print(("Correct: " if ok else "Not yet: ") + message)
    return ok


def check_element_address(buf: np.ndarray, index: Sequence[int] | int, answer: int) -> bool:
    """Exercise of 00_start_here: the physical address of ``buf[index]``.

    A buffer from ``pynq.allocate`` is one contiguous block; element ``index`` lives
    ``offset * itemsize`` bytes after ``buf.physical_address``, where ``offset`` counts elements
    in C (row-major) order.
    """
    if not hasattr(buf, "physical_address"):
        raise TypeError("buf must come from pynq.allocate (it needs a physical_address)")
    index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
    offset = int(np.ravel_multi_index(index, buf.shape))
    right = buf.physical_address + offset * buf.itemsize
    if answer == right:
        return _verdict(True, f"element {index} is {offset} elements x {buf.itemsize} bytes = "
                              f"{offset * buf.itemsize:#x} bytes after {buf.physical_address:#x}.")
    if answer == buf.physical_address + offset:
        return _verdict(False, f"you counted elements, but addresses count bytes: multiply the offset "
                               f"{offset} by the item size ({buf.itemsize} bytes for {buf.dtype}).")
    if answer - buf.physical_address == offset * buf.itemsize * 8:
        return _verdict(False, "that is a bit offset; physical addresses count bytes.")
    return _verdict(False, f"{answer:#x} is {answer - buf.physical_address:+#x} bytes from the start; "
                           f"element {index} is element number {offset} in row-major order.")
