// pp_store_tb.cpp -- C-simulation testbench for pp_store.
//
//   ./pp_store_tb                  self-test; returns nonzero on mismatch
//   ./pp_store_tb vectors IN OUT   vector mode (driven by pytest)
//
// Vector mode runs a SEQUENCE of calls on the HLS top (static buffers start
// at zero in a fresh process), so the ping-pong lag is tested too.
// IN : ncalls, then per call  num n pingpong in_len in[in_len]
// OUT: per call one line      status count leftover (data last) x count
//   status 0 ok, 1 input ran dry (count 0), 2 a beat had TKEEP/TSTRB != all ones
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "lab_tb.h"
#include "lab_tb_axis.h"
#include "pp_store.h"

namespace {

constexpr uint32_t BLOG_N = 10240;      // the blog's SB size: 10 x 1024 words
constexpr uint32_t SEQUENCE_CALLS = 5;  // even, odd, even, ... buffers

// Golden model: plain loops over two vectors.
class Golden {
 public:
  Golden() : ofm_0_(PP_ST_MAX_N, 0), ofm_1_(PP_ST_MAX_N, 0) {}

  // Returns false if the input runs dry.
  bool run(const std::vector<uint32_t> &in, uint32_t num, uint32_t n,
           uint32_t pingpong, std::vector<TbBeat> &out) {
    out.clear();
    const uint32_t count = std::min(n, PP_ST_MAX_N);
    if (!pingpong) {
      if (in.size() < count) return false;
      for (uint32_t i = 0; i < count; i++) {
        out.push_back({in[i], i == count - 1 ? 1u : 0u});
      }
      return true;
    }
    const bool even = (num % 2 == 0);
    std::vector<uint32_t> &collect = even ? ofm_0_ : ofm_1_;
    std::vector<uint32_t> &send = even ? ofm_1_ : ofm_0_;
    for (uint32_t i = 0; i < count; i++) {
      if (i >= in.size()) return false;
      collect[i] = in[i];
    }
    for (uint32_t i = 0; i < count; i++) {
      out.push_back({send[i], i == count - 1 ? 1u : 0u});
    }
    return true;
  }

 private:
  std::vector<uint32_t> ofm_0_, ofm_1_;
};

int self_test() {
  TbCheck check;
  TbRng rng(1024);
  Golden golden;  // mirrors the HLS top's static buffers across all cases
  // Each case: one call of the HLS top and of the golden model, compared
  // beat by beat. Arguments after the input words: num, n, pingpong.
  const auto top = pp_store;

  // Call 0 sends OFM_1, still zeros; call k sends what call k-1 collected.
  for (uint32_t num = 0; num < SEQUENCE_CALLS; num++) {
    tb_check_stream_call(check, golden, top,
                         "pingpong call " + std::to_string(num),
                         tb_random_words(rng, BLOG_N), num, BLOG_N, 1);
  }
  tb_check_stream_call(check, golden, top, "pass-through",
                       tb_random_words(rng, BLOG_N), 0, BLOG_N, 0);
  tb_check_stream_call(check, golden, top,
                       "pass-through single beat carries TLAST",
                       tb_random_words(rng, 1), 0, 1, 0);
  tb_check_stream_call(check, golden, top, "pingpong single beat carries TLAST",
                       tb_random_words(rng, 1), 1, 1, 1);
  tb_check_stream_call(check, golden, top, "maximum size, even",
                       tb_random_words(rng, PP_ST_MAX_N), 2, PP_ST_MAX_N, 1);
  tb_check_stream_call(check, golden, top, "maximum size, odd",
                       tb_random_words(rng, PP_ST_MAX_N), 3, PP_ST_MAX_N, 1);
  tb_check_stream_call(check, golden, top, "maximum size pass-through",
                       tb_random_words(rng, PP_ST_MAX_N), 3, PP_ST_MAX_N, 0);
  tb_check_stream_call(check, golden, top, "n > max is clamped",
                       tb_random_words(rng, PP_ST_MAX_N), 4, PP_ST_MAX_N + 1,
                       1);
  // Only our csim hls::stream throws on an empty read (Vitis HLS's warns).
#ifdef LAB_CSIM_HLS_STREAM_H
  tb_check_stream_call(check, golden, top, "pingpong input runs dry",
                       tb_random_words(rng, BLOG_N - 1), 5, BLOG_N, 1);
  tb_check_stream_call(check, golden, top, "pass-through input runs dry",
                       tb_random_words(rng, BLOG_N - 1), 5, BLOG_N, 0);
#endif
  tb_check_stream_call(check, golden, top,
                       "after a dry run the state still matches",
                       tb_random_words(rng, BLOG_N), 6, BLOG_N, 1);

  // Input TLAST in the middle of the data must not end anything early.
  {
    hls::stream<axis32_t> in_stream("in_stream");
    hls::stream<axis32_t> out_stream("out_stream");
    tb_feed(in_stream, {1, 2});
    tb_feed(in_stream, {3, 4});  // beat 1 carries TLAST, beat 3 too
    pp_store(in_stream, out_stream, 0, 4, 0);
    std::vector<TbBeat> got;
    tb_drain(out_stream, got);
    tb_compare_beats(check, "input TLAST ignored, output TLAST re-made", got,
                     {{1, 0}, {2, 0}, {3, 0}, {4, 1}});
  }

  // Zero length: no beat read, no beat written.
  tb_expect_untouched(check, "zero length",
                      tb_run_stream_top({11, 22}, top, 0, 0, 1), 2,
                      "n == 0 must neither read nor write a beat");
  return check.finish("pp_store_tb");
}

void vector_record(TbVectorReader &in, TbVectorWriter &out) {
  const uint32_t num = in.next32();
  const uint32_t n = in.next32();
  const uint32_t pingpong = in.next32();
  const std::vector<uint32_t> words = in.counted32();
  tb_put_stream_run(out, tb_run_stream_top(words, pp_store, num, n, pingpong));
}

}  // namespace

int main(int argc, char **argv) {
  return tb_main(argc, argv, "pp_store_tb", self_test, vector_record);
}
