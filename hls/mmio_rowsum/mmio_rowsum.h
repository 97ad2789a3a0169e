// mmio_rowsum.h -- the MMIO-input kernel of the "MMIO write is too slow" thread.
//
// The PS writes an image into a memory that lives inside the kernel's
// AXI-Lite address space (one 32-bit word per bus write, or one
// mmio.array slice assignment), starts the kernel, and reads one sum per row
// back from a second AXI-Lite memory.
#ifndef MMIO_ROWSUM_H
#define MMIO_ROWSUM_H

#include <cstdint>

// Image memory: 8192 words = 32 KiB, at AXI-Lite offset 0x8000-0xFFFF.
constexpr uint32_t MMIO_ROWSUM_MAX_WORDS = 8192;
// Result memory: 128 words, at AXI-Lite offset 0x0200-0x03FF.
constexpr uint32_t MMIO_ROWSUM_MAX_ROWS = 128;
// pack16 != 0: 16-bit pixels, two per 32-bit word, little-endian
// (pixel 2i in bits 15..0 of word i, pixel 2i+1 in bits 31..16).
constexpr uint32_t MMIO_ROWSUM_PIXEL_BITS = 16;
constexpr uint32_t MMIO_ROWSUM_PIXEL_MASK = 0xFFFF;
constexpr uint32_t MMIO_ROWSUM_PIXELS_PER_PACKED_WORD = 2;
// Largest pixel count the image memory can hold, unpacked and packed.
constexpr uint32_t MMIO_ROWSUM_MAX_PIXELS = MMIO_ROWSUM_MAX_WORDS;
constexpr uint32_t MMIO_ROWSUM_MAX_PIXELS_PACKED =
    MMIO_ROWSUM_MAX_WORDS * MMIO_ROWSUM_PIXELS_PER_PACKED_WORD;

// rowsum[r] = sum_{c < cols} pixel(r*cols + c)  (mod 2^32), for r < rows.
// rowsum[r >= rows] is not written. If rows == 0, cols == 0,
// rows > MMIO_ROWSUM_MAX_ROWS or the pixels do not fit the image memory, the
// kernel writes nothing and returns at once.
void mmio_rowsum(const uint32_t image[MMIO_ROWSUM_MAX_WORDS],
                 uint32_t rowsum[MMIO_ROWSUM_MAX_ROWS], uint32_t rows,
                 uint32_t cols, uint32_t pack16);

// Number of image words that rows x cols pixels occupy, computed in 64 bits so
// that no 32-bit rows/cols pair can overflow it.
inline uint64_t mmio_rowsum_words_needed(uint32_t rows, uint32_t cols,
                                         uint32_t pack16) {
  const uint64_t pixels = static_cast<uint64_t>(rows) * cols;
  return pack16 ? (pixels + MMIO_ROWSUM_PIXELS_PER_PACKED_WORD - 1) /
                      MMIO_ROWSUM_PIXELS_PER_PACKED_WORD
                : pixels;
}

#endif  // MMIO_ROWSUM_H
