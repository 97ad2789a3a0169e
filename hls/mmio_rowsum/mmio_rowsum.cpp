// mmio_rowsum.cpp -- HLS top of the MMIO-input kernel (Vivado IP flow).
//
// Every argument is on the one AXI-Lite slave "control": the scalars become
// registers, the two arrays become memories inside the same address window
// (see README.md for the address map), and ap_ctrl_hs puts
// ap_start/ap_done/ap_idle/ap_ready in the CTRL register at 0x00.
//
// Cycle model at 100 MHz (labkit/kernels/mmio_rowsum.py, cycles()):
//   COLS is pipelined with II = 1 and depth D = 4, so one row costs
//   (cols - 1) * 1 + D cycles, plus ROW_OVERHEAD = 2 (loop entry, rowsum write):
//     cycles = CALL_OVERHEAD + rows * ((cols - 1) * II + D + ROW_OVERHEAD)
//            = 3 + rows * (cols + 5)
//   e.g. the forum's 70 x 80 image: 3 + 70 * 85 = 5953 cycles = 59.5 us.
#include "lab_hls.h"
#include "mmio_rowsum.h"

void mmio_rowsum(const uint32_t image[MMIO_ROWSUM_MAX_WORDS],
                 uint32_t rowsum[MMIO_ROWSUM_MAX_ROWS], uint32_t rows,
                 uint32_t cols, uint32_t pack16) {
#pragma HLS INTERFACE s_axilite port=image bundle=control
#pragma HLS INTERFACE s_axilite port=rowsum bundle=control
#pragma HLS INTERFACE s_axilite port=rows bundle=control
#pragma HLS INTERFACE s_axilite port=cols bundle=control
#pragma HLS INTERFACE s_axilite port=pack16 bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS INTERFACE ap_ctrl_hs port=return

  // Guard: refuse sizes that do not fit the two memories, so no index below
  // can leave them. Order matters: cols is checked before rows * cols so the
  // product stays below 2^32 (rows <= 128, cols <= 16384).
  const uint32_t max_pixels =
      pack16 ? MMIO_ROWSUM_MAX_PIXELS_PACKED : MMIO_ROWSUM_MAX_PIXELS;
  if (rows == 0 || cols == 0 || rows > MMIO_ROWSUM_MAX_ROWS ||
      cols > max_pixels || rows * cols > max_pixels) {
    return;
  }

  uint32_t k = 0;  // running pixel index r * cols + c, kept as a counter
ROWS:
  for (uint32_t r = 0; r < rows; r++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=MMIO_ROWSUM_MAX_ROWS
    uint32_t acc = 0;
  COLS:
    for (uint32_t c = 0; c < cols; c++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=MMIO_ROWSUM_MAX_PIXELS_PACKED
#pragma HLS PIPELINE II=1
      // Exactly one read of the image memory per iteration (a second read
      // in another branch could cost a second memory port, or II = 2).
      const uint32_t word = image[pack16 ? (k >> 1) : k];
      const uint32_t shift = MMIO_ROWSUM_PIXEL_BITS * (k & 1u);
      const uint32_t pixel =
          pack16 ? ((word >> shift) & MMIO_ROWSUM_PIXEL_MASK) : word;
      acc += pixel;  // wraps modulo 2^32, like the 32-bit adder
      k++;
    }
    rowsum[r] = acc;
  }
}
