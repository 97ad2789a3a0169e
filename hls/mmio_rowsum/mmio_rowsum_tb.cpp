// mmio_rowsum_tb.cpp -- C-simulation testbench for mmio_rowsum.
//
//   ./mmio_rowsum_tb                      self-test; returns nonzero on mismatch
//   ./mmio_rowsum_tb vectors IN OUT       vector mode (driven by pytest)
//
// Vector file IN: ncases, then per case
//   rows cols pack16  image[8192]  rowsum_before[128]
// Vector file OUT: per case one line with rowsum_after[128].
#include <cstdint>
#include <string>
#include <vector>

#include "lab_tb.h"
#include "mmio_rowsum.h"

namespace {

constexpr uint32_t SENTINEL = 0xA5A5A5A5u;  // marks rowsum words not to touch
constexpr uint32_t FORUM_ROWS = 70;         // the forum's 70 x 80 image
constexpr uint32_t FORUM_COLS = 80;
constexpr uint32_t HUGE_COLS = 0xFFFFFFFFu;  // overflows every product

// Golden model: the definition, written as plainly as possible.
uint32_t golden_pixel(const std::vector<uint32_t> &image, uint32_t k,
                      uint32_t pack16) {
  if (!pack16) return image[k];
  return (image[k / 2] >> (MMIO_ROWSUM_PIXEL_BITS * (k % 2))) &
         MMIO_ROWSUM_PIXEL_MASK;
}

bool args_valid(uint32_t rows, uint32_t cols, uint32_t pack16) {
  return rows != 0 && cols != 0 && rows <= MMIO_ROWSUM_MAX_ROWS &&
         mmio_rowsum_words_needed(rows, cols, pack16) <= MMIO_ROWSUM_MAX_WORDS;
}

std::vector<uint32_t> golden(const std::vector<uint32_t> &image,
                             const std::vector<uint32_t> &before,
                             uint32_t rows, uint32_t cols, uint32_t pack16) {
  std::vector<uint32_t> out = before;
  if (!args_valid(rows, cols, pack16)) return out;
  for (uint32_t r = 0; r < rows; r++) {
    uint32_t sum = 0;
    for (uint32_t c = 0; c < cols; c++) {
      sum += golden_pixel(image, r * cols + c, pack16);
    }
    out[r] = sum;
  }
  return out;
}

// Heap-allocated, exactly as large as the AXI-Lite memories: under
// -fsanitize=address any out-of-bounds access by the kernel is reported.
struct Memories {
  std::vector<uint32_t> image = std::vector<uint32_t>(MMIO_ROWSUM_MAX_WORDS);
  std::vector<uint32_t> rowsum =
      std::vector<uint32_t>(MMIO_ROWSUM_MAX_ROWS, SENTINEL);
};

void run_case(TbCheck &check, const std::string &name, Memories &mem,
              uint32_t rows, uint32_t cols, uint32_t pack16) {
  const std::vector<uint32_t> want =
      golden(mem.image, mem.rowsum, rows, cols, pack16);
  mmio_rowsum(mem.image.data(), mem.rowsum.data(), rows, cols, pack16);
  check.arrays(name, mem.rowsum.data(), want.data(), want.size());
}

void fill_random(Memories &mem, TbRng &rng, uint32_t mask) {
  for (auto &w : mem.image) w = rng.next() & mask;
}

int self_test() {
  TbCheck check;
  TbRng rng(12345);
  Memories mem;

  fill_random(mem, rng, 0xFFFFFFFFu);
  run_case(check, "forum 70x80 unpacked", mem, FORUM_ROWS, FORUM_COLS, 0);
  run_case(check, "forum 70x80 packed", mem, FORUM_ROWS, FORUM_COLS, 1);

  // Maximum sizes, with large words so the 32-bit sums wrap around.
  Memories big;
  for (auto &w : big.image) w = 0xFFFFFFF0u | (rng.next() & 0xF);
  run_case(check, "max unpacked 128x64 (wraps)", big, MMIO_ROWSUM_MAX_ROWS,
           MMIO_ROWSUM_MAX_WORDS / MMIO_ROWSUM_MAX_ROWS, 0);
  run_case(check, "max packed 128x128", big, MMIO_ROWSUM_MAX_ROWS,
           MMIO_ROWSUM_MAX_PIXELS_PACKED / MMIO_ROWSUM_MAX_ROWS, 1);
  run_case(check, "one row of 8192 words", big, 1, MMIO_ROWSUM_MAX_WORDS, 0);
  run_case(check, "one row of 16384 packed pixels", big, 1,
           MMIO_ROWSUM_MAX_PIXELS_PACKED, 1);

  Memories small;
  fill_random(small, rng, 0xFFFFFFFFu);
  run_case(check, "single pixel", small, 1, 1, 0);
  run_case(check, "odd pixel count packed 3x5", small, 3, 5, 1);

  // Rows beyond `rows` must keep their old contents.
  Memories keep;
  fill_random(keep, rng, 0xFFFFu);
  run_case(check, "rowsum beyond rows untouched", keep, 5, 7, 0);
  check.expect("sentinel after row 5", keep.rowsum[5] == SENTINEL &&
                   keep.rowsum[MMIO_ROWSUM_MAX_ROWS - 1] == SENTINEL,
               "a row beyond `rows` was written");

  // Invalid sizes: the kernel writes nothing (and reads nothing out of range).
  struct Bad {
    const char *name;
    uint32_t rows, cols, pack16;
  } bad[] = {
      {"zero rows", 0, 5, 0},
      {"zero cols", 5, 0, 0},
      {"129 rows", MMIO_ROWSUM_MAX_ROWS + 1, 1, 0},
      {"8193 words unpacked", MMIO_ROWSUM_MAX_ROWS, 65, 0},
      {"one pixel too many", 1, MMIO_ROWSUM_MAX_PIXELS + 1, 0},
      {"one pixel too many, packed", 1, MMIO_ROWSUM_MAX_PIXELS_PACKED + 1, 1},
      {"3 x 2731 = 8193 pixels", 3, 2731, 0},
      {"16385+ pixels packed", MMIO_ROWSUM_MAX_ROWS, 129, 1},
      {"huge cols", 1, HUGE_COLS, 0},
      {"huge cols packed", 1, HUGE_COLS, 1},
  };
  for (const Bad &b : bad) {
    Memories m;
    fill_random(m, rng, 0xFFFFFFFFu);
    run_case(check, std::string("refused: ") + b.name, m, b.rows, b.cols,
             b.pack16);
  }
  return check.finish("mmio_rowsum_tb");
}

void vector_record(TbVectorReader &in, TbVectorWriter &out) {
  const uint32_t rows = in.next32();
  const uint32_t cols = in.next32();
  const uint32_t pack16 = in.next32();
  Memories mem;
  in.fill32(mem.image);
  in.fill32(mem.rowsum);
  mmio_rowsum(mem.image.data(), mem.rowsum.data(), rows, cols, pack16);
  out.put_all(mem.rowsum);
}

}  // namespace

int main(int argc, char **argv) {
  return tb_main(argc, argv, "mmio_rowsum_tb", self_test, vector_record);
}
