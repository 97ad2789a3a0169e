// pp_load_compute.h -- LB (load buffer) + COM (compute) of the double-buffer
// design (the blog's "dma_test" IP on ZCU102).
//
// Two on-chip input buffers IFM_0/IFM_1 keep their contents between calls.
// With pingpong != 0 a call loads one buffer from the input stream while it
// computes on the other one, which was loaded by the PREVIOUS call:
//   num even: read_data -> IFM_0,  fire(IFM_1) -> out
//   num odd : read_data -> IFM_1,  fire(IFM_0) -> out
// so the output of call k is the input of call k-1, plus op (the very first
// call computes on a buffer of zeros). With pingpong == 0 a call loads IFM_0
// and then computes on it: the output belongs to the same call, but load and
// compute no longer overlap.
#ifndef PP_LOAD_COMPUTE_H
#define PP_LOAD_COMPUTE_H

#include <cstdint>

#include "hls_stream.h"
#include "lab_axis.h"

// Words per input buffer (64 KiB each; 2 x 16 BRAM36 on a Zynq-7020).
constexpr uint32_t PP_LC_MAX_N = 16384;

// HLS top. Owns the two buffers as static arrays (BRAM that keeps its
// contents from one ap_start to the next).
//   in_stream   n beats in (TLAST ignored)
//   out_stream  n beats out, data = IFM[i] + op (mod 2^32), TLAST on beat n-1
//   num         call counter; its parity picks the buffers (pingpong != 0)
//   op          added to every word by fire()
//   n           beats per call, clamped to PP_LC_MAX_N; n == 0 does nothing
//   pingpong    0: load then compute one buffer; else double-buffered
void pp_load_compute(hls::stream<axis32_t> &in_stream,
                     hls::stream<axis32_t> &out_stream, uint32_t num,
                     uint32_t op, uint32_t n, uint32_t pingpong);

// The same body with the buffers passed in, so the simulator's bridge can keep
// one pair of buffers per simulated IP instead of one per process.
void pp_load_compute_body(hls::stream<axis32_t> &in_stream,
                          hls::stream<axis32_t> &out_stream,
                          uint32_t (&ifm_0)[PP_LC_MAX_N],
                          uint32_t (&ifm_1)[PP_LC_MAX_N], uint32_t num,
                          uint32_t op, uint32_t n, uint32_t pingpong);

#endif  // PP_LOAD_COMPUTE_H
