// Sigmoid + binary cross-entropy, computed from logits, and accuracy.
//
// For a logit z and a label t in {0, 1}, with p = sigmoid(z):
//   loss = -(t log p + (1 - t) log(1 - p)) = max(z, 0) - z t + log(1 + exp(-|z|))
// The right-hand form never takes the log of 0 or overflows exp, whatever z is; the naive one
// gives inf or NaN once |z| passes ~17 in float32. Its gradient is simply dloss/dz = p - t.
// The batch loss is the mean over the batch, so dL/dz_i = (p_i - t_i) / N.
#pragma once

#include "core/context.h"
#include "core/tensor.h"

namespace catdog {

// logits (N, 1) or (N), labels (N) float 0/1, both on one device. Returns the mean loss and, when
// dlogits is given, writes dL/dz (same shape as logits). `correct`, when given, receives the
// number of predictions (z >= 0 <=> p >= 0.5) that equal the label.
double sigmoid_bce_from_logits(const Tensor& logits, const Tensor& labels, Tensor* dlogits,
                               int64_t* correct, ExecContext& ctx);

// The numerically stable scalar form (one term of the sigmoid_bce op's loss sum), for tests.
double sigmoid_bce_scalar(double logit, double label);
float sigmoid(float z);

}  // namespace catdog
