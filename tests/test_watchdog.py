"""The watchdog (the paper's calibrate -> watch -> recover -> retry/skip -> alarm routine) on the simulated board."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pynq import allocate

import labkit
from labkit.classifier import CnnAccelerator, classify_reference
from labkit.run import wait_dma
from labkit.watchdog import (CalibrationError, Policy, Watchdog, calibrate_threshold, watch_accelerator,
                             watch_transfer)


def _words(n: int = 2048, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)


def _digits(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


class Loopback:
    """A user's own callable: one 1 KiB loopback through dma_loop, every wait bounded by ``timeout``."""

    def __init__(self, ol) -> None:
        self.ol = ol
        self.src = allocate(256, np.uint32, target=ol.device)
        self.dst = allocate(256, np.uint32, target=ol.device)

    def __call__(self, x: np.ndarray, timeout: float) -> np.ndarray:
        dma = self.ol.dma_loop
        self.src[:] = x
        dma.recvchannel.transfer(self.dst)
        dma.sendchannel.transfer(self.src)
        wait_dma(dma, "send", "dma_loop", timeout)
        wait_dma(dma, "recv", "dma_loop", timeout)
        return np.array(self.dst)

    def close(self) -> None:
        self.src.freebuffer()
        self.dst.freebuffer()


@pytest.fixture
def loopback(board):
    call = Loopback(board)
    yield call
    call.close()


def _loop_watchdog(board, loopback, **kwargs) -> Watchdog:
    return Watchdog(loopback, check=lambda x, y: bool(np.array_equal(x, y)), overlay=board, name="loopback", **kwargs)


# -- calibration -----------------------------------------------------------------------------------------------

def test_threshold_rule_and_its_checks():
    cal = calibrate_threshold([0.010] * 99 + [0.012], margin=2.0, allowance_s=0.001)
    assert cal.threshold_s == pytest.approx(2 * np.quantile([0.010] * 99 + [0.012], 0.99))
    assert calibrate_threshold([0.001] * 10, allowance_s=0.05).threshold_s == pytest.approx(0.051)
    with pytest.raises(CalibrationError, match="at least 5"):
        calibrate_threshold([0.01, 0.02])
    for bad in ({"recovery": "reboot"}, {"retries": -1}, {"alarm_after": 0}, {"widen": 0.5}):
        with pytest.raises(ValueError):
            Policy(**bad)


def test_calibration_sets_the_threshold_from_healthy_calls(board, loopback):
    wd = _loop_watchdog(board, loopback)
    cal = wd.calibrate([_words(256, s) for s in range(21)])
    assert len(cal.samples) == 20 and wd.threshold_s == cal.threshold_s >= cal.p99_s
    assert "threshold" in str(cal) and wd.events[-1].kind == "calibrated"
    assert wd.events[-1].measured.kind == "measured"


def test_calibration_refuses_a_faulty_board(board, loopback):
    labkit.probe(board).faults.inject("dma_loop", "hp32")
    wd = _loop_watchdog(board, loopback)
    with pytest.raises(CalibrationError, match="healthy board"):
        wd.calibrate([_words(256, s) for s in range(8)])


def test_no_threshold_no_watching(board, loopback):
    with pytest.raises(CalibrationError, match="calibrate"):
        _loop_watchdog(board, loopback).process(_words(256))


# -- detection, recovery, nothing lost ---------------------------------------------------------------------------

def test_a_hang_is_detected_within_the_threshold_recovered_and_retried(board, loopback):
    wd = _loop_watchdog(board, loopback, threshold=0.1)
    labkit.probe(board).faults.inject("dma_loop", "hang")
    x = _words(256, 5)
    start = time.perf_counter()
    outcome = wd.process(x)
    took = time.perf_counter() - start
    assert outcome.verified and outcome.attempts == 2 and outcome.reasons[0].startswith("timeout")
    np.testing.assert_array_equal(outcome.output, x)
    assert wd.counters() == {"calls": 2, "anomalies": 1, "recoveries": 1, "alarms": 0}
    anomaly = next(e for e in wd.events if e.kind == "anomaly")
    assert 0.1 <= anomaly.measured.seconds < 0.1 + 0.5  # within the threshold plus polling and load
    recovery = next(e for e in wd.events if e.kind == "recovery")
    assert recovery.modelled.kind == "modelled" and recovery.modelled.seconds == pytest.approx(
        labkit.probe(board).reconfiguration_s())
    assert took < 2.0


