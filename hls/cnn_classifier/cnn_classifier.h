// cnn_classifier.h -- a small int8 CNN that classifies handwritten digits,
// streamed in over AXI-Stream (the lab's "camera -> accelerator" kernel).
//
// Network (same integers as labkit/classifier/reference.py):
//   image  uint8 [28][28]                      pixels 0..255, white on black
//   conv1  3x3, 1 -> 8,  rescale+ReLU, pool 2x2  -> uint8 [8][13][13]
//   conv2  3x3, 8 -> 16, rescale+ReLU, pool 2x2  -> uint8 [16][5][5]
//   fc     400 -> 10                              -> int32 scores [10]
//
// Stream format (one kernel run = one batch of `batch` images):
//   in_stream  64-bit beats, 8 pixels per beat, little-endian: pixel k of an
//              image (k = 28 * row + col) is byte k % 8 of beat k / 8, so an
//              image is CNN_BEATS_PER_IMAGE = 98 beats. TLAST/TKEEP ignored.
//   out_stream 32-bit beats, the 10 int32 scores of each image in class
//              order; TLAST on the last beat of the whole batch (the S2MM DMA
//              ends its transfer there).
//   batch      AXI-Lite register 0x10; 0 runs nothing (no beat in or out).
#ifndef CNN_CLASSIFIER_H
#define CNN_CLASSIFIER_H

#include <cstdint>

#include "hls_stream.h"
#include "lab_axis.h"

// ---- interface constants (mirrored in labkit/kernels/cnn_classifier.py) ----
constexpr uint32_t CNN_MAX_BATCH = 256;          // largest batch the driver sends
constexpr uint32_t CNN_PIXELS_PER_BEAT = 8;      // 64-bit beat / 8-bit pixel
constexpr uint32_t CNN_BEATS_PER_IMAGE = 28 * 28 / CNN_PIXELS_PER_BEAT;  // 98
constexpr uint32_t CNN_SCORES_PER_IMAGE = 10;    // one 32-bit beat per class

namespace lab_cnn {

// ---- network shape ----
constexpr int IMG_SIDE = 28;
constexpr int IMG_PIXELS = IMG_SIDE * IMG_SIDE;  // 784
constexpr int K = 3;                             // 3x3 kernels, stride 1, no padding
constexpr int TAPS = K * K;                      // 9 taps per kernel
constexpr int POOL = 2;                          // 2x2 max-pool, stride 2
constexpr int C1_OUT = 8;                        // conv1 output channels
constexpr int C1_SIDE = IMG_SIDE - K + 1;        // 26: conv1 output side
constexpr int P1_SIDE = C1_SIDE / POOL;          // 13: pool1 output side
constexpr int C2_OUT = 16;                       // conv2 output channels
constexpr int C2_SIDE = P1_SIDE - K + 1;         // 11: conv2 output side
constexpr int P2_SIDE = C2_SIDE / POOL;          // 5: pool2 drops row/col 10
constexpr int FC_IN = C2_OUT * P2_SIDE * P2_SIDE;  // 400
constexpr int N_CLASSES = 10;
constexpr int UINT8_MAX_VALUE = 255;

static_assert(IMG_PIXELS % CNN_PIXELS_PER_BEAT == 0, "an image must fill whole beats");
static_assert(N_CLASSES == static_cast<int>(CNN_SCORES_PER_IMAGE), "one score per class");

// Rescale an int32 accumulator to a uint8 activation, with ReLU:
//   clamp((acc * m + 2^(shift-1)) >> shift, 0, 255)
// i.e. acc * m / 2^shift rounded half up (gemmlowp / TFLite style). The
// product needs 63 bits (|acc| < 2^31, m < 2^31). `>>` of a negative int64 is
// an arithmetic shift in g++ and in Vitis HLS (and by definition from C++20),
// so it rounds towards minus infinity, which makes "+ half" round half up.
inline uint8_t requantize(int32_t acc, int32_t m, uint8_t shift) {
#pragma HLS INLINE
  const int64_t half = static_cast<int64_t>(1) << (shift - 1);
  const int64_t scaled = (static_cast<int64_t>(acc) * m + half) >> shift;
  if (scaled < 0) return 0;  // the ReLU
  if (scaled > UINT8_MAX_VALUE) return UINT8_MAX_VALUE;
  return static_cast<uint8_t>(scaled);
}

}  // namespace lab_cnn

// HLS top: classify `batch` images from in_stream, scores to out_stream.
void cnn_classifier(hls::stream<axis64_t> &in_stream,
                    hls::stream<axis32_t> &out_stream, uint32_t batch);

#endif  // CNN_CLASSIFIER_H
