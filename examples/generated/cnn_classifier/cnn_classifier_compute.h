// cnn_classifier_compute.h -- the computation of the generated cnn_classifier: the lab's CNN on one image.
//
// This is the user-owned file of the example (`labkit generate` copies it once and never
// overwrites it). It reuses the network of hls/cnn_classifier/cnn_classifier.cpp -- conv1, conv2
// and the fully connected layer, the same integers as labkit/classifier/reference.py -- so the
// generated kernel and the hand-written one compute the same scores. Needs include_dirs hls/ and
// hls/common/ (the spec's [hls] include_dirs).
#ifndef CNN_CLASSIFIER_COMPUTE_H
#define CNN_CLASSIFIER_COMPUTE_H

// The hand-written kernel's top is also called cnn_classifier; renamed here so that the generated
// top is the only cnn_classifier in this translation unit (Vitis HLS's set_top needs one).
#define cnn_classifier lab_cnn_classifier_handwritten
#include "cnn_classifier/cnn_classifier.cpp"
#undef cnn_classifier

static void cnn_classifier_compute(const cnn_classifier_in_stream_t in_stream[CNN_CLASSIFIER_IN_STREAM_COUNT],
                                   cnn_classifier_out_stream_t out_stream[CNN_CLASSIFIER_OUT_STREAM_COUNT]) {
    uint8_t img[lab_cnn::IMG_PIXELS];
    uint8_t a1[lab_cnn::C1_OUT][lab_cnn::P1_SIDE][lab_cnn::P1_SIDE];
    uint8_t a2[lab_cnn::C2_OUT][lab_cnn::P2_SIDE][lab_cnn::P2_SIDE];
    int32_t scores[lab_cnn::N_CLASSES];
COPY_IN:
    for (int k = 0; k < lab_cnn::IMG_PIXELS; k++) {
        img[k] = in_stream[k];
    }
    conv1_relu_pool(img, a1);
    conv2_relu_pool(a1, a2);
    fully_connected(a2, scores);
COPY_OUT:
    for (int c = 0; c < lab_cnn::N_CLASSES; c++) {
        out_stream[c] = scores[c];
    }
}

#endif
