"""The HLS kernels running in the simulated PL equal their numpy twins, and take their modelled time."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pynq import MMIO, allocate

from labkit.kernels import cnn_classifier, ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store

IMAGE = mmio_rowsum.MEMORIES["image"]["offset"] // 4
ROWSUM = mmio_rowsum.MEMORIES["rowsum"]["offset"] // 4


def wait_done(ip, timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not ip.read(0x00) & 0x2:
        assert time.perf_counter() < deadline, "ap_done never came"


@pytest.mark.parametrize("pack16", [0, 1])
def test_mmio_rowsum_equals_its_twin(paced_board, pack16):
    rng = np.random.default_rng(pack16)
    rows, cols = 70, 80
    pixels = rng.integers(0, 1 << 16, size=(rows, cols), dtype=np.uint16)
    words = mmio_rowsum.pack_pixels16(pixels.ravel()) if pack16 else pixels.ravel().astype(np.uint32)
    ip = paced_board.mmio_rowsum
    mmio = MMIO(paced_board.ip_dict["mmio_rowsum"]["phys_addr"], 0x10000)
    mmio.array[IMAGE: IMAGE + words.size] = words
    rm = ip.register_map
    rm.rows, rm.cols, rm.pack16 = rows, cols, pack16
    ip.write(0x00, 1)
    wait_done(ip)
    got = mmio.array[ROWSUM: ROWSUM + rows].copy()
    image = np.zeros(mmio_rowsum.MAX_WORDS, dtype=np.uint32)
    image[: words.size] = words
    assert np.array_equal(got, mmio_rowsum.model(image, rows, cols, pack16)[:rows])


def run_pp(board, chunks: list[np.ndarray], n: int, pingpong: int, op: int) -> list[np.ndarray]:
    """The double-buffer schedule of the seed: store started first, then load/compute."""
    lc, st, dma = board.pp_load_compute, board.pp_store, board.dma_pp
    lc.register_map.n, lc.register_map.op, lc.register_map.pingpong = n, op, pingpong
    st.register_map.n, st.register_map.pingpong = n, pingpong
    # One buffer per call: rows of one array would not be 8-byte aligned for odd n, and the
    # 64-bit DMA (no realignment engine) refuses unaligned addresses, as pynq checks.
    inp = [allocate(n, np.uint32) for _ in chunks]
    out = [allocate(n, np.uint32) for _ in chunks]
    for i, chunk in enumerate(chunks):
        inp[i][:] = chunk
    for i in range(len(chunks)):
        st.register_map.num = i
        st.write(0x00, 1)
        dma.recvchannel.transfer(out[i])
        lc.register_map.num = i
        lc.write(0x00, 1)
        dma.sendchannel.transfer(inp[i])
        dma.sendchannel.wait()
        wait_done(lc)
        dma.recvchannel.wait()
        wait_done(st)
    return [np.array(row) for row in out]


@pytest.mark.parametrize("n", [1, 7, 1024, pp_load_compute.MAX_N])
@pytest.mark.parametrize("pingpong", [0, 1])
def test_pp_pipeline_equals_the_twins(paced_board, n, pingpong):
    rng = np.random.default_rng(n + pingpong)
    calls = 5
    chunks = [rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32) for _ in range(calls)]
    got = run_pp(paced_board, chunks, n, pingpong, op=0xFFFF_FFF0)
    lc_twin, st_twin = pp_load_compute.Model(), pp_store.Model()
    for i, chunk in enumerate(chunks):
        mid, _ = lc_twin.run(chunk, i, 0xFFFF_FFF0, n, pingpong)
        expect, last = st_twin.run(mid, i, n, pingpong)
        assert np.array_equal(got[i], expect), f"call {i}"
    if pingpong:  # two calls of lag: call 2 returns call 0's data plus op
        assert np.array_equal(got[2], (chunks[0] + np.uint32(0xFFFF_FFF0)).astype(np.uint32))


def test_pingpong_overlaps_load_and_compute_on_the_timeline(board):
    # Long calls (164 us of modelled LB) so that the Python between ap_start and the DMA's start
    # (when LB's first beat arrives) is short next to them.
    n = pp_load_compute.MAX_N
    chunks = [np.arange(n, dtype=np.uint32)] * 3
    timeline = board.device.fabric.timeline
    for pingpong in (0, 1):
        timeline.clear()
        run_pp(board, chunks, n, pingpong, op=1)
        lb = timeline.intervals(resources=["pp_load_compute.read"])
        com = timeline.intervals(resources=["pp_load_compute.compute"])
        assert len(lb) == len(com) == 3
        for a, b in zip(lb, com):
            overlap = min(a.end, b.end) - max(a.start, b.start)
            if pingpong:
                # LB and COM of a call run side by side (LB from the moment the DMA's first beat
                # arrives, COM from ap_start: they overlap by all but that gap).
                assert overlap > 0 and b.start < a.end
            else:
                assert b.start >= a.end  # COM waits for LB


def test_ddr_rowsum_reads_ddr_and_needs_its_syncs(board):
    rows, cols = 70, 80
    src = allocate((rows, cols), np.uint32, cacheable=True)
    dst = allocate(rows, np.uint32, cacheable=True)
    ip = board.ddr_rowsum

    def run() -> None:
        rm = ip.register_map
        rm.src_1, rm.src_2 = src.physical_address, 0
        rm.dst_1, rm.dst_2 = dst.physical_address, 0
        rm.rows, rm.cols = rows, cols
        ip.write(0x00, 1)
        wait_done(ip)

    src[:] = 1
    src.sync_to_device()
    dst.sync_to_device()
    run()
    dst.sync_from_device()
    assert np.all(dst == cols)
    src[:] = 2  # ... and forget sync_to_device: the kernel reads the old data from DDR
    run()
    dst.sync_from_device()
    assert np.all(dst == cols)
    src.sync_to_device()
    run()
    assert np.all(dst == cols)  # ... and forget sync_from_device: the CPU reads its stale cache
    dst.sync_from_device()
    assert np.all(dst == 2 * cols)
    assert np.array_equal(np.array(dst), ddr_rowsum.rowsums(np.array(src)))


def test_ddr_rowsum_with_a_bad_address_finishes_and_is_logged(board):
    ip = board.ddr_rowsum
    rm = ip.register_map
    rm.src_1, rm.src_2, rm.dst_1, rm.dst_2, rm.rows, rm.cols = 0x100, 0, 0x200, 0, 4, 4
    ip.write(0x00, 1)
    wait_done(ip)  # HLS masters ignore AXI error responses
    events = [message for _, name, message in board.device.fabric.events if name == "ddr_rowsum"]
    assert any("decode error" in message for message in events)


def test_a_stream_kernel_whose_cpp_refuses_is_logged(paced_board, monkeypatch):
    """A stream kernel's C++ may run after its modelled end has passed: its report must still come."""
    board = paced_board
    model = board.device.fabric.ips["pp_store"]
    original = model.kernel_ops

    def refusing(call, inputs, outputs, keep):
        (kind, fn, args), = original(call, inputs, outputs, keep)
        return [(kind, fn, args[:5] + (0,) + args[6:])]  # out_cap 0: the bridge refuses

    monkeypatch.setattr(model, "kernel_ops", refusing)
    run_pp(board, [np.arange(64, dtype=np.uint32)], 64, pingpong=0, op=0)
    events = [message for _, name, message in board.device.fabric.events if name == "pp_store"]
    assert any("refused" in message for message in events)


