// bridge.cpp -- extern "C" entry point the simulated board calls via ctypes.
//
// The simulator keeps DDR as one host buffer whose first byte has physical
// address ddr_phys_base. The kernel's m_axi port sees physical addresses;
// this bridge plays the AXI interconnect: it decodes them into host pointers
// and answers a decode error (what the real interconnect does for an address
// no slave owns) instead of letting the kernel touch host memory it must not.
#include <cstdint>

#include "ddr_rowsum.h"
#include "lab_bridge.h"

namespace {

constexpr uint64_t WORD_BYTES = sizeof(uint32_t);

// True if `words` 32-bit words starting at physical address `addr` lie inside
// [base, base + bytes) and `addr` is word aligned. An empty range is fine.
bool range_decodes(uint64_t addr, uint64_t words, uint64_t base,
                   uint64_t bytes) {
  if (words == 0) return true;
  if (addr % WORD_BYTES != 0) return false;
  if (addr < base) return false;
  const uint64_t offset = addr - base;
  if (offset >= bytes) return false;
  return words <= (bytes - offset) / WORD_BYTES;
}

}  // namespace

extern "C" {

// Returns LAB_OK (0) after the run; LAB_DECODE_ERROR (1) without touching
// memory if any byte of src[0 .. rows*cols) or dst[0 .. rows) falls outside
// the DDR window or an address is not 4-byte aligned; LAB_ERR_NULL or
// LAB_ERR_BAD_WINDOW (base or size of the window not a multiple of 4, or the
// window wraps past 2^64) for a bad window. rows == 0 is a legal no-op;
// cols == 0 writes rows zeros.
int lab_ddr_rowsum(uint32_t *ddr, uint64_t ddr_phys_base, uint64_t ddr_bytes,
                   uint64_t src_phys, uint64_t dst_phys, uint32_t rows,
                   uint32_t cols) {
  if (ddr_phys_base % WORD_BYTES != 0 || ddr_bytes % WORD_BYTES != 0 ||
      ddr_phys_base + ddr_bytes < ddr_phys_base) {
    return LAB_ERR_BAD_WINDOW;
  }
  if (ddr == nullptr && ddr_bytes != 0) return LAB_ERR_NULL;

  const uint64_t src_words = static_cast<uint64_t>(rows) * cols;  // < 2^64
  const uint64_t dst_words = rows;
  if (!range_decodes(src_phys, src_words, ddr_phys_base, ddr_bytes) ||
      !range_decodes(dst_phys, dst_words, ddr_phys_base, ddr_bytes)) {
    return LAB_DECODE_ERROR;
  }
  // An empty range is never dereferenced; do not form a pointer for it.
  const uint32_t *src =
      src_words ? ddr + (src_phys - ddr_phys_base) / WORD_BYTES : nullptr;
  uint32_t *dst =
      dst_words ? ddr + (dst_phys - ddr_phys_base) / WORD_BYTES : nullptr;
  try {
    ddr_rowsum(src, dst, rows, cols);
  } catch (...) {
    return LAB_ERR_INTERNAL;
  }
  return LAB_OK;
}

// Uniform entry for the simulated PL's job queue (labkit/sim/_plqueue.c): the
// arguments of lab_ddr_rowsum, in order, as 64-bit values.
long lab_task_ddr_rowsum(const uint64_t *a) { return lab_task_call(lab_ddr_rowsum, a); }

}  // extern "C"
