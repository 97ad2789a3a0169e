// pp_store.h -- SB (store buffer) of the double-buffer design (the blog's
// "dma_sending" IP on ZCU102).
//
// Two on-chip output buffers OFM_0/OFM_1 keep their contents between calls.
// With pingpong != 0 a call collects the results arriving from the compute
// IP into one buffer while it sends the other one (collected by the PREVIOUS
// call) back to the PS through the S2MM DMA:
//   num even: read_from_fire -> OFM_0,  write_data(OFM_1) -> out
//   num odd : read_from_fire -> OFM_1,  write_data(OFM_0) -> out
// The first call sends a buffer of zeros. With pingpong == 0 the kernel is a
// pass-through: each beat goes straight out again, so the store overlaps the
// compute completely and no buffer is used.
// write_data raises TLAST on its last beat (the blog's `i == 10239`); the
// S2MM DMA needs it to finish the transfer.
#ifndef PP_STORE_H
#define PP_STORE_H

#include <cstdint>

#include "hls_stream.h"
#include "lab_axis.h"

// Words per output buffer (128 KiB each; 2 x 32 BRAM36 on a Zynq-7020).
constexpr uint32_t PP_ST_MAX_N = 32768;

// HLS top. Owns the two buffers as static arrays.
//   in_stream   n beats in from the compute IP (TLAST ignored)
//   out_stream  n beats out to the S2MM DMA, TLAST on beat n-1
//   num         call counter; its parity picks the buffers (pingpong != 0)
//   n           beats per call, clamped to PP_ST_MAX_N; n == 0 does nothing
//   pingpong    0: pass-through; else double-buffered
void pp_store(hls::stream<axis32_t> &in_stream,
              hls::stream<axis32_t> &out_stream, uint32_t num, uint32_t n,
              uint32_t pingpong);

// The same body with the buffers passed in (one pair per simulated IP).
void pp_store_body(hls::stream<axis32_t> &in_stream,
                   hls::stream<axis32_t> &out_stream,
                   uint32_t (&ofm_0)[PP_ST_MAX_N],
                   uint32_t (&ofm_1)[PP_ST_MAX_N], uint32_t num, uint32_t n,
                   uint32_t pingpong);

#endif  // PP_STORE_H
