"""The transfer methods against each other, on the simulated PYNQ-Z1 (issue: labkit.bench).

Three tables:

(a) the forum's 70x80 image (5600 32-bit pixels): ``per_word`` (``MMIO.write`` in a loop) against
    ``array_slice`` (one ``mmio.array`` slice) -- measured here in board pace and in host pace,
    modelled, and estimated for a PYNQ-Z1, next to what the forum measured on the board
    (150-200 ms against about 1.1 ms for the writes);
(b) ``dma`` against ``array_slice`` at 1 MiB (board pace);
(c) double buffering: ``dma_pingpong`` against ``dma`` over 4 MiB at the default chunk (16384
    words, where load and compute take about the same modelled time) and the default number of
    compute outputs per store call (2), board pace -- the speedup measured, estimated, and PL-only
    from the modelled intervals.  Target >= 1.8x; two buffers
    can at most halve the time (2x).

Everything goes through labkit.bench (warm-up, repeats, median, min-max spread).

    python benchmarks/transfer_bench.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

os.environ.setdefault("LABKIT_BOARD", "sim")

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, table  # noqa: E402

import labkit  # noqa: E402
from labkit._pynq_compat import dma_alignment  # noqa: E402
from labkit.bench import BenchRecord, Sweep, comparison_table, format_size, modelled_busy_s  # noqa: E402
from labkit.timing import format_seconds as fs  # noqa: E402
from labkit.transfer import DEFAULT_CHUNK_WORDS, default_chunks_per_store  # noqa: E402

IMAGE_BYTES = 70 * 80 * 4  # the forum's image: 70 rows of 80 32-bit pixels
MiB = 1 << 20
#: What the forum measured on a PYNQ-Z1 for writing the 70x80 image (seeds/mmio-write-too-slow.txt).
FORUM_WRITE = {"per_word": "150-200 ms", "array_slice": "about 1.1 ms"}
SPEEDUP_TARGET = 1.8


def sweep(overlay, methods, size, repeats, **kw) -> tuple[dict[str, BenchRecord], Sweep]:
    s = Sweep(methods, [size], overlay=overlay, repeats=repeats, warmup=1, progress=None, **kw)
    s.run()
    return {r.method: r for r in s.records}, s


def spread(r: BenchRecord) -> str:
    return f"{fs(r.median_s)} ({fs(r.min_s)}-{fs(r.max_s)})"


def table_a(repeats: int) -> str:
    methods = ["per_word", "array_slice"]
    board, _ = sweep(labkit.open_board(pace="board"), methods, IMAGE_BYTES, repeats)
    host, _ = sweep(labkit.open_board(pace="host"), methods, IMAGE_BYTES, repeats)
    rows = []
    for m in methods:
        b, h = board[m], host[m]
        rows.append([m, spread(b), spread(h), fs(b.modelled_s), fs(b.estimated_s),
                     fs(b.phases["write"].estimated_s), FORUM_WRITE[m], "yes" if b.verified and h.verified else "NO"])
    pw, sl = board["per_word"], board["array_slice"]
    rows.append(["per_word / array_slice", f"{pw.median_s / sl.median_s:.1f}x",
                 f"{host['per_word'].median_s / host['array_slice'].median_s:.1f}x",
                 f"{pw.modelled_s / sl.modelled_s:.1f}x", f"{pw.estimated_s / sl.estimated_s:.0f}x",
                 f"{pw.phases['write'].estimated_s / sl.phases['write'].estimated_s:.0f}x", "136-182x", ""])
    head = (f"(a) the forum's 70x80 image ({IMAGE_BYTES:,} bytes), whole transfer (write, start, wait, read back); "
            f"median of {repeats} (min-max)")
    return head + "\n" + table(
        ["method", "measured, board pace", "measured, host pace", "modelled PL/bus", "estimated PYNQ-Z1",
         "estimated PYNQ-Z1, write only", "PYNQ-Z1 forum, write only", "verified"], rows)


def table_b(repeats: int) -> str:
    _, s = sweep(labkit.open_board(pace="board"), ["dma", "array_slice"], MiB, repeats)
    recs = {r.method: r for r in s.records}
    ratio = recs["array_slice"].median_s / recs["dma"].median_s
    est = recs["array_slice"].estimated_s / recs["dma"].estimated_s
    return (f"(b) dma against array_slice at {format_size(MiB)}, board pace (labkit.bench.comparison_table)\n"
            + comparison_table(s.records)
            + f"dma is {ratio:.1f}x faster than array_slice (measured), {est:.1f}x (estimated PYNQ-Z1)")


def stage_median_us(result, label: str) -> float:
    durations = [iv.duration for iv in result.intervals if iv.label == label]
    return statistics.median(durations) * 1e6 if durations else float("nan")


def table_c(repeats: int, nbytes: int) -> str:
    board = labkit.open_board(pace="board")
    recs, s = sweep(board, ["dma", "dma_pingpong"], nbytes, repeats, keep_results=True)
    per_store = default_chunks_per_store(DEFAULT_CHUNK_WORDS, nbytes // 4 // DEFAULT_CHUNK_WORDS,
                                         dma_alignment(board.dma_pp.recvchannel))
    single, double = recs["dma"], recs["dma_pingpong"]
    r1, r2 = s.results[("dma", nbytes)], s.results[("dma_pingpong", nbytes)]
    stages = ("LB", "COM", "SB")
    busy1, busy2 = modelled_busy_s(r1.intervals, stages), modelled_busy_s(r2.intervals, stages)
    chain1, chain2 = modelled_busy_s(r1.intervals, ("LB", "COM")), modelled_busy_s(r2.intervals, ("LB", "COM"))
    rows = [
        ["measured (board pace)", spread(single), spread(double), f"{single.median_s / double.median_s:.2f}x"],
        ["estimated PYNQ-Z1", fs(single.estimated_s), fs(double.estimated_s),
         f"{single.estimated_s / double.estimated_s:.2f}x"],
        ["modelled PL/bus (phases)", fs(single.modelled_s), fs(double.modelled_s),
         f"{single.modelled_s / double.modelled_s:.2f}x"],
        ["modelled PL-only: union of LB/COM/SB", fs(busy1), fs(busy2), f"{busy1 / busy2:.2f}x"],
        ["modelled PL-only: union of LB/COM (the load->compute chain)", fs(chain1), fs(chain2),
         f"{chain1 / chain2:.2f}x"],
    ]
    measured = single.median_s / double.median_s
    verdict = "met" if measured >= SPEEDUP_TARGET else "NOT met"
    chunk = (f"chunk {DEFAULT_CHUNK_WORDS} words: modelled LB {stage_median_us(r2, 'LB'):.1f} us, "
             f"COM {stage_median_us(r2, 'COM'):.1f} us per call, {per_store} "
             f"compute outputs per store call (dma_pingpong)")
    return (f"(c) double buffering over {format_size(nbytes)}, board pace, median of {repeats} (min-max); {chunk}\n"
            + table(["kind of time", "dma (single)", "dma_pingpong (double)", "speedup"], rows)
            + f"\nspeedup target >= {SPEEDUP_TARGET}x measured, limit 2x: {verdict} ({measured:.2f}x); "
              f"PL-only (modelled) {busy1 / busy2:.2f}x (LB/COM/SB), {chain1 / chain2:.2f}x (LB/COM); "
              f"verified: {single.verified and double.verified}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pingpong-bytes", default=4 * MiB, type=int)
    args = parser.parse_args()
    print(f"measured on: {machine()}")
    print(f"board: {labkit.board_info(labkit.open_board()).board} (simulated)\n")
    print(table_a(args.repeats), end="\n\n")
    print(table_b(args.repeats), end="\n\n")
    print(table_c(args.repeats, args.pingpong_bytes))


if __name__ == "__main__":
    main()