def test_a_wrong_output_is_caught_by_the_check_and_retried(board):
    wd = watch_transfer("dma", board, threshold=1.0)
    labkit.probe(board).faults.inject("pp_store", "wrong_result")
    outcome = wd.process(_words())
    assert outcome.verified and outcome.attempts == 2 and outcome.reasons == ["check: the output failed the check"]
    ok = [e for e in wd.events if e.kind == "ok"]
    assert ok and ok[-1].measured.kind == "measured" and ok[-1].estimated.kind == "estimated"
    assert ok[-1].modelled.kind == "modelled"


def test_k_consecutive_anomalies_raise_an_alarm_and_widen_the_threshold(board, loopback):
    alarms = []
    wd = _loop_watchdog(board, loopback, threshold=0.05, on_alarm=alarms.append,
                        policy=Policy(retries=0, alarm_after=3, widen=1.5))
    labkit.probe(board).faults.inject("dma_loop", "hang", persistent=True)
    report = wd.run([_words(256, s) for s in range(4)])
    assert report.flagged == 4 and report.alarms == 1 and len(alarms) == 1
    assert "3 anomalies in a row" in alarms[0].reason
    assert wd.threshold_s == pytest.approx(0.075)
    labkit.probe(board).faults.clear()
    assert wd.process(_words(256, 9)).verified


def test_reset_policy_recovers_a_halted_dma_without_reloading(board, loopback):
    wd = _loop_watchdog(board, loopback, threshold=0.5, policy=Policy(recovery="reset"))
    labkit.probe(board).faults.inject("dma_loop", "bus_error")
    before = labkit.probe(board).reconfigurations
    outcome = wd.process(_words(256, 3))
    assert outcome.verified and outcome.reasons[0].startswith("error: DmaError")
    assert labkit.probe(board).reconfigurations == before


def test_the_classifier_under_faults_loses_nothing(board):
    with CnnAccelerator(board, max_batch=8) as acc:
        wd = watch_accelerator(acc, policy=Policy(retries=1, alarm_after=5))
        wd.calibrate([_digits(4, s) for s in range(8)])
        faults = labkit.probe(board).faults
        faults.inject("cnn_classifier", "hang", rate=0.1, seed=3, persistent=True)
        faults.inject("cnn_classifier", "wrong_result", rate=0.1, seed=4, persistent=True)
        inputs = [_digits(4, 100 + i) for i in range(30)]
        report = wd.run(inputs)
        faults.clear()
    assert len(report.outcomes) == len(inputs) and [o.index for o in report.outcomes] == list(range(len(inputs)))
    assert report.anomalies > 0 and report.recoveries == report.anomalies
    for outcome, images in zip(report.outcomes, inputs):
        if outcome.verified:
            np.testing.assert_array_equal(outcome.output, classify_reference(images))
        else:
            assert outcome.reasons


def test_a_slow_kernel_is_an_anomaly_in_board_pace(paced_board):
    if labkit.probe(paced_board).pace != "board":
        pytest.skip("a slow kernel shows on the wall clock only in board pace")
    with CnnAccelerator(paced_board, max_batch=8) as acc:
        wd = watch_accelerator(acc, threshold=0.05)
        labkit.probe(paced_board).faults.inject("cnn_classifier", "slow", factor=200)  # ~0.2 s instead of ~1 ms
        outcome = wd.process(_digits(8))
    assert outcome.verified and outcome.attempts == 2
    assert outcome.reasons[0].startswith(("timeout", "slow"))


def test_no_false_positive_over_1000_healthy_calls(board, loopback):
    wd = _loop_watchdog(board, loopback)
    wd.calibrate([_words(256, s) for s in range(51)])
    x = _words(256, 77)
    report = wd.run([x] * 1000)
    assert report.verified == 1000 and report.anomalies == 0, wd.log(["anomaly"])


def test_watching_leaves_the_accelerator_as_it_was(board):
    with CnnAccelerator(board, max_batch=4, timeout=3.0) as acc:
        wd = watch_accelerator(acc, threshold=0.5)
        labkit.probe(board).faults.inject("cnn_classifier", "hang")
        assert wd.process(_digits(2)).verified
        assert acc.timeout == 3.0 and acc.recover_on_failure is True
