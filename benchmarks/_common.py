"""Helpers shared by the benchmark scripts: timing, a plain table, where the numbers were measured."""

from __future__ import annotations

import platform
import time
from typing import Callable, Sequence

from labkit.results import summarize
from labkit.timing import this_machine


def machine() -> str:
    """One line naming the machine that measured (every measured figure says where)."""
    return f"{this_machine()}, Python {platform.python_version()}, {platform.system()}"


def measure(fn: Callable[[], object], *, number: int, repeat: int = 7, warmup: int = 1) -> tuple[float, float]:
    """(median, spread) seconds per call over ``repeat`` runs of ``number`` calls, after warm-up."""
    for _ in range(warmup):
        for _ in range(number):
            fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    stats = summarize(samples)
    return stats.median, stats.spread


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table (what the resolving notes quote)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(cells[0], widths)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells[1:]]
    return "\n".join(lines)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} us"
