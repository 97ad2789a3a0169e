// ddr_rowsum.h -- a ZynqNet-style shared-DRAM master.
//
// The PS allocates contiguous buffers in DDR (pynq.allocate), writes their
// PHYSICAL addresses and the sizes into the kernel's AXI-Lite registers and
// starts it; the kernel reads and writes DDR itself through an AXI master
// port (m_axi), exactly like ZynqNet's SHARED_DRAM pointer. No DMA engine,
// no copy through AXI-Lite -- but also no cache coherency: the PS must flush
// its cache before the run (buffer.flush()) and invalidate it afterwards
// (buffer.invalidate()), or one side sees stale data.
#ifndef DDR_ROWSUM_H
#define DDR_ROWSUM_H

#include <cstdint>

// Beats per AXI read burst (the Vitis HLS default max_read_burst_length).
constexpr uint32_t DDR_ROWSUM_BURST_BEATS = 16;
// Loop bounds for the HLS reports only (LOOP_TRIPCOUNT): a 1080p frame.
constexpr uint32_t DDR_ROWSUM_TRIPCOUNT_ROWS = 1080;
constexpr uint32_t DDR_ROWSUM_TRIPCOUNT_COLS = 1920;
// Words of simulated memory behind each m_axi port in Vitis C/RTL
// co-simulation (the m_axi `depth`): one 1080p frame in, one sum per row out.
constexpr uint32_t DDR_ROWSUM_SRC_DEPTH =
    DDR_ROWSUM_TRIPCOUNT_ROWS * DDR_ROWSUM_TRIPCOUNT_COLS;
constexpr uint32_t DDR_ROWSUM_DST_DEPTH = DDR_ROWSUM_TRIPCOUNT_ROWS;

// dst[r] = sum_{c < cols} src[r * cols + c]  (mod 2^32), for r < rows.
// src and dst are DDR addresses (offsets on the m_axi port); rows == 0 does
// nothing, cols == 0 writes zeros. Each row is one sequential read burst.
void ddr_rowsum(const uint32_t *src, uint32_t *dst, uint32_t rows,
                uint32_t cols);

#endif  // DDR_ROWSUM_H
