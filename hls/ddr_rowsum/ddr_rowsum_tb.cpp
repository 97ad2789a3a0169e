// ddr_rowsum_tb.cpp -- C-simulation testbench for ddr_rowsum.
//
//   ./ddr_rowsum_tb                  self-test; returns nonzero on mismatch
//   ./ddr_rowsum_tb vectors IN OUT   vector mode (driven by pytest)
//
// Vector file IN : ncases, then per case  rows cols src[rows*cols]
// Vector file OUT: per case one line with dst[rows]
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ddr_rowsum.h"
#include "lab_tb.h"

namespace {

constexpr uint32_t SENTINEL = 0x5A5A5A5Au;  // marks words not to touch
constexpr uint32_t FORUM_ROWS = 70;
constexpr uint32_t FORUM_COLS = 80;
constexpr std::size_t GUARD_WORDS = 64;  // untouched words around every buffer

// Golden model: the definition, reading and writing the same memory in the
// same order as the kernel (row r is read completely before dst[r] is
// written), so overlapping src/dst give the same answer.
void golden(std::vector<uint32_t> &mem, std::size_t src, std::size_t dst,
            uint32_t rows, uint32_t cols) {
  for (uint32_t r = 0; r < rows; r++) {
    uint32_t sum = 0;
    for (uint32_t c = 0; c < cols; c++) {
      sum += mem[src + static_cast<std::size_t>(r) * cols + c];
    }
    mem[dst + r] = sum;
  }
}

// One shared "DDR" with src at word offset src_off and dst at dst_off; the
// kernel's result must equal the golden model's on the WHOLE memory, so a
// write outside dst[0..rows) is caught too.
void run_case(TbCheck &check, const std::string &name, TbRng &rng,
              uint32_t rows, uint32_t cols, std::size_t src_off,
              std::size_t dst_off, uint32_t value_mask = 0xFFFFFFFFu,
              uint32_t value_or = 0) {
  const std::size_t words = std::max(src_off + std::size_t(rows) * cols,
                                     dst_off + rows) + GUARD_WORDS;
  std::vector<uint32_t> mem(words, SENTINEL);
  for (std::size_t i = 0; i < std::size_t(rows) * cols; i++) {
    mem[src_off + i] = (rng.next() & value_mask) | value_or;
  }
  std::vector<uint32_t> want = mem;
  golden(want, src_off, dst_off, rows, cols);
  ddr_rowsum(mem.data() + src_off, mem.data() + dst_off, rows, cols);
  check.arrays(name, mem.data(), want.data(), words);
}

int self_test() {
  TbCheck check;
  TbRng rng(2016);
  const std::size_t far = 1u << 20;  // dst well away from src

  run_case(check, "3x5", rng, 3, 5, GUARD_WORDS, far);
  run_case(check, "forum 70x80", rng, FORUM_ROWS, FORUM_COLS, GUARD_WORDS, far);
  // Unaligned starts: word aligned, but not on a 64-byte burst boundary.
  run_case(check, "unaligned src and dst", rng, FORUM_ROWS, FORUM_COLS,
           GUARD_WORDS + 1, far + 3);
  run_case(check, "one row longer than a burst", rng, 1,
           DDR_ROWSUM_BURST_BEATS * 3 + 1, GUARD_WORDS + 5, far + 1);
  run_case(check, "one column", rng, 100, 1, GUARD_WORDS, far);
  run_case(check, "sums wrap modulo 2^32", rng, 8, 300, GUARD_WORDS, far,
           0xFu, 0xFFFFFFF0u);
  run_case(check, "maximum size 1080x1920", rng, DDR_ROWSUM_TRIPCOUNT_ROWS,
           DDR_ROWSUM_TRIPCOUNT_COLS, GUARD_WORDS,
           GUARD_WORDS + std::size_t(DDR_ROWSUM_TRIPCOUNT_ROWS) *
                             DDR_ROWSUM_TRIPCOUNT_COLS + 7);
  // Zero length: rows == 0 touches nothing; cols == 0 writes zeros.
  run_case(check, "zero rows", rng, 0, 16, GUARD_WORDS, far);
  run_case(check, "zero cols", rng, 16, 0, GUARD_WORDS, far);
  // dst overlaps the next row of src: the kernel must read row r completely
  // before it writes dst[r], as the golden model does.
  run_case(check, "dst overlaps src", rng, 10, 8, GUARD_WORDS,
           GUARD_WORDS + 8);
  return check.finish("ddr_rowsum_tb");
}

void vector_record(TbVectorReader &in, TbVectorWriter &out) {
  const uint32_t rows = in.next32();
  const uint32_t cols = in.next32();
  std::vector<uint32_t> src(static_cast<std::size_t>(rows) * cols);
  in.fill32(src);
  std::vector<uint32_t> dst(rows, SENTINEL);
  ddr_rowsum(src.data(), dst.data(), rows, cols);
  out.put_all(dst);
}

}  // namespace

int main(int argc, char **argv) {
  return tb_main(argc, argv, "ddr_rowsum_tb", self_test, vector_record);
}
