"""Check functions for the exercises of notebook 07 (power): right or wrong, and why.

Like :mod:`labkit.checks`, each returns True when the answer is right and prints a short
explanation either way.
"""

from __future__ import annotations

from typing import Mapping

from .boards.power_model import power_constants
from .checks import AnswerError, _integer, _number, _verdict, close, hinted

__all__ = ["check_ddr_energy", "check_energy_per_image"]

REL_TOL = 0.02  #: answers within 2% count as right (rounded constants, rounded arithmetic)


@hinted("an energy in joules (a float), e.g. 1.5e-4")
def check_ddr_energy(nbytes: int, answer_j: float, profile: str | None = None) -> bool:
    """Exercise 1: the DDR traffic energy of one ``dma_loop`` transfer of ``nbytes``, from the model.

    The loopback DMA reads ``nbytes`` from DDR (MM2S) and writes them back (S2MM): ``2 * nbytes``
    bytes cross the HP port, ``8`` bits each, at ``ddr_j_per_bit`` joules per bit.
    """
    nbytes = _integer(nbytes, "nbytes")
    answer_j = _number(answer_j, "your answer")
    e_bit = float(power_constants(profile).ddr_j_per_bit)
    right = 2 * nbytes * 8 * e_bit
    if close(answer_j, right, REL_TOL):
        return _verdict(True, f"2 x {nbytes:,} bytes x 8 bits x {e_bit * 1e12:.0f} pJ/bit = {right * 1e6:.2f} uJ. "
                              "Both directions cross the HP port: the DMA reads the buffer and writes it back.")
    if close(answer_j, right / 2, REL_TOL):
        return _verdict(False, "that counts one direction only. The loopback DMA reads the source buffer from DDR "
                               "(MM2S) *and* writes the destination buffer to DDR (S2MM).")
    if close(answer_j, right / 8, REL_TOL) or close(answer_j, right / 16, REL_TOL):
        return _verdict(False, "the constant is per *bit*: multiply the bytes by 8.")
    if close(answer_j, right / 0.6, REL_TOL) or close(answer_j, right / 1.2, REL_TOL):
        return _verdict(False, "70 pJ/bit includes DDR3's static power (40% of it, at full bus use); the model "
                               "charges only the traffic-proportional 60% per bit and counts standby separately. "
                               "Use ddr_j_per_bit.")
    for scale, unit in ((1e3, "mJ"), (1e6, "uJ"), (1e9, "nJ")):
        if close(answer_j, right * scale, REL_TOL):
            return _verdict(False, f"the number is right but it is in {unit}: give joules (divide by {scale:g}).")
    return _verdict(False, f"{answer_j:.4g} J is not it. Count the bytes that cross the HP port in both directions, "
                           f"turn them into bits, and multiply by ddr_j_per_bit = {e_bit:.3g} J/bit.")


@hinted("an energy in joules (a float), e.g. 2e-4")
def check_energy_per_image(row: Mapping[str, float], answer_j: float) -> bool:
    """Exercise 2: energy per image of one row of the batch-size sweep.

    ``row`` needs ``batch``, ``power_w`` (average board power while classifying) and
    ``images_per_s`` (throughput).  Energy per image = power / throughput (J/s over images/s).
    """
    missing = [key for key in ("batch", "power_w", "images_per_s") if key not in row]
    if missing:
        raise AnswerError(f"the row needs batch, power_w and images_per_s; it has no {', '.join(missing)}")
    batch, power, rate = int(row["batch"]), float(row["power_w"]), float(row["images_per_s"])
    answer_j = _number(answer_j, "your answer")
    right = power / rate
    if close(answer_j, right, REL_TOL):
        return _verdict(True, f"{power:.3f} W / {rate:,.0f} images/s = {right * 1e3:.3f} mJ per image. Power is "
                              "joules per second; throughput is images per second; their ratio is joules per image.")
    if close(answer_j, right * batch, REL_TOL) and batch > 1:
        return _verdict(False, f"that is the energy of a whole batch of {batch} (power x latency): divide by the "
                               "batch size, or use power / throughput.")
    if close(answer_j, power * rate, REL_TOL):
        return _verdict(False, "power x throughput is W x images/s: the units do not give joules per image. Divide.")
    if close(answer_j, right * 1e3, REL_TOL):
        return _verdict(False, "right number, in mJ: give joules.")
    return _verdict(False, f"{answer_j:.4g} J is not it: average power divided by images per second gives joules "
                           "per image.")
