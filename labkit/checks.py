"""Check functions for the notebooks' exercises: they say what is right, and what is wrong and why.

Each returns True when the answer is right and prints a short explanation
either way, so a student gets more than "wrong".  A check never raises: an answer of the wrong
type (a string, None, NaN, an array where a slice was asked for ...) gets a hint that says what
was expected, like any other wrong answer.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Sequence, TypeVar

import numpy as np

from .classroom.records import CheckResult, autosave
from .timing import format_seconds

__all__ = ["check_element_address", "check_per_word_prediction", "check_array_slice", "check_packed16",
           "check_dma_max_transfer", "check_dma_status_bit", "check_pingpong_speedup", "check_limiting_stage",
           "check_dram_syncs", "check_flip_kernel", "DMASR_BITS", "AnswerError", "hinted", "note_answer", "close"]


def _verdict(ok: bool, message: str) -> bool:
    print(("Correct: " if ok else "Not yet: ") + message)
    autosave(CheckResult(ok, message))  # classroom record of this attempt
    return ok


def note_answer(ok: bool, what: str) -> bool:
    """For a cell that computes from an exercise's answer: say so when that answer's check did not pass.

    After *Run All* the first (wrong) attempt flows into the cells below it; this line keeps a
    student from reading those figures as right.  ``ok`` is what the check returned.
    """
    if ok is not True:
        print(f"Note: {what} did not pass its check above, and this cell uses it as it is. Fix it, run the "
              "check again, then this cell.")
    return ok is True


class AnswerError(TypeError):
    """An answer (or an argument of a check) a check cannot judge; :func:`hinted` prints it as a hint."""


_Check = TypeVar("_Check", bound=Callable[..., bool])


def hinted(expected: str) -> Callable[[_Check], _Check]:
    """Make a check print a hint instead of raising.

    :class:`AnswerError` (the checks' own "this is not the kind of answer I asked for") becomes
    ``Not yet: <its message>``.  Anything else the check trips over while judging an odd answer
    becomes ``Not yet: the check could not judge ...`` with ``expected`` (what a right answer looks
    like), so a student always gets a sentence to act on, never a traceback.
    """
    def wrap(check: _Check) -> _Check:
        @functools.wraps(check)
        def judged(*args, **kwargs) -> bool:
            try:
                return check(*args, **kwargs)
            except AnswerError as exc:
                return _verdict(False, str(exc))
            except Exception as exc:  # noqa: BLE001 -- an answer nobody foresaw: still a hint, not a traceback
                return _verdict(False, f"the check could not judge this answer ({type(exc).__name__}: {exc}). "
                                       f"It expects {expected}.")
        return judged  # type: ignore[return-value]
    return wrap


@hinted("the physical address as a whole number, e.g. buf.physical_address + <bytes from the start>")
def check_element_address(buf: np.ndarray, index: Sequence[int] | int, answer: int) -> bool:
    """Exercise of 00_start_here: the physical address of ``buf[index]``.

    A buffer from ``pynq.allocate`` is one contiguous block; element ``index`` lives
    ``offset * itemsize`` bytes after ``buf.physical_address``, where ``offset`` counts elements
    in C (row-major) order.
    """
    if not hasattr(buf, "physical_address"):
        raise AnswerError("buf must come from pynq.allocate (it needs a physical_address)")
    index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
    offset = int(np.ravel_multi_index(index, buf.shape))
    right = buf.physical_address + offset * buf.itemsize
    answer = _integer(answer, "the address")
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


# -- helpers for the checks below ----------------------------------------------------------------------

def _what(value) -> str:
    """How a hint names a value of the wrong kind: its type, and the value itself when short."""
    shown = repr(value)
    return f"{type(value).__name__} {shown}" if len(shown) <= 40 else type(value).__name__


def _number(value, name: str) -> float:
    """``value`` as a finite float; :class:`AnswerError` for anything else (bools, strings, None, NaN, arrays)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, str):
        raise AnswerError(f"{name} must be a number, not the text {value!r}: drop the quotes (and any unit; "
                          "write the number in the unit asked for).")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise AnswerError(f"{name} must be a number, got {_what(value)}.")
    if not math.isfinite(float(value)):
        raise AnswerError(f"{name} is {float(value)}: not a number you can compare. Check what you divided by "
                          "(a zero, or a NaN from an empty measurement).")
    return float(value)