def test_cnn_classifier_through_the_dma_equals_the_reference(paced_board):
    rng = np.random.default_rng(3)
    batch = 8
    images = rng.integers(0, 256, size=(batch, 28, 28), dtype=np.uint8)
    beats = cnn_classifier.pack_images(images)
    inp = allocate(beats.size, np.uint64)
    out = allocate(batch * cnn_classifier.SCORES_PER_IMAGE, np.uint32)
    inp[:] = beats
    ip, dma = paced_board.cnn_classifier, paced_board.dma_cnn
    ip.register_map.batch = batch
    ip.write(0x00, 1)
    dma.recvchannel.transfer(out)
    dma.sendchannel.transfer(inp)
    dma.sendchannel.wait()
    dma.recvchannel.wait()
    wait_done(ip)
    expect, _ = cnn_classifier.model(beats, batch)
    assert np.array_equal(np.array(out), expect)
    cnn = paced_board.device.fabric.timeline.intervals(resources=["cnn_classifier"])[-1]
    assert cnn.cycles >= cnn_classifier.cycles(batch)


def test_hang_fault_keeps_ap_done_low(board):
    board.device.fabric.faults.inject("mmio_rowsum", "hang")
    ip = board.mmio_rowsum
    ip.register_map.rows, ip.register_map.cols = 1, 1
    ip.write(0x00, 1)
    deadline = time.perf_counter() + 0.1
    while time.perf_counter() < deadline:
        value = ip.read(0x00)
        assert not value & 0x2 and not value & 0x4


def test_counters_record_bytes_and_busy_cycles(board):
    fabric = board.device.fabric
    before = fabric.counters()
    src = allocate(4096, np.uint8)
    dst = allocate(4096, np.uint8)
    board.dma_loop.recvchannel.transfer(dst)
    board.dma_loop.sendchannel.transfer(src)
    board.dma_loop.sendchannel.wait()
    board.dma_loop.recvchannel.wait()
    after = fabric.counters()
    assert after.port_bytes["S_AXI_HP0"]["read"] - before.port_bytes.get("S_AXI_HP0", {}).get("read", 0) == 4096
    assert after.port_bytes["S_AXI_HP0"]["write"] >= 4096
    assert after.busy_cycles["dma_loop.mm2s"] > before.busy_cycles.get("dma_loop.mm2s", 0)
    reads, writes = after.gp_words()
    assert writes > 0 and reads > 0
