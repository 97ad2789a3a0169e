// cnn_classifier.cpp -- HLS top of the digit classifier (Vivado IP flow).
//
// Interfaces: in_stream (64-bit) and out_stream (32-bit) are AXI-Stream (axis)
// ports; batch and ap_ctrl_hs sit on the AXI-Lite slave "control":
//   0x00 CTRL (ap_start/done/idle/ready, auto_restart)  0x04 GIER
//   0x08 IP_IER  0x0C IP_ISR  0x10 batch
//
// How the work is laid out (the design choice this kernel teaches):
//   every layer reads ONE activation per cycle and feeds it to ALL of its
//   output channels at once (8, 16 and 10 multiply-accumulates per cycle for
//   conv1, conv2 and fc). The weights are const arrays (ROMs) partitioned by
//   output channel, so each channel reads its own weight every cycle; the
//   activation buffers need just one read port. Conv, ReLU and max-pool are
//   fused: the loops visit the conv outputs pool window by pool window, keep
//   the running maximum of the int32 accumulators, and rescale only the
//   winner (rescaling is monotonic, so max-then-rescale == rescale-then-max,
//   which is the order the numpy reference uses).
//
// Cycle model at 100 MHz (labkit/kernels/cnn_classifier.py, cycles()):
// each pipelined loop nest is flattened (all code sits in the innermost loop),
// so it takes (trip - 1) * II + depth cycles; every stage call costs
// CALL_OVERHEAD = 2 more. Trip counts and II are what the pragmas ask for; the
// depths are our estimates, to be checked against the csynth report.
//   stage        trip count              II  depth   cycles
//   READ         98 beats                 1     2        99
//   CONV1        13*13 * 2*2 * 3*3 = 6084 1    10      6093
//   CONV2        5*5 * 2*2 * 8 * 3*3 = 7200 1  10      7209
//   FC           16*5*5 = 400             1     5       404
//   WRITE        10 beats                 1     2        11
//   + 5 stage calls x 2 + 1 (image loop) = 11
//   per image  = 13827 cycles = 138.3 us
//                (167,872 MACs: 12.1 MACs/cycle on average, 16 at most)
//   per batch  = START_OVERHEAD (3) + batch * 13827
//                (batch 100: 1,382,703 cycles = 13.8 ms, ~7200 images/s)
// The stages run one after another (no DATAFLOW): while CONV2 works, the
// input stream waits. Overlapping them is an exercise (README).
// requantize() lives in cnn_classifier.h so the testbench can check its
// rounding on exact ties, which the trained weights practically never hit.
#include "lab_hls.h"
#include "cnn_classifier.h"
#include "cnn_weights.h"

