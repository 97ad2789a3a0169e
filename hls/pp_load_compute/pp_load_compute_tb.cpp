// pp_load_compute_tb.cpp -- C-simulation testbench for pp_load_compute.
//
//   ./pp_load_compute_tb                  self-test; returns nonzero on mismatch
//   ./pp_load_compute_tb vectors IN OUT   vector mode (driven by pytest)
//
// Vector mode runs a SEQUENCE of calls on the HLS top (whose static buffers
// start at zero in a fresh process), so the ping-pong lag is tested too.
// IN : ncalls, then per call  num op n pingpong in_len in[in_len]
// OUT: per call one line      status count leftover (data last) x count
//   status 0 ok, 1 input ran dry (count 0), 2 a beat had TKEEP/TSTRB != all ones
//   leftover = input beats the kernel did not read
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lab_tb.h"
#include "lab_tb_axis.h"
#include "pp_load_compute.h"

namespace {

constexpr uint32_t BLOG_N = 1024;       // the blog's buffer size
constexpr uint32_t SEQUENCE_CALLS = 6;  // enough to cycle both buffers 3x

// Golden model: the blog's algorithm as plain loops over two vectors.
class Golden {
 public:
  Golden() : ifm_0_(PP_LC_MAX_N, 0), ifm_1_(PP_LC_MAX_N, 0) {}

  // Returns false if the input runs dry (the load buffer keeps what arrived).
  bool run(const std::vector<uint32_t> &in, uint32_t num, uint32_t op,
           uint32_t n, uint32_t pingpong, std::vector<TbBeat> &out) {
    out.clear();
    const uint32_t count = std::min(n, PP_LC_MAX_N);
    const bool even = (num % 2 == 0);
    std::vector<uint32_t> &load = (pingpong && !even) ? ifm_1_ : ifm_0_;
    std::vector<uint32_t> &use = pingpong ? (even ? ifm_1_ : ifm_0_) : ifm_0_;
    for (uint32_t i = 0; i < count; i++) {
      if (i >= in.size()) return false;
      load[i] = in[i];
    }
    for (uint32_t i = 0; i < count; i++) {
      out.push_back({use[i] + op, i == count - 1 ? 1u : 0u});
    }
    return true;
  }

 private:
  std::vector<uint32_t> ifm_0_, ifm_1_;
};

int self_test() {
  TbCheck check;
  TbRng rng(2018);
  Golden golden;  // mirrors the HLS top's static buffers across all cases
  // Each case: one call of the HLS top and of the golden model, compared
  // beat by beat (data, and TLAST only on the final beat). Arguments after
  // the input words: num, op, n, pingpong.
  const auto top = pp_load_compute;

  // The blog's schedule: num counts up, the parity alternates the buffers.
  // Call 0 computes on IFM_1, still all zeros: its output is just `op`.
  for (uint32_t num = 0; num < SEQUENCE_CALLS; num++) {
    tb_check_stream_call(check, golden, top,
                         "pingpong call " + std::to_string(num),
                         tb_random_words(rng, BLOG_N), num, /*op=*/num + 1,
                         BLOG_N, 1);
  }
  tb_check_stream_call(check, golden, top, "sequential (same call's data)",
                       tb_random_words(rng, BLOG_N), 0, 7, BLOG_N, 0);
  tb_check_stream_call(check, golden, top, "op wraps modulo 2^32",
                       std::vector<uint32_t>(BLOG_N, 0xFFFFFFFFu), 0, 2,
                       BLOG_N, 0);
  tb_check_stream_call(check, golden, top, "single beat carries TLAST",
                       tb_random_words(rng, 1), 1, 3, 1, 1);
  tb_check_stream_call(check, golden, top, "maximum size, even",
                       tb_random_words(rng, PP_LC_MAX_N), 2, 5, PP_LC_MAX_N,
                       1);
  tb_check_stream_call(check, golden, top, "maximum size, odd",
                       tb_random_words(rng, PP_LC_MAX_N), 3, 5, PP_LC_MAX_N,
                       1);
  tb_check_stream_call(check, golden, top, "n > max is clamped",
                       tb_random_words(rng, PP_LC_MAX_N), 4, 1,
                       PP_LC_MAX_N + 1, 1);
  // Only our csim hls::stream throws on an empty read (Vitis HLS's warns).
#ifdef LAB_CSIM_HLS_STREAM_H
  tb_check_stream_call(check, golden, top, "input runs dry",
                       tb_random_words(rng, BLOG_N - 1), 5, 0, BLOG_N, 1);
#endif
  tb_check_stream_call(check, golden, top,
                       "after a dry run the state still matches",
                       tb_random_words(rng, BLOG_N), 6, 0, BLOG_N, 1);

  // Zero length: no beat read, no beat written.
  tb_expect_untouched(check, "zero length",
                      tb_run_stream_top({11, 22}, top, 0, 0, 0, 1), 2,
                      "n == 0 must neither read nor write a beat");

  // The csim stream fails loudly, and names itself, instead of hanging.
  // Only our csim hls::stream throws on an empty read (Vitis HLS's warns).
#ifdef LAB_CSIM_HLS_STREAM_H
  {
    hls::stream<axis32_t> empty("in_stream");
    bool thrown = false;
    try {
      empty.read();
    } catch (const std::runtime_error &e) {
      thrown = std::string(e.what()).find("in_stream") != std::string::npos;
    }
    check.expect("empty read throws naming the stream", thrown,
                 "no exception, or the message lacks the stream name");
  }
#endif
  return check.finish("pp_load_compute_tb");
}

void vector_record(TbVectorReader &in, TbVectorWriter &out) {
  const uint32_t num = in.next32();
  const uint32_t op = in.next32();
  const uint32_t n = in.next32();
  const uint32_t pingpong = in.next32();
  const std::vector<uint32_t> words = in.counted32();
  tb_put_stream_run(
      out, tb_run_stream_top(words, pp_load_compute, num, op, n, pingpong));
}

}  // namespace

int main(int argc, char **argv) {
  return tb_main(argc, argv, "pp_load_compute_tb", self_test, vector_record);
}
