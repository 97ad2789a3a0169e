"""The watchdog's live view and the stream trace chart, without a browser (a dummy comm records messages)."""

from __future__ import annotations

import comm
import numpy as np
import pytest
from pynq import allocate

import labkit
from labkit.run import wait_dma
from labkit.watchdog import Policy, Watchdog
from test_widgets import DummyComm  # the one recording comm of the widget tests


@pytest.fixture(autouse=True)
def comms(monkeypatch) -> list:
    made: list[DummyComm] = []

    def create(*args, **kwargs):
        made.append(DummyComm())
        return made[-1]

    monkeypatch.setattr(comm, "create_comm", create)
    return made


def _updates(widget) -> int:
    return sum(1 for m in widget.comm.messages if m["data"] and m["data"].get("method") == "update")


def _loopback(ol):
    src = allocate(256, np.uint32, target=ol.device)
    dst = allocate(256, np.uint32, target=ol.device)

    def call(x, timeout):
        src[:] = x
        ol.dma_loop.recvchannel.transfer(dst)
        ol.dma_loop.sendchannel.transfer(src)
        wait_dma(ol.dma_loop, "send", "dma_loop", timeout)
        wait_dma(ol.dma_loop, "recv", "dma_loop", timeout)
        return np.array(dst)

    return call, (src, dst)


def test_watchdog_view_follows_events_throttled(board):
    from labkit.widgets import WatchdogView

    call, buffers = _loopback(board)
    try:
        wd = Watchdog(call, check=lambda x, y: bool(np.array_equal(x, y)), overlay=board, threshold=0.5,
                      policy=Policy(retries=1))
        view = WatchdogView(wd, throttle_s=10.0)  # one draw now, the rest wait for flush()
        before = _updates(view.calls)
        labkit.probe(board).faults.inject("dma_loop", "hang")
        x = np.arange(256, dtype=np.uint32)
        report = wd.run([x] * 20)
        assert report.verified == 20 and report.anomalies == 1
        assert _updates(view.calls) - before <= 1  # throttled: not one message per call
        view.flush()
        assert len(view.calls.x) == 20 and len(view.anomalies.x) == 1 and len(view.recoveries.x) == 1
        assert "anomalies</b> 1" in view.counters.value and "recoveries</b> 1" in view.counters.value
        assert view.calls.x.dtype == np.float32
        view.close()
        assert view.on_event not in wd.listeners
    finally:
        for b in buffers:
            b.freebuffer()


def test_stream_trace_chart_shows_a_missing_tlast(board):
    from labkit import transfer
    from labkit.errors import DmaError, LabTimeoutError
    from labkit.widgets import StreamTraceChart
    from labkit.widgets.trace import NO_TLAST_COLOR, TLAST_COLOR

    assert transfer.run("dma", board, np.arange(2048, dtype=np.uint32), timeout=5).verified
    labkit.probe(board).faults.inject("pp_store", "drop_tlast")
    with pytest.raises((LabTimeoutError, DmaError)):
        transfer.run("dma", board, np.arange(2048, dtype=np.uint32), timeout=0.5)
    chart = StreamTraceChart(board, last=12)
    assert len(chart.bars.x) == 6 and chart.bars.x.dtype == np.float32  # 3 hand-overs per run
    assert TLAST_COLOR in chart.bars.colors and NO_TLAST_COLOR in chart.bars.colors
    labkit.probe(board).faults.clear()
