"""The PL's worker thread: where DMA copies and the kernels' C++ run, in the order they were issued.

The data work of the simulated PL runs on its own thread so that it really
runs while Python goes on (the kernels are C++ called through ctypes, which
releases the GIL; numpy copies release it too).  Jobs run strictly one after
another, in submission order: a consumer's job is always submitted after the
jobs that produce its input.

A status read that needs a job's result does not wait for the thread to wake
up: :meth:`PLWorker.help_until` runs the queued jobs in the calling thread
(still one at a time, still in order) until that job is done.  Handing the GIL
between two threads costs tens of microseconds on a VM; a polling PS would
otherwise spend most of its time on such hand-overs, which no board does.
For the same reason the worker thread leaves a freshly queued job alone for
:data:`WAKE_DELAY_S`: short jobs are then usually run by the PS at its next
status read, long-running work still runs in the background.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable

__all__ = ["PLWorker", "WAKE_DELAY_S"]

WAKE_DELAY_S = 50e-6  #: how long a queued job waits for the PS to run it before the worker does


class PLWorker:
    """A single-thread executor whose queue other threads may help drain."""

    def __init__(self, name: str = "labkit-pl") -> None:
        self._tasks: deque[tuple[Future, Callable[..., Any], tuple]] = deque()
        self._cv = threading.Condition()
        self._run_lock = threading.Lock()  # exactly one job runs at a time, whoever runs it
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._cv:
            if self._stopping:
                raise RuntimeError("the simulated PL was shut down")
            self._tasks.append((future, fn, args))
            self._cv.notify()
        return future

    def _run_next(self) -> bool:
        """Run the oldest queued job (caller holds ``_run_lock``). False if there was none."""
        with self._cv:
            if not self._tasks:
                return False
            future, fn, args = self._tasks.popleft()
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever reads the future
                future.set_exception(exc)
        return True

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._tasks and not self._stopping:
                    self._cv.wait()
                if self._stopping and not self._tasks:
                    return
                oldest = self._tasks[0]
            time.sleep(WAKE_DELAY_S)  # give a polling PS the chance to run it first
            with self._cv:
                if not self._tasks or self._tasks[0] is not oldest:
                    continue  # the PS ran it meanwhile
            with self._run_lock:
                self._run_next()

    def pending(self) -> bool:
        """Jobs are queued or running."""
        return bool(self._tasks) or self._run_lock.locked()

    def help_until(self, future: Future, timeout: float) -> None:
        """Run queued jobs in this thread until ``future`` is done (or the worker is running it)."""
        while not future.done():
            with self._run_lock:
                if future.done():
                    return
                ran = self._run_next()
            if not ran:
                # Our job is being run by the worker thread right now: wait for it.
                try:
                    future.exception(timeout=timeout)
                except FutureTimeout:
                    pass
                return

    def shutdown(self) -> None:
        with self._cv:
            self._stopping = True
            for future, _, _ in self._tasks:
                future.cancel()
            self._tasks.clear()
            self._cv.notify_all()
        self._thread.join(timeout=5)
