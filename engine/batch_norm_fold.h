// BatchNormalization folded into the convolution before it, for the frozen prefix (Tiny Darknet:
// Conv2D without bias -> BatchNormalization -> LeakyReLU).
//
// In inference form BN is a per-channel affine map y = a * z + b (a = gamma / sqrt(var + eps),
// b = beta - a * mean; layers/batch_normalization.h), and a convolution is linear in its kernel,
// so for a convolution z = x * kernel + bias followed by BN:
//   y = x * (kernel * a) + (a * bias + b)          (a, b broadcast over the output channel F)
// One convolution with kernel' = kernel * a and bias' = a * bias + b does both, and the pass BN
// made over every activation disappears. This holds only when nothing sits between the two, so
// the convolution's own activation must be linear, and only while neither layer trains (a
// trainable pair needs the two layers' own gradients).
//
// The fold is a *running twin*: a new Conv2D holding kernel' and bias', which Sequential runs in
// place of the pair (engine/sequential.h). The model's own layers keep their weights, so what is
// saved (model.h5), `summary` and the parameter counts are those of the unfused model.
#pragma once

#include <memory>

#include "layers/batch_normalization.h"
#include "layers/conv2d.h"

namespace catdog {

// True when `conv` followed directly by `bn` may be folded: both frozen, the convolution linear.
bool batch_norm_foldable(const Conv2D& conv, const BatchNormalization& bn);

// The running twin of conv -> bn, built for conv's input `input` (N, H, W, C), frozen, on the CPU
// (the caller moves it with to_device). Its name is the convolution's, so errors name the layer.
std::unique_ptr<Conv2D> fold_batch_norm(const Conv2D& conv, const BatchNormalization& bn,
                                        const Shape& input);

}  // namespace catdog
