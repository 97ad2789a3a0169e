// pp_store.cpp -- HLS top of SB (Vivado IP flow).
//
// Interfaces: in_stream/out_stream are AXI-Stream (axis) ports; num, n,
// pingpong and ap_ctrl_hs sit on the AXI-Lite slave "control".
//
// Cycle model at 100 MHz (labkit/kernels/pp_store.py, stage_cycles()):
//   pingpong != 0 (read_from_fire and write_data side by side):
//     read  = (n - 1) * II_RD + RD_DEPTH     II_RD = 1, RD_DEPTH = 2
//     write = (n - 1) * II_WR + WR_DEPTH     II_WR = 1, WR_DEPTH = 3
//     latency = CALL_OVERHEAD + max(read, write)
//   pingpong == 0 (one pass-through loop reads and writes every cycle):
//     read = write = (n - 1) * II_PASS + PASS_DEPTH   II_PASS = 1, PASS_DEPTH = 2
//     latency = CALL_OVERHEAD + read
//   CALL_OVERHEAD = 2.  n = 10240: 10244 cycles = 102.4 us double-buffered.
#include "lab_hls.h"
#include "pp_store.h"

namespace {

// n beats from the compute IP into one buffer (TLAST not checked).
void read_from_fire(hls::stream<axis32_t> &in_stream,
                    uint32_t (&ofm)[PP_ST_MAX_N], uint32_t n) {
#pragma HLS INLINE off
RD_FIRE:
  for (uint32_t i = 0; i < n; i++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=PP_ST_MAX_N
#pragma HLS PIPELINE II=1
    const axis32_t beat = in_stream.read();
    ofm[i] = beat.data;
  }
}

// n beats from one buffer to the DMA, TLAST on the last one.
void write_data(hls::stream<axis32_t> &out_stream,
                const uint32_t (&ofm)[PP_ST_MAX_N], uint32_t n) {
#pragma HLS INLINE off
WR:
  for (uint32_t i = 0; i < n; i++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=PP_ST_MAX_N
#pragma HLS PIPELINE II=1
    axis32_t beat;
    beat.data = ofm[i];
    beat.keep = AXIS32_ALL_BYTES;
    beat.strb = AXIS32_ALL_BYTES;
    beat.last = (i == n - 1) ? 1 : 0;
    out_stream.write(beat);
  }
}

// pingpong == 0: every beat straight through, TLAST re-made on beat n-1.
void pass_through(hls::stream<axis32_t> &in_stream,
                  hls::stream<axis32_t> &out_stream, uint32_t n) {
#pragma HLS INLINE off
PASS:
  for (uint32_t i = 0; i < n; i++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=PP_ST_MAX_N
#pragma HLS PIPELINE II=1
    axis32_t beat = in_stream.read();
    beat.keep = AXIS32_ALL_BYTES;
    beat.strb = AXIS32_ALL_BYTES;
    beat.last = (i == n - 1) ? 1 : 0;
    out_stream.write(beat);
  }
}

}  // namespace

void pp_store_body(hls::stream<axis32_t> &in_stream,
                   hls::stream<axis32_t> &out_stream,
                   uint32_t (&ofm_0)[PP_ST_MAX_N],
                   uint32_t (&ofm_1)[PP_ST_MAX_N], uint32_t num, uint32_t n,
                   uint32_t pingpong) {
#pragma HLS INLINE
  const uint32_t count = (n > PP_ST_MAX_N) ? PP_ST_MAX_N : n;
  if (pingpong) {
    // Different buffers, different streams: HLS runs the two side by side.
    if (num % 2 == 0) {
      read_from_fire(in_stream, ofm_0, count);
      write_data(out_stream, ofm_1, count);
    } else {
      read_from_fire(in_stream, ofm_1, count);
      write_data(out_stream, ofm_0, count);
    }
  } else {
    pass_through(in_stream, out_stream, count);
  }
}

void pp_store(hls::stream<axis32_t> &in_stream,
              hls::stream<axis32_t> &out_stream, uint32_t num, uint32_t n,
              uint32_t pingpong) {
#pragma HLS INTERFACE axis port=in_stream
#pragma HLS INTERFACE axis port=out_stream
#pragma HLS INTERFACE s_axilite port=num bundle=control
#pragma HLS INTERFACE s_axilite port=n bundle=control
#pragma HLS INTERFACE s_axilite port=pingpong bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS INTERFACE ap_ctrl_hs port=return

  // static: the buffers keep their contents from one call to the next.
  static uint32_t OFM_0[PP_ST_MAX_N];
  static uint32_t OFM_1[PP_ST_MAX_N];
  pp_store_body(in_stream, out_stream, OFM_0, OFM_1, num, n, pingpong);
}
