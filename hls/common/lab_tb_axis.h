// lab_tb_axis.h -- testbench helpers for kernels with a 32-bit AXI-Stream
// output (the input stream may be 32 or 64 bits wide).
//
//  * tb_feed   pushes data words as beats (all bytes valid, TLAST on the last)
//  * tb_drain  pops every beat, flags any TKEEP/TSTRB that is not all ones
//  * tb_compare_beats  compares data and TLAST separately, so a report says
//              whether the payload or the packet boundary is wrong
//  * tb_run_stream_top  runs an HLS top once and reports status, output
//              beats and unread input beats (TbStreamRun); tb_put_stream_run
//              writes that as one vector-file record
//  * tb_check_stream_call  runs the top and its golden model on one call and
//              compares them; tb_expect_untouched checks a run that must
//              neither read nor write a beat
#ifndef LAB_TB_AXIS_H
#define LAB_TB_AXIS_H

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "hls_stream.h"
#include "lab_axis.h"
#include "lab_tb.h"

struct TbBeat {
  uint32_t data;
  uint32_t last;
};

inline void tb_feed(hls::stream<axis32_t> &s, const std::vector<uint32_t> &words) {
  for (std::size_t i = 0; i < words.size(); i++) {
    axis32_t beat;
    beat.data = words[i];
    beat.keep = AXIS32_ALL_BYTES;
    beat.strb = AXIS32_ALL_BYTES;
    beat.last = (i + 1 == words.size()) ? 1 : 0;
    s.write(beat);
  }
}

// Returns false if some beat had TKEEP or TSTRB other than all ones.
inline bool tb_drain(hls::stream<axis32_t> &s, std::vector<TbBeat> &beats) {
  bool sideband_ok = true;
  beats.clear();
  while (!s.empty()) {
    const axis32_t beat = s.read();
    if (beat.keep != AXIS32_ALL_BYTES || beat.strb != AXIS32_ALL_BYTES) {
      sideband_ok = false;
    }
    beats.push_back({static_cast<uint32_t>(beat.data),
                     static_cast<uint32_t>(beat.last)});
  }
  return sideband_ok;
}

inline void tb_compare_beats(TbCheck &check, const std::string &name,
                             const std::vector<TbBeat> &got,
                             const std::vector<TbBeat> &want) {
  if (got.size() != want.size()) {
    check.fail(name, "got " + std::to_string(got.size()) + " beats, want " +
                         std::to_string(want.size()));
    return;
  }
  std::vector<uint32_t> got_data, want_data, got_last, want_last;
  for (const TbBeat &b : got) {
    got_data.push_back(b.data);
    got_last.push_back(b.last);
  }
  for (const TbBeat &b : want) {
    want_data.push_back(b.data);
    want_last.push_back(b.last);
  }
  check.arrays(name + " data", got_data.data(), want_data.data(),
               want_data.size());
  check.arrays(name + " TLAST", got_last.data(), want_last.data(),
               want_last.size());
}

inline std::vector<uint32_t> tb_random_words(TbRng &rng, std::size_t count) {
  std::vector<uint32_t> v(count);
  for (auto &w : v) w = rng.next();
  return v;
}

// Status of one run of a streaming top, as the vector files report it:
// TB_STATUS_DRY, the top read an empty input stream; TB_STATUS_BAD_SIDEBAND,
// an output beat had TKEEP or TSTRB other than all ones.
constexpr int TB_STATUS_OK = 0;
constexpr int TB_STATUS_DRY = 1;
constexpr int TB_STATUS_BAD_SIDEBAND = 2;

struct TbStreamRun {
  int status = TB_STATUS_OK;
  std::vector<TbBeat> beats;  // the output beats (none if the input ran dry)
  std::size_t leftover = 0;   // input beats the top did not read (0 if dry)
};

// Runs top(in_stream, out_stream) on an input stream the caller has filled.
// An empty read counts as "ran dry": only our csim hls::stream throws there
// (Vitis HLS's own one warns and carries on).
template <typename InBeat, typename Top>
TbStreamRun tb_run_stream_top(hls::stream<InBeat> &in_stream, Top top) {
  hls::stream<axis32_t> out_stream("out_stream");
  TbStreamRun run;
  try {
    top(in_stream, out_stream);
  } catch (const std::runtime_error &) {
    run.status = TB_STATUS_DRY;
    return run;
  }
  const bool sideband_ok = tb_drain(out_stream, run.beats);
  run.leftover = in_stream.size();
  run.status = sideband_ok ? TB_STATUS_OK : TB_STATUS_BAD_SIDEBAND;
  return run;
}

// The same for an HLS top with a 32-bit input stream:
// top(in_stream, out_stream, args...) with the input stream fed with `in`
// (TLAST on the last word).
template <typename... Params, typename... Args>
TbStreamRun tb_run_stream_top(
    const std::vector<uint32_t> &in,
    void (*top)(hls::stream<axis32_t> &, hls::stream<axis32_t> &, Params...),
    Args... args) {
  hls::stream<axis32_t> in_stream("in_stream");
  tb_feed(in_stream, in);
  return tb_run_stream_top(in_stream, [&](hls::stream<axis32_t> &s_in,
                                           hls::stream<axis32_t> &s_out) {
    top(s_in, s_out, args...);
  });
}

// One vector-file record: status count leftover (data last) x count, where
// count is 0 if the input ran dry.
inline void tb_put_stream_run(TbVectorWriter &out, const TbStreamRun &run) {
  out.put(static_cast<uint64_t>(run.status));
  out.put(run.status == TB_STATUS_DRY ? 0 : run.beats.size());
  out.put(run.leftover);
  if (run.status != TB_STATUS_DRY) {
    for (const TbBeat &b : run.beats) {
      out.put(b.data);
      out.put(b.last);
    }
  }
}

// One call of both the HLS top, top(in_stream, out_stream, args...), and its
// golden model, golden.run(in, args..., want), which returns false where the
// input runs dry (it keeps its state across calls, as the top's static
// buffers do). The top must then run dry too; otherwise it must finish with
// the golden model's beats (data, and TLAST).
template <typename Golden, typename Top, typename... Args>
void tb_check_stream_call(TbCheck &check, Golden &golden, Top top,
                          const std::string &name,
                          const std::vector<uint32_t> &in, Args... args) {
  std::vector<TbBeat> want;
  const bool golden_ok = golden.run(in, args..., want);
  const TbStreamRun got = tb_run_stream_top(in, top, args...);
  if (!golden_ok) {
    check.expect(name, got.status == TB_STATUS_DRY,
                 "expected the input to run dry");
    return;
  }
  if (got.status != TB_STATUS_OK) {
    check.fail(name, "status " + std::to_string(got.status));
    return;
  }
  tb_compare_beats(check, name, got.beats, want);
}

// A run that must neither write a beat nor read any of the `fed` input beats.
inline void tb_expect_untouched(TbCheck &check, const std::string &name,
                                const TbStreamRun &run, std::size_t fed,
                                const std::string &why) {
  check.expect(name, run.status == TB_STATUS_OK && run.beats.empty() &&
                         run.leftover == fed,
               why);
}

#endif  // LAB_TB_AXIS_H
