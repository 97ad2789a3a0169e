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

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

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

// The simulated PL's job queue (labkit/sim/_plqueue.c) calls every bridge
// through one uniform entry, long lab_task_<k>(const uint64_t *args): the
// bridge's arguments in order, each widened to 64 bits. lab_task_call unpacks
// them for any bridge signature, so no entry restates it by hand:
//   long lab_task_pp_store(const uint64_t *a) { return lab_task_call(lab_pp_store, a); }
template <typename T>
T lab_task_arg(uint64_t value) {
  if constexpr (std::is_pointer<T>::value) {
    return reinterpret_cast<T>(static_cast<uintptr_t>(value));
  } else {
    return static_cast<T>(value);
  }
}

template <typename R, typename... P, size_t... I>
long lab_task_call_indexed(R (*bridge)(P...), const uint64_t *args, std::index_sequence<I...>) {
  return static_cast<long>(bridge(lab_task_arg<P>(args[I])...));
}

template <typename R, typename... P>
long lab_task_call(R (*bridge)(P...), const uint64_t *args) {
  return lab_task_call_indexed(bridge, args, std::index_sequence_for<P...>{});
}

#endif  // LAB_BRIDGE_H
