// ddr_rowsum.cpp -- HLS top of the shared-DRAM master (Vivado IP flow).
//
// Interfaces: src and dst share one AXI master "gmem" (m_axi_gmem); their
// 64-bit base addresses (offset=slave) and rows, cols, ap_ctrl_hs sit on the
// AXI-Lite slave "control". run_hls.tcl forces 64-bit m_axi addresses so the
// register map does not depend on the tool version (see README.md).
//
// Cycle model at 100 MHz (labkit/kernels/ddr_rowsum.py, cycles()):
//   per row  = READ_LATENCY + (cols - 1) * II + COLS_DEPTH     (the read burst)
//            + WRITE_LATENCY + ROW_OVERHEAD                    (dst[r], BRESP)
//   cycles   = CALL_OVERHEAD + rows * per_row
//   READ_LATENCY = WRITE_LATENCY = 64 (the latency Vitis HLS schedules m_axi
//   with by default), II = 1, COLS_DEPTH = 3, ROW_OVERHEAD = 1,
//   CALL_OVERHEAD = 2.  70 x 80: 2 + 70 * 211 = 14772 cycles = 147.7 us.
#include "lab_hls.h"
#include "ddr_rowsum.h"

void ddr_rowsum(const uint32_t *src, uint32_t *dst, uint32_t rows,
                uint32_t cols) {
#pragma HLS INTERFACE m_axi port=src offset=slave bundle=gmem depth=DDR_ROWSUM_SRC_DEPTH max_read_burst_length=DDR_ROWSUM_BURST_BEATS
#pragma HLS INTERFACE m_axi port=dst offset=slave bundle=gmem depth=DDR_ROWSUM_DST_DEPTH
#pragma HLS INTERFACE s_axilite port=src bundle=control
#pragma HLS INTERFACE s_axilite port=dst bundle=control
#pragma HLS INTERFACE s_axilite port=rows bundle=control
#pragma HLS INTERFACE s_axilite port=cols bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS INTERFACE ap_ctrl_hs port=return

  uint64_t base = 0;  // index of the first word of row r: r * cols
ROWS:
  for (uint32_t r = 0; r < rows; r++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=DDR_ROWSUM_TRIPCOUNT_ROWS
    uint32_t acc = 0;
    // Sequential addresses in a pipelined loop: HLS infers one read burst
    // per row (split into DDR_ROWSUM_BURST_BEATS-beat AXI bursts).
  COLS:
    for (uint32_t c = 0; c < cols; c++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=DDR_ROWSUM_TRIPCOUNT_COLS
#pragma HLS PIPELINE II=1
      acc += src[base + c];  // wraps modulo 2^32
    }
    dst[r] = acc;
    base += cols;
  }
}
