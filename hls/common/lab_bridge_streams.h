// lab_bridge_streams.h -- how every bridge turns arrays into AXI-Stream beats and back.
//
// The simulated board hands a kernel's input stream to its bridge as an array
// of data words (what the MM2S DMA read from DDR) and wants the output stream
// back as words plus TLAST flags. These two helpers do that for every bridge,
// in one tight loop each (hls::stream's csim-only write_all/read_all), because
// the simulation must move a beat in well under the 10 ns it takes on the
// 100 MHz PL.
//
// Only for bridges: kernel code never sees these (Vitis HLS has no such API).
#ifndef LAB_BRIDGE_STREAMS_H
#define LAB_BRIDGE_STREAMS_H

#include <cstddef>
#include <cstdint>

#include "hls_stream.h"
#include "lab_axis.h"
#include "lab_bridge.h"

// Queue `count` words as beats, all byte lanes valid, TLAST on the last one --
// as an AXI DMA's MM2S channel sends a transfer.
template <typename Beat, typename Word>
void lab_fill_stream(hls::stream<Beat> &stream, const Word *words, size_t count, unsigned all_lanes) {
  stream.write_all(count, [&](size_t i) {
    Beat beat;
    beat.data = words[i];
    beat.keep = all_lanes;
    beat.strb = all_lanes;
    beat.last = (i + 1 == count) ? 1 : 0;
    return beat;
  });
}

// Move every beat of `stream` into words[] / last[]. Returns the number of
// beats, or LAB_ERR_OUT_CAP (nothing copied) if more than `capacity` wait.
template <typename Beat, typename Word>
long lab_drain_stream(hls::stream<Beat> &stream, Word *words, uint8_t *last, size_t capacity) {
  if (stream.size() > capacity) return LAB_ERR_OUT_CAP;
  return static_cast<long>(stream.read_all([&](size_t i, const Beat &beat) {
    words[i] = beat.data;
    last[i] = beat.last ? 1 : 0;
  }));
}

// The simulation's side of a kernel's two AXI-Stream ports, kept in the
// bridge's per-instance state so that every run reuses their storage: fresh
// 128 KiB buffers on every call cost a page fault every 4 KiB, which doubled
// the time a 16384-word call took.
template <typename InBeat, typename OutBeat>
struct LabStreamPorts {
  hls::stream<InBeat> in{"in_stream"};
  hls::stream<OutBeat> out{"out_stream"};

  // Start a run: both streams empty (a run that ended in an error may have
  // left beats), room for `out_beats` output beats.
  void begin(size_t out_beats) {
    in.clear();
    out.clear();
    out.reserve(out_beats);
  }
};

#endif  // LAB_BRIDGE_STREAMS_H