def _integer(value, name: str) -> int:
    """``value`` as an int; floats that are whole numbers pass, anything else is an :class:`AnswerError`."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    if isinstance(value, (float, np.floating)):
        raise AnswerError(f"{name} must be a whole number, got {value!r}: use // (integer division), not /.")
    if isinstance(value, str):
        raise AnswerError(f"{name} must be a whole number, not the text {value!r}: drop the quotes "
                          "(0x100 without quotes is a number in Python).")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise AnswerError(f"{name} must be a whole number (int), got {_what(value)}.")
    return int(value)


def close(answer: float, right: float, rel: float, abs_tol: float = 0.0) -> bool:
    """Is ``answer`` within ``rel`` (a fraction) of the ``right`` one?  NaN and infinities never are.

    The one tolerance rule of every check (labkit.checks, power_checks, classifier.checks, classroom).
    """
    return abs(answer - right) <= max(rel * abs(right), abs_tol)


# -- 01_mmio_per_word ----------------------------------------------------------------------------------

@hinted("a time in seconds (a float), e.g. per_word_s * <number of writes>")
def check_per_word_prediction(per_word_s: float, shape: Sequence[int], answer_s: float) -> bool:
    """Exercise of 01_mmio_per_word: the time of the per-word loop for an image of ``shape``.

    One ``MMIO.write`` per pixel, each costing ``per_word_s`` seconds: the loop takes
    ``rows * cols * per_word_s``.  ``answer_s`` is in seconds; 5 % off is close enough.
    """
    per_word = _number(per_word_s, "per_word_s")
    answer = _number(answer_s, "answer_s")
    if per_word <= 0:
        raise AnswerError("per_word_s must be a positive time in seconds (the cost of one MMIO.write)")
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
        raise AnswerError(f"shape must be (rows, cols), got {shape!r}")
    rows, cols = (_integer(n, "shape") for n in shape)
    words = rows * cols
    right = words * per_word
    if close(answer, right, 0.05):
        return _verdict(True, f"{rows} x {cols} = {words:,} writes x {format_seconds(per_word)} = "
                              f"{format_seconds(right)}. The loop's time grows with the number of words, one "
                              "bus write each.")
    if close(answer, 5600 * per_word, 0.05) and words != 5600:
        return _verdict(False, f"that is the forum's 70 x 80 = 5,600 writes; this image has {rows} x {cols} = "
                               f"{words:,} pixels, one write each.")
    if close(answer, per_word, 0.05):
        return _verdict(False, "that is the cost of a single write; the loop does one write per pixel.")
    if close(answer, (rows + cols) * per_word, 0.05):
        return _verdict(False, f"rows + cols counts {rows + cols} writes; the loop writes every pixel: rows x cols.")
    if close(answer, 4 * right, 0.05):
        return _verdict(False, "you counted bytes (4 per pixel); the loop does one write per 32-bit word, "
                               "i.e. per pixel.")
    for factor, unit in ((1e3, "milliseconds"), (1e6, "microseconds")):
        if close(answer, right * factor, 0.05):
            return _verdict(False, f"the number is right but in {unit}; give the answer in seconds "
                                   f"(divide by {factor:g}).")
        if close(answer, 5600 * per_word * factor, 0.05):
            return _verdict(False, f"that is the forum's 70 x 80 = 5,600 writes, and in {unit}: count this "
                                   f"image's {words:,} pixels, and give seconds.")
    if answer <= 0:
        return _verdict(False, f"a time is positive; {words:,} writes of {format_seconds(per_word)} each.")
    implied = answer / words
    if 0.02 < implied / per_word < 50:
        return _verdict(False, f"if you counted {words:,} writes, you used {format_seconds(implied)} per write. "
                               f"The cost that predicts the loop is per_word_s = {format_seconds(per_word)}, measured "
                               "on the whole loop (not PL.write alone, not a single timing): multiply by that one.")
    return _verdict(False, f"{format_seconds(answer)} is {answer / right:.3g}x the time {words:,} writes of "
                           f"{format_seconds(per_word)} each would take. Count the writes, then multiply.")


# -- 02_mmio_array ---------------------------------------------------------------------------------------

@hinted("a slice such as slice(0x100, 0x200) or a pair (start, stop) of word indices")
def check_array_slice(byte_start: int, byte_end: int, answer) -> bool:
    """Exercise of 02_mmio_array: the ``mmio.array`` slice for the bytes ``[byte_start, byte_end)``.

    ``mmio.array`` holds 32-bit words, so word ``i`` is at byte offset ``4 * i``: the slice is
    ``byte_start // 4 : byte_end // 4`` (the end excluded, as always in Python).  ``answer`` is a
    ``slice`` or a ``(start, stop)`` pair.
    """
    start_b, end_b = _integer(byte_start, "byte_start"), _integer(byte_end, "byte_end")
    if start_b < 0 or end_b <= start_b:
        raise AnswerError(f"the byte range must be 0 <= byte_start < byte_end, got {start_b:#x}..{end_b:#x}")
    if start_b % 4 or end_b % 4:
        raise AnswerError(f"{start_b:#x}..{end_b:#x} does not start and end on 32-bit words (multiples of 4): "
                        "mmio.array cannot address part of a word")
    right = (start_b // 4, end_b // 4)
    words = right[1] - right[0]
    if isinstance(answer, slice):
        if answer.step not in (None, 1):
            return _verdict(False, f"the slice has a step of {answer.step}; the words are consecutive, step 1.")
        if answer.start is None or answer.stop is None:
            return _verdict(False, "give both ends of the slice: slice(start, stop), word indices.")
        got = (answer.start, answer.stop)
    elif isinstance(answer, (tuple, list)) and len(answer) == 2:
        got = tuple(answer)
    elif isinstance(answer, (np.ndarray, range, list, tuple)):
        indices = np.asarray(list(answer) if isinstance(answer, range) else answer).reshape(-1)
        if indices.size == words and np.issubdtype(indices.dtype, np.integer) and \
                np.array_equal(indices, np.arange(*right)):
            return _verdict(False, f"those are the right {words} word indices, listed one by one; the exercise asks "
                                   f"for the slice itself: slice({right[0]:#x}, {right[1]:#x}) (or the pair).")
        return _verdict(False, f"that is an array (or list) of {indices.size} values; the exercise asks for a "
                               "slice, slice(start, stop), or a pair (start, stop) of word indices. If you took "
                               "PL.array[...], give the indices you used, not the words it returned.")
    else:
        raise AnswerError(f"answer must be a slice like slice(0x100, 0x200) or a pair (start, stop); "
                          f"got {_what(answer)}")
    start, stop = (_integer(v, "each end of the slice") for v in got)
    if (start, stop) == right:
        return _verdict(True, f"mmio.array[{right[0]:#x}:{right[1]:#x}] covers bytes {start_b:#x} to "
                              f"{end_b:#x}: {words} words, index = byte offset // 4.")
    if (start, stop) == (start_b, end_b):
        return _verdict(False, "those are byte offsets; mmio.array counts 32-bit words, so divide by 4 "
                               "(Peter's array[0x100:0x200] is bytes 0x400 to 0x800).")
    if (start, stop) == (start_b * 4, end_b * 4):
        return _verdict(False, "you multiplied by 4; go the other way: a word index is the byte offset // 4.")
    if (start, stop) == (right[0], right[1] - 1):
        return _verdict(False, f"a Python slice excludes its stop: [{right[0]:#x}:{right[1] - 1:#x}] misses "
                               f"the last word. Use {right[1]:#x}.")
    if start == right[0] and stop == words:
        return _verdict(False, f"the stop is an index, not a length: start + {words} words = {right[1]:#x}.")
    if (start, stop) == (start_b // 8, end_b // 8) or (start, stop) == (start_b // 2, end_b // 2):
        return _verdict(False, "words are 4 bytes (32 bits) wide here: divide the byte offsets by 4.")
    return _verdict(False, f"[{start:#x}:{stop:#x}] covers bytes {start * 4:#x} to {stop * 4:#x}; you need "
                           f"{start_b:#x} to {end_b:#x}.")


@hinted("a numpy array of uint32 words, e.g. pixels.view(np.uint32)")
def check_packed16(pixels: np.ndarray, answer) -> bool:
    """Exercise of 02_mmio_array: 16-bit pixels packed two per 32-bit word with a numpy view.

    The kernel (``pack16=1``) expects pixel ``2i`` in bits 15..0 of word ``i`` and pixel
    ``2i+1`` in bits 31..16: on a little-endian CPU that is exactly the uint16 data seen as
    uint32 -- ``pixels.view(np.uint32)``, no bit shifts and no copy.
    """
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint16:
        raise AnswerError("pixels must be a numpy array of uint16 (16-bit pixels)")
    if pixels.size % 2:
        raise AnswerError("pixels must have an even number of elements (two per 32-bit word)")
    if not isinstance(answer, np.ndarray):
        raise AnswerError(f"answer must be a numpy array of uint32 words (e.g. pixels.view(np.uint32)), "
                          f"got {_what(answer)}")
    flat = np.ascontiguousarray(pixels).reshape(-1)
    right = flat.view(np.uint32)
    shared = np.shares_memory(answer, pixels)
    how = ("a view that keeps one pixel per element" if shared else
           "one pixel per element (astype() converts each pixel into a new array, it does not pack)")
    if answer.dtype != np.uint32:
        if answer.size == flat.size and np.array_equal(answer.reshape(-1).astype(np.uint64), flat):
            return _verdict(False, f"that is {how}, as {answer.dtype}: nothing is packed. View the uint16 data as "
                                   "uint32 instead: pixels.view(np.uint32).")
        return _verdict(False, f"the words must be uint32 (what mmio.array holds); got {answer.dtype}"
                               f"{' (a view, but as the wrong type)' if shared else ''}.")
    words = answer.reshape(-1)
    if words.size == flat.size:
        return _verdict(False, f"{words.size} words for {flat.size} pixels: {how}. Packing gives "
                               f"{flat.size // 2} words, two pixels each: view the uint16 data as uint32.")
    if words.size != right.size:
        return _verdict(False, f"{words.size} words; {flat.size} pixels packed two per word make {right.size}.")
    if np.array_equal(words, right):
        if not np.shares_memory(answer, pixels):
            return _verdict(False, "the words are right, but they are a copy (shifts or astype made new "
                                   "memory). The exercise asks for a view: pixels.view(np.uint32) moves no bytes.")
        return _verdict(True, f"{flat.size} pixels in {right.size} words, pixel 2i in bits 15..0 and pixel "
                              "2i+1 in bits 31..16, without moving a byte: half the bus writes.")
    swapped = (right >> np.uint32(16)) | (right << np.uint32(16))
    if np.array_equal(words, swapped):
        return _verdict(False, "the two halves are swapped: the kernel reads pixel 2i from bits 15..0 "
                               "(little-endian, the order .view gives you) and pixel 2i+1 from bits 31..16.")
    return _verdict(False, f"{int(np.count_nonzero(words != right))} of {right.size} words differ from "
                           "pixels.view(np.uint32).")


# -- 03_dma -------------------------------------------------------------------------------------------------

@hinted("a whole number of bytes")
def check_dma_max_transfer(dma, answer: int) -> bool:
    """Exercise of 03_dma: the largest transfer (bytes) one channel of ``dma`` accepts.

    The LENGTH register has ``c_sg_length_width`` bits, so the largest length is
    ``2**c_sg_length_width - 1`` bytes -- pynq's ``dma.buffer_max_size``.
    """
    if not hasattr(dma, "buffer_max_size") or not hasattr(dma, "sendchannel"):
        raise AnswerError("dma must be a pynq AXI DMA driver, e.g. ol.dma_loop")
    if isinstance(answer, str):
        raise AnswerError(f"give a number of bytes, not the text {answer!r} (e.g. 2**20 - 1, without quotes).")
    answer = _integer(answer, "the number of bytes")
    right = int(dma.buffer_max_size)
    bits = right.bit_length()
    if answer == right:
        return _verdict(True, f"LENGTH has c_sg_length_width = {bits} bits: at most 2**{bits} - 1 = {right:,} "
                              f"bytes (64 MiB minus one byte) per transfer; pynq refuses more with a ValueError.")
    if answer == right + 1:
        return _verdict(False, f"one byte too many: {bits} bits count from 0 to 2**{bits} - 1.")
    if answer == bits:
        return _verdict(False, f"{bits} is the width of the LENGTH field in bits; the answer is the largest "
                               "number of bytes that field can hold.")
    if answer in (right // 4, (right + 1) // 4, (right + 1) // 4 - 1):
        return _verdict(False, "LENGTH counts bytes, not 32-bit words.")
    if answer in (right * 8, (right + 1) * 8):
        return _verdict(False, "LENGTH counts bytes, not bits.")
    if answer in (2**32 - 1, 2**32):
        return _verdict(False, "the register is 32 bits wide, but only its low c_sg_length_width bits "
                               f"exist ({bits} in this design: see dma.description['parameters']).")
    if answer in (64, 2**26 // 10**6):
        return _verdict(False, "give the answer in bytes, not MiB/MB.")
    return _verdict(False, f"{answer:,} bytes is not it: look at c_sg_length_width in "
                           "dma.description['parameters'] and how many bytes that many bits can count.")


#: DMASR bits (PG021, direct register mode): bit -> (field name, what it means)
DMASR_BITS = {
    0: ("Halted", "the channel is stopped: RS=0, or an error halted it"),
    1: ("Idle", "the last transfer is finished"),
    4: ("DMAIntErr", "internal error: e.g. a length of 0, or more stream data than LENGTH without TLAST"),
    5: ("DMASlvErr", "slave error: the memory answered the access with an error"),
    6: ("DMADecErr", "decode error: no memory or slave answers at that address"),
    12: ("IOC_Irq", "a transfer completed (sticky: stays 1 until you write 1 to clear it)"),
    13: ("Dly_Irq", "delay interrupt (sticky: write 1 to clear)"),
    14: ("Err_Irq", "an error interrupt happened (sticky: write 1 to clear)"),
}
_DMASR_WORDS = {
    "halted": 0, "stopped": 0, "idle": 1, "done": 1, "internal error": 4, "internal": 4, "interr": 4,
    "slave error": 5, "slave": 5, "slverr": 5, "decode error": 6, "decode": 6, "decerr": 6,
    "complete": 12, "transfer complete": 12, "ioc": 12, "ioc_irq": 12, "error interrupt": 14, "err_irq": 14,
}


@hinted("a bit number, a whole number from 0 to 31")
def check_dma_status_bit(meaning: str, answer: int) -> bool:
    """Exercise of 03_dma: which DMASR bit number means ``meaning`` (e.g. "decode error").

    ``meaning`` is a field name of the register map (``"DMADecErr"``) or plain words
    (``"decode error"``, ``"halted"``, ``"idle"``, ``"slave error"``, ``"internal error"``).
    """
    if not isinstance(meaning, str):
        raise AnswerError(f"meaning must be a string such as 'decode error' or 'DMADecErr', got {_what(meaning)}")
    key = meaning.strip().lower()
    by_field = {name.lower(): bit for bit, (name, _) in DMASR_BITS.items()}
    bit = by_field.get(key, _DMASR_WORDS.get(key))
    if bit is None:
        raise AnswerError(f"no DMASR bit means {meaning!r}; try one of: " +
                        ", ".join(name for name, _ in DMASR_BITS.values()))
    name, what = DMASR_BITS[bit]
    if isinstance(answer, str):
        named = by_field.get(answer.strip().lower(), _DMASR_WORDS.get(answer.strip().lower()))
        if named is not None:
            return _verdict(False, f"{answer!r} is a name; the exercise asks for the bit's number (an int): "
                                   f"look up {DMASR_BITS[named][0]} in the DMASR table and give its position.")
    answer = _integer(answer, "the bit number")
    if answer == bit:
        return _verdict(True, f"bit {bit} ({name}, mask {1 << bit:#06x}): {what}.")
    if answer == 1 << bit and bit != 0:
        return _verdict(False, f"{answer:#x} is the mask of that bit; the bit number is its position: "
                               f"{answer:#x} == 1 << {bit}.")
    if not 0 <= answer < 32:
        return _verdict(False, f"DMASR is a 32-bit register: its bits are numbered 0 to 31, not {answer}.")
    if answer in DMASR_BITS:
        other, other_what = DMASR_BITS[answer]
        extra = (" It comes on with every error (and after stop()), so it tells you *that* the channel "
                 "stopped, not *why*." if answer == 0 and bit in (4, 5, 6) else "")
        return _verdict(False, f"bit {answer} is {other}: {other_what}.{extra}")
    return _verdict(False, f"bit {answer} is reserved in DMASR; the meaningful bits are "
                           f"{', '.join(f'{b} ({n})' for b, (n, _) in DMASR_BITS.items())}.")


# -- 04_double_buffering --------------------------------------------------------------------------------------

@hinted("a speedup, a number such as 1.5")
def check_pingpong_speedup(load_s: float, compute_s: float, answer: float) -> bool:
    """Exercise of 04_double_buffering: the speedup of double buffering over load-then-compute.

    Without ping-pong one call takes ``load + compute``; with two buffers the stages overlap and
    a call takes as long as the longer stage: speedup ``(load + compute) / max(load, compute)``,
    at most 2 (reached when both stages take the same time).
    """
    load, compute = _number(load_s, "load_s"), _number(compute_s, "compute_s")
    if load <= 0 or compute <= 0:
        raise AnswerError("load_s and compute_s must be positive times in seconds")
    answer = _number(answer, "answer")
    right = (load + compute) / max(load, compute)
    slow = "load (LB)" if load >= compute else "compute (COM)"
    if close(answer, right, 0.02):
        return _verdict(True, f"single buffering: {format_seconds(load)} + {format_seconds(compute)} per call; double "
                              f"buffering: max of the two = {format_seconds(max(load, compute))}, the {slow} stage. "
                              f"Speedup {right:.2f}x.")
    if close(answer, 2.0, 0.02):
        return _verdict(False, "2x needs two stages of equal length; here one is longer and the pipeline "
                               f"moves at its pace: ({format_seconds(load)} + {format_seconds(compute)}) / the "
                               "longer one.")
    if answer > 2.0:
        return _verdict(False, "two overlapping stages can at most halve the time: the speedup is at most 2. "
                               "Divide the single-buffer time by the longer stage.")
    if close(answer, (load + compute) / min(load, compute), 0.02):
        return _verdict(False, "you divided by the shorter stage; the double-buffered pipeline waits for the "
                               "longer one every call.")
    if close(answer, max(load, compute) / min(load, compute), 0.02) or \
            close(answer, min(load, compute) / max(load, compute), 0.02):
        return _verdict(False, "that is the ratio of the two stages; compare the time of one call without "
                               "overlap (load + compute) with the time with overlap (the longer stage).")
    if close(answer, 1 / right, 0.02):
        return _verdict(False, "upside down: speedup = old time / new time, which is more than 1.")
    return _verdict(False, f"one call takes load + compute = {format_seconds(load + compute)} without overlap; with "
                           "two buffers it takes as long as the longer stage. Divide.")


@hinted("a stage name as a string, e.g. 'COM'")
def check_limiting_stage(stage_s: dict, answer: str) -> bool:
    """Exercise of 04_double_buffering: which stage limits a double-buffered pipeline.

    ``stage_s`` maps stage names ("LB", "COM", "SB" ...) to their time per call; when the
    stages overlap, the pipeline runs at the pace of the longest one.
    """
    if not isinstance(stage_s, dict) or not stage_s:
        raise AnswerError("stage_s must be a dict of stage name -> seconds, e.g. {'LB': 1e-4, 'COM': 3e-4}")
    times = {str(k): _number(v, f"stage_s[{k!r}]") for k, v in stage_s.items()}
    if not isinstance(answer, str):
        raise AnswerError(f"answer must be a stage name as a string (one of {', '.join(repr(k) for k in times)}), "
                          f"got {_what(answer)}")
    by_lower = {k.lower(): k for k in times}
    if answer.strip().lower() not in by_lower:
        return _verdict(False, f"there is no stage {answer!r} in this measurement: its stages are "
                               f"{', '.join(times)}. Pick the one with the longest time per call.")
    chosen = by_lower[answer.strip().lower()]
    slowest = max(times, key=times.get)
    if times[chosen] == times[slowest]:
        others = ", ".join(f"{k} {format_seconds(v)}" for k, v in times.items() if k != chosen)
        return _verdict(True, f"{chosen} takes {format_seconds(times[chosen])} per call ({others}): with the stages "
                              f"overlapped, every call waits for {chosen}. Speed it up (or split it) first.")
    fastest = min(times, key=times.get)
    if chosen == fastest and len(times) > 1:
        return _verdict(False, f"{chosen} is the fastest stage; with overlap the others wait for the slowest.")
    return _verdict(False, f"{chosen} takes {format_seconds(times[chosen])}, but another stage takes longer: the "
                           "pipeline moves at the pace of its longest stage.")


# -- 05_shared_dram_master ----------------------------------------------------------------------------------

STALE_DST = 0xDEAD_BEEF  #: what the check leaves in dst before the student's code runs


@hinted("your function rowsum_on_pl(ol, image, src, dst) returning the row sums")
def check_dram_syncs(overlay, rowsum_on_pl, rows: int = 8, cols: int = 32, seed: int = 5) -> bool:
    """Exercise of 05_shared_dram_master: run the student's PS code against the ddr_rowsum kernel.

    ``rowsum_on_pl(ol, image, src, dst)`` must copy ``image`` into the cacheable buffer ``src``,
    hand both physical addresses to ``ddr_rowsum``, start it, wait, and return the row sums read
    from ``dst``.  The check fills both buffers' DDR with stale data first (as a reused CMA
    block would hold), then tells which sync is missing: without ``src.sync_to_device()`` the
    kernel sums the stale DDR; without ``dst.sync_from_device()`` the CPU reads its stale cache.
    """
    import pynq

    if not isinstance(overlay, pynq.Overlay) or "ddr_rowsum" not in overlay.ip_dict:
        raise AnswerError("overlay must be the lab's overlay (ol = labkit.open_board()), with the ddr_rowsum kernel")
    if not callable(rowsum_on_pl):
        raise AnswerError("rowsum_on_pl must be your function rowsum_on_pl(ol, image, src, dst)")
    from .kernels.ddr_rowsum import rowsums

    rng = np.random.default_rng(seed)
    image = rng.integers(0, 1 << 16, size=(rows, cols), dtype=np.uint32)
    stale_src = rng.integers(0, 1 << 16, size=(rows, cols), dtype=np.uint32)
    src = pynq.allocate((rows, cols), np.uint32, cacheable=True, target=overlay.device)
    dst = pynq.allocate(rows, np.uint32, cacheable=True, target=overlay.device)
    try:
        src[:] = stale_src  # what DDR holds before the student's code runs
        src.sync_to_device()
        dst[:] = STALE_DST
        dst.sync_to_device()
        try:
            returned = rowsum_on_pl(overlay, image.copy(), src, dst)
        except Exception as exc:  # the student's code: say what happened, do not crash the notebook
            return _verdict(False, f"your function raised {type(exc).__name__}: {exc}")
        if returned is None:
            return _verdict(False, "your function returned None: return the row sums (e.g. np.array(dst)).")
        returned = np.array(returned, copy=True).reshape(-1)
        dst.sync_from_device()  # what the kernel really left in DDR
        in_ddr = np.array(dst)
    finally:
        src.freebuffer()
        dst.freebuffer()
    right = rowsums(image)
    if returned.size != rows:
        return _verdict(False, f"your function returned {returned.size} values; there is one sum per row ({rows}).")
    if np.array_equal(returned, right):
        return _verdict(True, "the kernel summed your image (src.sync_to_device() before ap_start) and you read "
                              "its results (dst.sync_from_device() after ap_done).")
    problems = []
    if np.array_equal(in_ddr, rowsums(stale_src)):
        problems.append("the kernel summed what DDR held *before* your image: src lives in the CPU's cache until "
                        "src.sync_to_device() writes it to DDR. Call it after copying the image in and before "
                        "ap_start.")
    elif np.all(in_ddr == STALE_DST):
        problems.append("dst in DDR still holds its old contents: either the kernel never ran (addresses, rows, "
                        "cols, ap_start?) or a dst.sync_to_device() after the run wrote the CPU's stale copy over "
                        "the results.")
    elif not np.array_equal(in_ddr, right):
        problems.append("the kernel's results in DDR are wrong: check the addresses (src_1/src_2, dst_1/dst_2), "
                        "rows and cols you wrote.")
    if not np.array_equal(returned, in_ddr):
        what = "the values dst held before the run" if np.all(returned == STALE_DST) else "stale values"
        problems.append(f"you returned {what}, not what the kernel wrote to DDR: the CPU read its own cached "
                        "copy of dst. Call dst.sync_from_device() after ap_done and before reading dst.")
    return _verdict(False, " And: ".join(problems) if problems else "the sums differ from the image's row sums.")


def check_flip_kernel(image, result) -> bool:
    """Exercise of 10_own_overlay: a kernel model that turns the picture upside down.

    ``image`` is what went into the DMA, ``result`` what came back through the kernel.  Never raises:
    whatever comes back, the answer says what it looks like and what to change.
    """
    try:
        image = np.asarray(image)
        result = np.asarray(result)
    except Exception as exc:  # a check never raises: say what was handed over instead
        return _verdict(False, f"could not read the arrays ({type(exc).__name__}: {exc}); pass the input image "
                               f"and the output buffer.")
    if result.shape != image.shape:
        return _verdict(False, f"the output has shape {result.shape}, the image {image.shape}: a flip keeps the "
                               f"size, so set dst_rows/dst_cols to src_rows/src_cols and allocate the output "
                               f"buffer with the image's shape.")
    wanted = image[::-1]
    if np.array_equal(result, wanted):
        return _verdict(True, "the rows come back in reverse order: your model ran in the simulated PL, between "
                              "the two DMA channels, exactly where the HLS kernel would.")
    if not result.any() and image.any():
        return _verdict(False, "the output is all zeros: nothing reached the S2MM channel. Does your function "
                               "return {'dst': array}, and did recvchannel.wait() return?")
    if np.array_equal(result, image):
        return _verdict(False, "the image came back unchanged: your model returned its input. Reverse the rows "
                               "(axis 0) of the (rows, cols, 3) picture.")
    if np.array_equal(result, image[:, ::-1]):
        return _verdict(False, "that is a left-right mirror (columns reversed). Upside down reverses the rows: "
                               "axis 0 of the (rows, cols, 3) picture.")
    if np.array_equal(result, image[::-1, ::-1]):
        return _verdict(False, "rows and columns are both reversed (a 180-degree turn). Reverse only the rows.")
    if np.array_equal(result.reshape(-1)[::-1], image.reshape(-1)):
        return _verdict(False, "you reversed the whole byte stream, so each pixel's colour bytes are reversed too "
                               "(BGR became RGB). Reshape to (rows, cols, 3) first and reverse axis 0 only.")
    return _verdict(False, "the output differs from the upside-down picture. Reshape inputs['src'] to "
                           "(src_rows, src_cols, 3), reverse axis 0, and return it as {'dst': ...}.")