namespace {

using namespace lab_cnn;

// 98 beats -> 784 pixels. Pixel k is byte k % 8 of beat k / 8 (little-endian),
// so one beat fills 8 consecutive pixels: img is split into 8 banks
// (cyclic) so those 8 writes happen in the same cycle.
void read_image(hls::stream<axis64_t> &in_stream, uint8_t img[IMG_PIXELS]) {
#pragma HLS INLINE off
READ_BEATS:
  for (uint32_t b = 0; b < CNN_BEATS_PER_IMAGE; b++) {
#pragma HLS PIPELINE II=1
    const axis64_t beat = in_stream.read();
    const uint64_t word = beat.data;  // TLAST/TKEEP are not looked at
  READ_BYTES:
    for (uint32_t j = 0; j < CNN_PIXELS_PER_BEAT; j++) {
#pragma HLS UNROLL
      img[b * CNN_PIXELS_PER_BEAT + j] = static_cast<uint8_t>(word >> (8 * j));
    }
  }
}

// conv1 (3x3, 1 -> 8) + rescale/ReLU + 2x2 max-pool -> a1 [8][13][13].
// Loop order: pooled pixel (py, px), pool window position (qy, qx), kernel
// tap (ky, kx); the 8 output channels are unrolled (8 MACs per cycle).
void conv1_relu_pool(const uint8_t img[IMG_PIXELS],
                     uint8_t a1[C1_OUT][P1_SIDE][P1_SIDE]) {
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable=CONV1_W complete dim=1
#pragma HLS ARRAY_PARTITION variable=CONV1_B complete dim=1
#pragma HLS ARRAY_PARTITION variable=CONV1_M complete dim=1
#pragma HLS ARRAY_PARTITION variable=CONV1_SHIFT complete dim=1
  int32_t acc[C1_OUT];   // conv output being summed, one per channel
  int32_t best[C1_OUT];  // largest conv output of the current pool window
#pragma HLS ARRAY_PARTITION variable=acc complete dim=1
#pragma HLS ARRAY_PARTITION variable=best complete dim=1
C1_PY:
  for (int py = 0; py < P1_SIDE; py++) {
  C1_PX:
    for (int px = 0; px < P1_SIDE; px++) {
    C1_QY:
      for (int qy = 0; qy < POOL; qy++) {
      C1_QX:
        for (int qx = 0; qx < POOL; qx++) {
        C1_KY:
          for (int ky = 0; ky < K; ky++) {
          C1_KX:
            for (int kx = 0; kx < K; kx++) {
#pragma HLS PIPELINE II=1
              const bool first_tap = (ky == 0 && kx == 0);
              const bool last_tap = (ky == K - 1 && kx == K - 1);
              const bool first_window = (qy == 0 && qx == 0);
              const bool last_window = (qy == POOL - 1 && qx == POOL - 1);
              const int y = POOL * py + qy + ky;
              const int x = POOL * px + qx + kx;
              const int32_t pixel = img[y * IMG_SIDE + x];
            C1_OC:
              for (int oc = 0; oc < C1_OUT; oc++) {
#pragma HLS UNROLL
                const int32_t sum = (first_tap ? CONV1_B[oc] : acc[oc]) +
                                    pixel * CONV1_W[oc][ky * K + kx];
                acc[oc] = sum;
                if (last_tap) {
                  const int32_t top = (first_window || sum > best[oc]) ? sum : best[oc];
                  best[oc] = top;
                  if (last_window) {
                    a1[oc][py][px] = requantize(top, CONV1_M[oc], CONV1_SHIFT[oc]);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

// conv2 (3x3, 8 -> 16) + rescale/ReLU + 2x2 max-pool -> a2 [16][5][5].
// Only the 10x10 conv outputs that the pool keeps are computed (row/col 10
// of the 11x11 output would be dropped). The 16 output channels are unrolled
// (16 MACs per cycle); the input channel is one more level of the loop nest.
void conv2_relu_pool(const uint8_t a1[C1_OUT][P1_SIDE][P1_SIDE],
                     uint8_t a2[C2_OUT][P2_SIDE][P2_SIDE]) {
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable=CONV2_W complete dim=1
#pragma HLS ARRAY_PARTITION variable=CONV2_B complete dim=1
#pragma HLS ARRAY_PARTITION variable=CONV2_M complete dim=1
#pragma HLS ARRAY_PARTITION variable=CONV2_SHIFT complete dim=1
  int32_t acc[C2_OUT];
  int32_t best[C2_OUT];
#pragma HLS ARRAY_PARTITION variable=acc complete dim=1
#pragma HLS ARRAY_PARTITION variable=best complete dim=1
C2_PY:
  for (int py = 0; py < P2_SIDE; py++) {
  C2_PX:
    for (int px = 0; px < P2_SIDE; px++) {
    C2_QY:
      for (int qy = 0; qy < POOL; qy++) {
      C2_QX:
        for (int qx = 0; qx < POOL; qx++) {
        C2_IC:
          for (int ic = 0; ic < C1_OUT; ic++) {
          C2_KY:
            for (int ky = 0; ky < K; ky++) {
            C2_KX:
              for (int kx = 0; kx < K; kx++) {
#pragma HLS PIPELINE II=1
                const bool first_tap = (ic == 0 && ky == 0 && kx == 0);
                const bool last_tap = (ic == C1_OUT - 1 && ky == K - 1 && kx == K - 1);
                const bool first_window = (qy == 0 && qx == 0);
                const bool last_window = (qy == POOL - 1 && qx == POOL - 1);
                const int32_t act = a1[ic][POOL * py + qy + ky][POOL * px + qx + kx];
              C2_OC:
                for (int oc = 0; oc < C2_OUT; oc++) {
#pragma HLS UNROLL
                  const int32_t sum = (first_tap ? CONV2_B[oc] : acc[oc]) +
                                      act * CONV2_W[oc][ic][ky * K + kx];
                  acc[oc] = sum;
                  if (last_tap) {
                    const int32_t top = (first_window || sum > best[oc]) ? sum : best[oc];
                    best[oc] = top;
                    if (last_window) {
                      a2[oc][py][px] = requantize(top, CONV2_M[oc], CONV2_SHIFT[oc]);
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

// fc (400 -> 10): one activation per cycle times the 10 class weights
// (10 MACs per cycle). Input index i = (channel * 5 + row) * 5 + col, the
// order in which torch flattens [16][5][5].
void fully_connected(const uint8_t a2[C2_OUT][P2_SIDE][P2_SIDE],
                     int32_t scores[N_CLASSES]) {
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable=FC_W complete dim=1
#pragma HLS ARRAY_PARTITION variable=FC_B complete dim=1
FC_C:
  for (int c = 0; c < C2_OUT; c++) {
  FC_Y:
    for (int y = 0; y < P2_SIDE; y++) {
    FC_X:
      for (int x = 0; x < P2_SIDE; x++) {
#pragma HLS PIPELINE II=1
        const int i = (c * P2_SIDE + y) * P2_SIDE + x;
        const int32_t act = a2[c][y][x];
      FC_CLASS:
        for (int cls = 0; cls < N_CLASSES; cls++) {
#pragma HLS UNROLL
          scores[cls] = (i == 0 ? FC_B[cls] : scores[cls]) + act * FC_W[cls][i];
        }
      }
    }
  }
}

// 10 scores -> 10 beats; TLAST on the last beat of the last image only.
void write_scores(hls::stream<axis32_t> &out_stream,
                  const int32_t scores[N_CLASSES], bool last_image) {
#pragma HLS INLINE off
WRITE_SCORES:
  for (int cls = 0; cls < N_CLASSES; cls++) {
#pragma HLS PIPELINE II=1
    axis32_t beat;
    beat.data = static_cast<uint32_t>(scores[cls]);  // two's complement bits
    beat.keep = AXIS32_ALL_BYTES;
    beat.strb = AXIS32_ALL_BYTES;
    beat.last = (last_image && cls == N_CLASSES - 1) ? 1 : 0;
    out_stream.write(beat);
  }
}

}  // namespace

void cnn_classifier(hls::stream<axis64_t> &in_stream,
                    hls::stream<axis32_t> &out_stream, uint32_t batch) {
#pragma HLS INTERFACE axis port=in_stream
#pragma HLS INTERFACE axis port=out_stream
#pragma HLS INTERFACE s_axilite port=batch bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
#pragma HLS INTERFACE ap_ctrl_hs port=return

  // On-chip buffers, reused for every image of the batch.
  uint8_t img[IMG_PIXELS];                  // 784 B, 8 banks (one beat per cycle)
  uint8_t a1[C1_OUT][P1_SIDE][P1_SIDE];     // 1352 B, one bank per channel
  uint8_t a2[C2_OUT][P2_SIDE][P2_SIDE];     // 400 B, one bank per channel
  int32_t scores[N_CLASSES];                // registers
#pragma HLS ARRAY_PARTITION variable=img cyclic factor=8 dim=1
#pragma HLS ARRAY_PARTITION variable=a1 complete dim=1
#pragma HLS ARRAY_PARTITION variable=a2 complete dim=1
#pragma HLS ARRAY_PARTITION variable=scores complete dim=1

IMAGES:
  for (uint32_t n = 0; n < batch; n++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=CNN_MAX_BATCH
    read_image(in_stream, img);
    conv1_relu_pool(img, a1);
    conv2_relu_pool(a1, a2);
    fully_connected(a2, scores);
    write_scores(out_stream, scores, n + 1 == batch);
  }
}
