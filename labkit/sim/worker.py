"""The PL's worker: where DMA copies and the kernels' C++ run, in the order they were issued.

The data work of the simulated PL is queued as jobs -- lists of memcpy operations and calls of
kernel bridges, with raw pointers -- and run by a C thread (``_plqueue.c``) that never needs the
GIL.  So the PL really runs while Python goes on, on the other core, and neither side waits for
the other's interpreter lock.  Jobs run strictly one after another, in submission order: a
consumer's job is always submitted after the jobs that produce its input.

A status read that needs a job's result does not wait for the thread: :meth:`PLWorker.help_until`
runs the queued jobs in the calling thread (still one at a time, still in order, GIL released)
until that job is done.

The arrays behind a job's pointers are kept alive here until the job has run.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterable

from . import _plqueue

__all__ = ["PLWorker", "PLTask", "OP_MEMCPY", "OP_CALL", "memcpy"]

OP_MEMCPY = _plqueue.OP_MEMCPY
OP_CALL = _plqueue.OP_CALL


def memcpy(dst, src, nbytes: int | None = None) -> tuple:
    """A copy operation between two numpy arrays (whole ``src`` unless ``nbytes`` is given)."""
    n = src.nbytes if nbytes is None else nbytes
    if n > min(dst.nbytes, src.nbytes):
        raise ValueError(f"copy of {n} bytes does not fit ({src.nbytes} -> {dst.nbytes})")
    return (OP_MEMCPY, dst.ctypes.data, src.ctypes.data, n)


class PLTask:
    """A queued job; ``done()`` once the PL has run it."""

    __slots__ = ("worker", "id")

    def __init__(self, worker: "PLWorker", job_id: int) -> None:
        self.worker = worker
        self.id = job_id

    def done(self) -> bool:
        return self.worker.queue.done_upto() >= self.id

    def result(self) -> int | None:
        """What the job's last kernel call returned (negative: a bridge error code); None if not done."""
        return self.worker.queue.result(self.id)


class PLWorker:
    """The simulated PL's job queue and its C thread."""

    def __init__(self) -> None:
        self.queue = _plqueue.Queue()
        self._keep: deque[tuple[int, tuple]] = deque()  # (job id, arrays its pointers point into)

    def submit(self, ops: Iterable[tuple], keep: tuple[Any, ...] = ()) -> PLTask:
        """Queue a job; ``keep`` holds the arrays its pointers refer to until it has run."""
        job_id = self.queue.submit(list(ops))
        self._keep.append((job_id, keep))
        self._release_done()
        return PLTask(self, job_id)

    def _release_done(self) -> None:
        done = self.queue.done_upto()
        while self._keep and self._keep[0][0] <= done:
            self._keep.popleft()

    def help_until(self, task: PLTask, timeout: float) -> bool:
        """Run (or wait for) queued jobs until ``task`` is done; False if ``timeout`` ran out."""
        done = self.queue.run_until(task.id, timeout)
        self._release_done()
        return done

    def shutdown(self) -> None:
        self.queue.close()
        self._keep.clear()
