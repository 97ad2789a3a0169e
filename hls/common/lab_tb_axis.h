// lab_tb_axis.h -- testbench helpers for 32-bit AXI-Stream kernels.
//
//  * tb_feed   pushes data words as beats (all bytes valid, TLAST on the last)
//  * tb_drain  pops every beat, flags any TKEEP/TSTRB that is not all ones
//  * tb_compare_beats  compares data and TLAST separately, so a report says
//              whether the payload or the packet boundary is wrong
#ifndef LAB_TB_AXIS_H
#define LAB_TB_AXIS_H

#include <cstdint>
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

#endif  // LAB_TB_AXIS_H
