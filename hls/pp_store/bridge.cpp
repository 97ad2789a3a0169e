// bridge.cpp -- extern "C" entry points the simulated board calls via ctypes.
// Each simulated IP instance owns its own pair of buffers (a state object).
#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>

#include "lab_bridge.h"
#include "lab_bridge_streams.h"
#include "pp_store.h"

namespace {

struct PpStoreState {
  uint32_t ofm_0[PP_ST_MAX_N];
  uint32_t ofm_1[PP_ST_MAX_N];
  LabStreamPorts<axis32_t, axis32_t> ports;
};

}  // namespace

extern "C" {

// A new instance with both buffers zeroed. Returns NULL if out of memory.
void *lab_pp_store_new(void) {
  return new (std::nothrow) PpStoreState();  // () zero-initialises
}

void lab_pp_store_free(void *state) {
  delete static_cast<PpStoreState *>(state);
}

// One kernel run; same conventions as lab_pp_load_compute:
// returns the number of output beats (always n), or without running
// LAB_ERR_NULL, LAB_ERR_ZERO_LENGTH (n == 0), LAB_ERR_TOO_LARGE
// (n > PP_ST_MAX_N), LAB_ERR_OUT_CAP (out_cap < n), LAB_ERR_INPUT_EXTRA
// (in_len > n); or after a partial run LAB_ERR_INPUT_DRY (in_len < n).
long lab_pp_store(void *state, const uint32_t *in, size_t in_len,
                  uint32_t *out, uint8_t *out_last, size_t out_cap,
                  uint32_t num, uint32_t n, uint32_t pingpong) {
  if (state == nullptr || out == nullptr || out_last == nullptr ||
      (in == nullptr && in_len != 0)) {
    return LAB_ERR_NULL;
  }
  if (n == 0) return LAB_ERR_ZERO_LENGTH;
  if (n > PP_ST_MAX_N) return LAB_ERR_TOO_LARGE;
  if (out_cap < n) return LAB_ERR_OUT_CAP;
  if (in_len > n) return LAB_ERR_INPUT_EXTRA;

  PpStoreState *st = static_cast<PpStoreState *>(state);
  try {
    hls::stream<axis32_t> &in_stream = st->ports.in;
    hls::stream<axis32_t> &out_stream = st->ports.out;
    st->ports.begin(n);
    lab_fill_stream(in_stream, in, in_len, AXIS32_ALL_BYTES);
    pp_store_body(in_stream, out_stream, st->ofm_0, st->ofm_1, num, n,
                  pingpong);
    return lab_drain_stream(out_stream, out, out_last, out_cap);
  } catch (const std::runtime_error &) {
    return LAB_ERR_INPUT_DRY;
  } catch (...) {
    return LAB_ERR_INTERNAL;
  }
}

// Uniform entry for the simulated PL's job queue (labkit/sim/_plqueue.c): the
// arguments of lab_pp_store, in order, as 64-bit values.
long lab_task_pp_store(const uint64_t *a) { return lab_task_call(lab_pp_store, a); }

}  // extern "C"
