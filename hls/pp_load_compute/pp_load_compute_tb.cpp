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
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "lab_tb.h"
#include "lab_tb_axis.h"
#include "pp_load_compute.h"

namespace {

constexpr uint32_t BLOG_N = 1024;       // the blog's buffer size
constexpr uint32_t SEQUENCE_CALLS = 6;  // enough to cycle both buffers 3x
constexpr int STATUS_OK = 0;
constexpr int STATUS_DRY = 1;
constexpr int STATUS_BAD_SIDEBAND = 2;

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

// Runs the HLS top; returns a status and the beats and leftover count.
int run_top(const std::vector<uint32_t> &in, uint32_t num, uint32_t op,
            uint32_t n, uint32_t pingpong, std::vector<TbBeat> &out,
            std::size_t &leftover) {
  hls::stream<axis32_t> in_stream("in_stream");
  hls::stream<axis32_t> out_stream("out_stream");
  tb_feed(in_stream, in);
  out.clear();
  leftover = 0;
  try {
    pp_load_compute(in_stream, out_stream, num, op, n, pingpong);
  } catch (const std::runtime_error &) {
    return STATUS_DRY;
  }
  const bool sideband_ok = tb_drain(out_stream, out);
  leftover = in_stream.size();
  return sideband_ok ? STATUS_OK : STATUS_BAD_SIDEBAND;
}

// One call on both the HLS top and the golden model, compared beat by beat
// (data, and TLAST only on the final beat).
void check_call(TbCheck &check, Golden &golden, const std::string &name,
                const std::vector<uint32_t> &in, uint32_t num, uint32_t op,
                uint32_t n, uint32_t pingpong) {
  std::vector<TbBeat> want, got;
  const bool ok = golden.run(in, num, op, n, pingpong, want);
  std::size_t leftover = 0;
  const int status = run_top(in, num, op, n, pingpong, got, leftover);
  if (!ok) {
    check.expect(name, status == STATUS_DRY, "expected the input to run dry");
    return;
  }
  if (status != STATUS_OK) {
    check.fail(name, "status " + std::to_string(status));
    return;
  }
  tb_compare_beats(check, name, got, want);
}

int self_test() {
  TbCheck check;
  TbRng rng(2018);
  Golden golden;  // mirrors the HLS top's static buffers across all cases

  // The blog's schedule: num counts up, the parity alternates the buffers.
  // Call 0 computes on IFM_1, still all zeros: its output is just `op`.
  for (uint32_t num = 0; num < SEQUENCE_CALLS; num++) {
    check_call(check, golden, "pingpong call " + std::to_string(num),
               tb_random_words(rng, BLOG_N), num, /*op=*/num + 1, BLOG_N, 1);
  }
  check_call(check, golden, "sequential (same call's data)",
             tb_random_words(rng, BLOG_N), 0, 7, BLOG_N, 0);
  check_call(check, golden, "op wraps modulo 2^32",
             std::vector<uint32_t>(BLOG_N, 0xFFFFFFFFu), 0, 2, BLOG_N, 0);
  check_call(check, golden, "single beat carries TLAST",
             tb_random_words(rng, 1), 1, 3, 1, 1);
  check_call(check, golden, "maximum size, even",
             tb_random_words(rng, PP_LC_MAX_N), 2, 5, PP_LC_MAX_N, 1);
  check_call(check, golden, "maximum size, odd",
             tb_random_words(rng, PP_LC_MAX_N), 3, 5, PP_LC_MAX_N, 1);
  check_call(check, golden, "n > max is clamped",
             tb_random_words(rng, PP_LC_MAX_N), 4, 1, PP_LC_MAX_N + 1, 1);
  // Only our csim hls::stream throws on an empty read (Vitis HLS's warns).
#ifdef LAB_CSIM_HLS_STREAM_H
  check_call(check, golden, "input runs dry",
             tb_random_words(rng, BLOG_N - 1), 5, 0, BLOG_N, 1);
#endif
  check_call(check, golden, "after a dry run the state still matches",
             tb_random_words(rng, BLOG_N), 6, 0, BLOG_N, 1);

  // Zero length: no beat read, no beat written.
  {
    std::vector<TbBeat> got;
    std::size_t leftover = 0;
    const int status = run_top({11, 22}, 0, 0, 0, 1, got, leftover);
    check.expect("zero length", status == STATUS_OK && got.empty() &&
                                    leftover == 2,
                 "n == 0 must neither read nor write a beat");
  }

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

int vector_mode(const char *in_path, const char *out_path) {
  TbVectorReader in(in_path);
  TbVectorWriter out(out_path);
  const uint64_t ncalls = in.next();
  for (uint64_t c = 0; c < ncalls; c++) {
    const uint32_t num = in.next32();
    const uint32_t op = in.next32();
    const uint32_t n = in.next32();
    const uint32_t pingpong = in.next32();
    std::vector<uint32_t> words(in.next());
    for (auto &w : words) w = in.next32();
    std::vector<TbBeat> beats;
    std::size_t leftover = 0;
    const int status = run_top(words, num, op, n, pingpong, beats, leftover);
    out.put(static_cast<uint64_t>(status));
    out.put(status == STATUS_DRY ? 0 : beats.size());
    out.put(leftover);
    if (status != STATUS_DRY) {
      for (const TbBeat &b : beats) {
        out.put(b.data);
        out.put(b.last);
      }
    }
    out.end_record();
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  try {
    if (argc == 4 && std::strcmp(argv[1], "vectors") == 0) {
      return vector_mode(argv[2], argv[3]);
    }
    if (argc != 1) {
      std::fprintf(stderr, "usage: %s [vectors IN OUT]\n", argv[0]);
      return 2;
    }
    return self_test();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "pp_load_compute_tb: %s\n", e.what());
    return 3;
  }
}
