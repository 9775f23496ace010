// BatchNormalization in inference form, over the channel axis of (rows, C) data (NHWC with
// rows = N*H*W).
//
//   a[c] = gamma[c] / sqrt(var[c] + eps),  b[c] = beta[c] - a[c] * mean[c]
//   y = a * x + b                      (per channel)
//   dx = a * dy
//   dgamma[c] = sum over rows of dy * (x - mean) / sqrt(var + eps),   dbeta[c] = sum of dy
#pragma once

#include <cstdint>

namespace catdog::cpu {

// a, b (C) from the statistics; gamma or beta may be null (Keras scale=False / center=False:
// gamma = 1, beta = 0).
void batch_norm_fold(const float* gamma, const float* beta, const float* mean, const float* var,
                     float eps, int64_t c, float* a, float* b);
// y (rows, C) = a * x + b per channel; y may alias x.
void channel_affine_forward(const float* x, const float* a, const float* b, float* y, int64_t rows,
                            int64_t c);
// Any output pointer may be null to skip it.
void batch_norm_backward(const float* x, const float* dy, const float* a, const float* mean,
                         const float* var, float eps, int64_t rows, int64_t c, float* dx,
                         float* dgamma, float* dbeta);

}  // namespace catdog::cpu
