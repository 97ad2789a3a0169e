// pp_load_compute.cpp -- HLS top of LB + COM (Vivado IP flow).
//
// Interfaces: in_stream/out_stream are AXI-Stream (axis) ports; num, op, n,
// pingpong and ap_ctrl_hs sit on the AXI-Lite slave "control".
//
// Cycle model at 100 MHz (labkit/kernels/pp_load_compute.py, stage_cycles()):
//   read  = (n - 1) * II_RD   + RD_DEPTH     II_RD   = 1, RD_DEPTH   = 2
//   fire  = (n - 1) * II_FIRE + FIRE_DEPTH   II_FIRE = 1, FIRE_DEPTH = 3
//   pingpong != 0: latency = CALL_OVERHEAD + max(read, fire)  (in parallel)
//   pingpong == 0: latency = CALL_OVERHEAD + read + fire       (one after the other)
//   CALL_OVERHEAD = 2 (ap_start -> first state, last state -> ap_done).
//   n = 1024: 1028 cycles = 10.3 us double-buffered, 2053 cycles sequential.
#include "lab_hls.h"
#include "pp_load_compute.h"

namespace {

// LB: n beats from the stream into one buffer. TLAST is not checked: the
// beat count is n, as in the blog's read_data.
void read_data(hls::stream<axis32_t> &in_stream, uint32_t (&ifm)[PP_LC_MAX_N],
               uint32_t n) {
#pragma HLS INLINE off
RD:
  for (uint32_t i = 0; i < n; i++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=PP_LC_MAX_N
#pragma HLS PIPELINE II=1
    const axis32_t beat = in_stream.read();
    ifm[i] = beat.data;
  }
}

// COM: n beats out, data = ifm[i] + op, TLAST on the last beat.
void fire(uint32_t op, const uint32_t (&ifm)[PP_LC_MAX_N],
          hls::stream<axis32_t> &out_stream, uint32_t n) {
#pragma HLS INLINE off
FIRE:
  for (uint32_t i = 0; i < n; i++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=PP_LC_MAX_N
#pragma HLS PIPELINE II=1
    axis32_t beat;
    beat.data = ifm[i] + op;  // wraps modulo 2^32
    beat.keep = AXIS32_ALL_BYTES;
    beat.strb = AXIS32_ALL_BYTES;
    beat.last = (i == n - 1) ? 1 : 0;
    out_stream.write(beat);
  }
}

}  // namespace

void pp_load_compute_body(hls::stream<axis32_t> &in_stream,
                          hls::stream<axis32_t> &out_stream,
                          uint32_t (&ifm_0)[PP_LC_MAX_N],
                          uint32_t (&ifm_1)[PP_LC_MAX_N], uint32_t num,
                          uint32_t op, uint32_t n, uint32_t pingpong) {
#pragma HLS INLINE
  const uint32_t count = (n > PP_LC_MAX_N) ? PP_LC_MAX_N : n;
  if (pingpong) {
    // read_data and fire touch different buffers and different streams, so
    // HLS schedules the two calls side by side.
    if (num % 2 == 0) {
      read_data(in_stream, ifm_0, count);
      fire(op, ifm_1, out_stream, count);
    } else {
      read_data(in_stream, ifm_1, count);
      fire(op, ifm_0, out_stream, count);
    }
  } else {
    // Same buffer: fire must wait until read_data has finished.
    read_data(in_stream, ifm_0, count);
    fire(op, ifm_0, out_stream, count);
  }
}

void pp_load_compute(hls::stream<axis32_t> &in_stream,
                     hls::stream<axis32_t> &out_stream, uint32_t num,
                     uint32_t op, uint32_t n, uint32_t pingpong) {
#pragma HLS INTERFACE axis port=in_stream
#pragma HLS INTERFACE axis port=out_stream
#pragma HLS INTERFACE s_axilite port=num bundle=control
#pragma HLS INTERFACE s_axilite port=op bundle=control
#pragma HLS INTERFACE s_axilite port=n bundle=control
#pragma HLS INTERFACE s_axilite port=pingpong bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS INTERFACE ap_ctrl_hs port=return

  // static: the buffers keep their contents from one call to the next,
  // which is what makes the ping-pong schedule possible.
  static uint32_t IFM_0[PP_LC_MAX_N];
  static uint32_t IFM_1[PP_LC_MAX_N];
  pp_load_compute_body(in_stream, out_stream, IFM_0, IFM_1, num, op, n,
                       pingpong);
}
