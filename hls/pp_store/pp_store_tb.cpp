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
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "lab_tb.h"
#include "lab_tb_axis.h"
#include "pp_store.h"

namespace {

constexpr uint32_t BLOG_N = 10240;      // the blog's SB size: 10 x 1024 words
constexpr uint32_t SEQUENCE_CALLS = 5;  // even, odd, even, ... buffers
constexpr int STATUS_OK = 0;
constexpr int STATUS_DRY = 1;
constexpr int STATUS_BAD_SIDEBAND = 2;

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

int run_top(const std::vector<uint32_t> &in, uint32_t num, uint32_t n,
            uint32_t pingpong, std::vector<TbBeat> &out,
            std::size_t &leftover) {
  hls::stream<axis32_t> in_stream("in_stream");
  hls::stream<axis32_t> out_stream("out_stream");
  tb_feed(in_stream, in);
  out.clear();
  leftover = 0;
  try {
    pp_store(in_stream, out_stream, num, n, pingpong);
  } catch (const std::runtime_error &) {
    return STATUS_DRY;
  }
  const bool sideband_ok = tb_drain(out_stream, out);
  leftover = in_stream.size();
  return sideband_ok ? STATUS_OK : STATUS_BAD_SIDEBAND;
}

void check_call(TbCheck &check, Golden &golden, const std::string &name,
                const std::vector<uint32_t> &in, uint32_t num, uint32_t n,
                uint32_t pingpong) {
  std::vector<TbBeat> want, got;
  const bool ok = golden.run(in, num, n, pingpong, want);
  std::size_t leftover = 0;
  const int status = run_top(in, num, n, pingpong, got, leftover);
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
  TbRng rng(1024);
  Golden golden;  // mirrors the HLS top's static buffers across all cases

  // Call 0 sends OFM_1, still zeros; call k sends what call k-1 collected.
  for (uint32_t num = 0; num < SEQUENCE_CALLS; num++) {
    check_call(check, golden, "pingpong call " + std::to_string(num),
               tb_random_words(rng, BLOG_N), num, BLOG_N, 1);
  }
  check_call(check, golden, "pass-through", tb_random_words(rng, BLOG_N), 0,
             BLOG_N, 0);
  check_call(check, golden, "pass-through single beat carries TLAST",
             tb_random_words(rng, 1), 0, 1, 0);
  check_call(check, golden, "pingpong single beat carries TLAST",
             tb_random_words(rng, 1), 1, 1, 1);
  check_call(check, golden, "maximum size, even",
             tb_random_words(rng, PP_ST_MAX_N), 2, PP_ST_MAX_N, 1);
  check_call(check, golden, "maximum size, odd",
             tb_random_words(rng, PP_ST_MAX_N), 3, PP_ST_MAX_N, 1);
  check_call(check, golden, "maximum size pass-through",
             tb_random_words(rng, PP_ST_MAX_N), 3, PP_ST_MAX_N, 0);
  check_call(check, golden, "n > max is clamped",
             tb_random_words(rng, PP_ST_MAX_N), 4, PP_ST_MAX_N + 1, 1);
  // Only our csim hls::stream throws on an empty read (Vitis HLS's warns).
#ifdef LAB_CSIM_HLS_STREAM_H
  check_call(check, golden, "pingpong input runs dry",
             tb_random_words(rng, BLOG_N - 1), 5, BLOG_N, 1);
  check_call(check, golden, "pass-through input runs dry",
             tb_random_words(rng, BLOG_N - 1), 5, BLOG_N, 0);
#endif
  check_call(check, golden, "after a dry run the state still matches",
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
  {
    std::vector<TbBeat> got;
    std::size_t leftover = 0;
    const int status = run_top({11, 22}, 0, 0, 1, got, leftover);
    check.expect("zero length", status == STATUS_OK && got.empty() &&
                                    leftover == 2,
                 "n == 0 must neither read nor write a beat");
  }
  return check.finish("pp_store_tb");
}

int vector_mode(const char *in_path, const char *out_path) {
  TbVectorReader in(in_path);
  TbVectorWriter out(out_path);
  const uint64_t ncalls = in.next();
  for (uint64_t c = 0; c < ncalls; c++) {
    const uint32_t num = in.next32();
    const uint32_t n = in.next32();
    const uint32_t pingpong = in.next32();
    std::vector<uint32_t> words(in.next());
    for (auto &w : words) w = in.next32();
    std::vector<TbBeat> beats;
    std::size_t leftover = 0;
    const int status = run_top(words, num, n, pingpong, beats, leftover);
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
    std::fprintf(stderr, "pp_store_tb: %s\n", e.what());
    return 3;
  }
}
