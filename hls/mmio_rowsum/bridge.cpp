// bridge.cpp -- extern "C" entry point the simulated board calls via ctypes.
// No Python headers: a plain C ABI over the HLS kernel source.
#include <cstdint>

#include "lab_bridge.h"
#include "mmio_rowsum.h"

extern "C" {

// Run mmio_rowsum on the simulated AXI-Lite memories.
//   image   8192 words (the image memory, AXI-Lite 0x8000-0xFFFF)
//   rowsum  128 words (the result memory, AXI-Lite 0x0200-0x03FF)
// Returns LAB_OK, or without running: LAB_ERR_NULL, LAB_ERR_ZERO_LENGTH
// (rows == 0 or cols == 0), LAB_ERR_TOO_LARGE (rows > 128, or the pixels need
// more than 8192 words). In those cases the kernel itself would also write
// nothing; the code tells the simulator why.
int lab_mmio_rowsum(const uint32_t *image, uint32_t *rowsum, uint32_t rows,
                    uint32_t cols, uint32_t pack16) {
  if (image == nullptr || rowsum == nullptr) return LAB_ERR_NULL;
  if (rows == 0 || cols == 0) return LAB_ERR_ZERO_LENGTH;
  if (rows > MMIO_ROWSUM_MAX_ROWS) return LAB_ERR_TOO_LARGE;
  if (mmio_rowsum_words_needed(rows, cols, pack16) > MMIO_ROWSUM_MAX_WORDS) {
    return LAB_ERR_TOO_LARGE;
  }
  try {
    mmio_rowsum(image, rowsum, rows, cols, pack16);
  } catch (...) {
    return LAB_ERR_INTERNAL;
  }
  return LAB_OK;
}

// Uniform entry for the simulated PL's job queue (labkit/sim/_plqueue.c): the
// arguments of lab_mmio_rowsum, in order, as 64-bit values.
long lab_task_mmio_rowsum(const uint64_t *a) { return lab_task_call(lab_mmio_rowsum, a); }

}  // extern "C"
