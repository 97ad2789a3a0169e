// lab_axis.h -- AXI-Stream beat types used by every streaming kernel.
//
// An AXI-Stream "beat" is one transfer on the bus: TDATA plus side-channel
// signals. Our kernels use exactly four of them:
//   data  TDATA, the payload (32 or 64 bits)
//   keep  TKEEP, one bit per byte: byte is part of the stream (all ones here)
//   strb  TSTRB, one bit per byte: byte is data, not position (all ones here)
//   last  TLAST, 1 on the final beat of a packet. The AXI DMA's S2MM channel
//         ends a transfer on TLAST: a kernel that never raises it leaves
//         dma.recvchannel.wait() waiting forever.
//
// At synthesis (__SYNTHESIS__ is defined by Vitis HLS), or when
// LAB_AXIS_USE_AP_AXI_SDATA is defined (our run_hls.tcl defines it so Vitis
// csim/cosim use the same types as synthesis), these are Xilinx's
// ap_axiu<W,0,0,0> from <ap_axi_sdata.h>. Otherwise they are plain structs
// with the same field names, so the kernels compile with any C++17 compiler.
//
// Not modelled: TUSER, TID, TDEST (all zero-width here), and the valid/ready
// handshake itself (see hls_stream.h).
#ifndef LAB_AXIS_H
#define LAB_AXIS_H

#if defined(__SYNTHESIS__) || defined(LAB_AXIS_USE_AP_AXI_SDATA)

#include <ap_axi_sdata.h>
typedef ap_axiu<32, 0, 0, 0> axis32_t;
typedef ap_axiu<64, 0, 0, 0> axis64_t;

#else

#include <cstdint>

// One beat of a 32-bit AXI-Stream (TKEEP/TSTRB have 4 bits).
struct axis32_t {
  uint32_t data;
  uint8_t keep;
  uint8_t strb;
  uint8_t last;
};

// One beat of a 64-bit AXI-Stream (TKEEP/TSTRB have 8 bits).
struct axis64_t {
  uint64_t data;
  uint8_t keep;
  uint8_t strb;
  uint8_t last;
};

#endif

// TKEEP/TSTRB value with every byte lane valid.
constexpr unsigned AXIS32_ALL_BYTES = 0xF;   // 4 byte lanes
constexpr unsigned AXIS64_ALL_BYTES = 0xFF;  // 8 byte lanes

#endif  // LAB_AXIS_H
