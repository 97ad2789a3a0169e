// lab_bridge.h -- return codes shared by every kernel's bridge.cpp.
//
// The bridges are the thin extern "C" functions that the simulated board
// (labkit/sim) calls through ctypes. They never throw: every failure is a
// return code. labkit/kernels/_bridge.py mirrors these values (a test checks).
//
//   0   LAB_OK                the kernel ran
//   1   LAB_DECODE_ERROR      an m_axi address fell outside the simulated DDR
//                             (on hardware: an AXI DECERR/SLVERR response);
//                             nothing was touched
//  <0   the bridge refused to run (or the run could not finish):
#ifndef LAB_BRIDGE_H
#define LAB_BRIDGE_H

enum LabBridgeStatus {
  LAB_OK = 0,
  LAB_DECODE_ERROR = 1,
  LAB_ERR_NULL = -1,         // a required pointer is NULL
  LAB_ERR_ZERO_LENGTH = -2,  // a size the bridge needs non-zero is zero
  LAB_ERR_TOO_LARGE = -3,    // a size exceeds the kernel's on-chip buffer
  LAB_ERR_INPUT_DRY = -4,    // the input stream ran dry: on hardware the
                             // kernel would stall forever waiting for a beat
  LAB_ERR_INPUT_EXTRA = -5,  // more input beats than the kernel will read:
                             // on hardware the DMA transfer never finishes
  LAB_ERR_OUT_CAP = -6,      // the caller's output buffer is too small
  LAB_ERR_BAD_WINDOW = -7,   // the simulated DDR window is misaligned
  LAB_ERR_INTERNAL = -99     // an unexpected C++ exception
};

#endif  // LAB_BRIDGE_H
