// bridge.cpp -- extern "C" entry point the simulated board calls via ctypes.
// The kernel keeps no state between runs, so no state object is needed.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "cnn_classifier.h"
#include "lab_bridge.h"
#include "lab_bridge_streams.h"

extern "C" {

// One kernel run: `batch` images in (in_len 64-bit beats, 98 per image),
// 10 score words per image out, out_last[i] = TLAST of beat i.
// Returns the number of output beats (10 * batch), or without running
//   LAB_ERR_NULL        out/out_last is NULL, or in is NULL with in_len > 0
//   LAB_ERR_ZERO_LENGTH batch == 0 (the kernel would do nothing: no TLAST,
//                       so a waiting S2MM DMA would never finish)
//   LAB_ERR_TOO_LARGE   batch > CNN_MAX_BATCH
//   LAB_ERR_OUT_CAP     out_cap < 10 * batch
//   LAB_ERR_INPUT_EXTRA in_len > 98 * batch
// or after a partial run (out is then not written)
//   LAB_ERR_INPUT_DRY   in_len < 98 * batch: the kernel read an empty stream
//   LAB_ERR_INTERNAL    any other C++ exception
long lab_cnn_classifier(const uint64_t *in, size_t in_len, uint32_t *out,
                        uint8_t *out_last, size_t out_cap, uint32_t batch) {
  if (out == nullptr || out_last == nullptr || (in == nullptr && in_len != 0)) {
    return LAB_ERR_NULL;
  }
  if (batch == 0) return LAB_ERR_ZERO_LENGTH;
  if (batch > CNN_MAX_BATCH) return LAB_ERR_TOO_LARGE;
  const size_t want_out = static_cast<size_t>(batch) * CNN_SCORES_PER_IMAGE;
  const size_t want_in = static_cast<size_t>(batch) * CNN_BEATS_PER_IMAGE;
  if (out_cap < want_out) return LAB_ERR_OUT_CAP;
  if (in_len > want_in) return LAB_ERR_INPUT_EXTRA;

  try {
    hls::stream<axis64_t> in_stream("in_stream");
    hls::stream<axis32_t> out_stream("out_stream");
    lab_fill_stream(in_stream, in, in_len, AXIS64_ALL_BYTES);
    cnn_classifier(in_stream, out_stream, batch);
    return lab_drain_stream(out_stream, out, out_last, out_cap);
  } catch (const std::runtime_error &) {
    return LAB_ERR_INPUT_DRY;
  } catch (...) {
    return LAB_ERR_INTERNAL;
  }
}

// Uniform entry for the simulated PL's job queue (labkit/sim/_plqueue.c): the
// arguments of lab_cnn_classifier, in order, as 64-bit values.
long lab_task_cnn_classifier(const uint64_t *a) { return lab_task_call(lab_cnn_classifier, a); }

}  // extern "C"
