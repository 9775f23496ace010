// How much work a layer's forward and backward are, counted from its shapes alone (no timing):
// the napkin math behind `catdog profile`'s GFLOP/s, bytes moved and % of peak.
//
// FLOPs: a multiply-add counts 2. Conv2D forward is 2 * N*OH*OW*F * KH*KW*C (the GEMM of its
// im2col), Dense 2 * N*K*M; their backward is the same again for the weight gradient, and once
// more for the input gradient when one is wanted. Bias and fused activation are not counted (one
// FLOP per output, noise beside the GEMM). Element-wise layers count per element: an activation
// or dropout 1, BatchNormalization 2 forward (scale and shift) and 4 backward, global average
// pooling 1 per input element, max pooling 1 per window element and output (a comparison);
// Flatten is a view and does nothing.
//
// Bytes: the compulsory traffic, each tensor read or written once, `element_bytes` per element:
// forward reads x and the parameters and writes y; backward reads dy and x (and the weights, to
// make dx), writes dx when wanted and the parameter gradients. What a real kernel moves beside
// it (im2col buffers, caches missed) is what the measured time says and this does not.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "layers/layer.h"

namespace catdog {

struct LayerCost {
  int64_t forward_flops = 0, forward_bytes = 0;
  int64_t backward_flops = 0, backward_bytes = 0;
};

// `input` includes the batch dimension (NHWC, or (N, K) for Dense). `input_gradient`: whether
// backward computes dx (false for the first trainable layer, where backward stops). Throws
// catdog::Error naming the layer when the input does not fit it.
LayerCost layer_cost(const Layer& layer, const Shape& input, int element_bytes = 4,
                     bool input_gradient = true);

}  // namespace catdog
