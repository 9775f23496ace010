// Elementwise activations and the bias + activation epilogue of Conv2D and Dense.
//   relu:       y = max(x, 0)             dx = dy * (x > 0)
//   leaky relu: y = x > 0 ? x : a * x     dx = dy * (x > 0 ? 1 : a)
//   sigmoid:    y = 1 / (1 + exp(-x))     dx = dy * y * (1 - y)
// Arrays are flat (n elements) unless a shape is given.
#pragma once

#include <cstdint>

#include "core/activation.h"

namespace catdog::cpu {

// y = act(x) with act linear, relu or sigmoid; y may alias x.
void activation_forward(Activation act, const float* x, float* y, int64_t n);
// dz = dy * act'(z), from the activation's OUTPUT y (relu: y > 0 iff z > 0; sigmoid: y (1 - y)).
// dz may alias dy. For linear, dz = dy.
void activation_backward_from_output(Activation act, const float* y, const float* dy, float* dz,
                                     int64_t n);

void leaky_relu_forward(const float* x, float* y, int64_t n, float alpha);
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float alpha);

// y (rows, cols) <- act(y + bias[col]) in place; bias (cols) may be null.
void bias_activation_forward(float* y, const float* bias, int64_t rows, int64_t cols,
                             Activation act);
// db (cols) = sum over rows of dz (rows, cols).
void bias_backward(const float* dz, float* db, int64_t rows, int64_t cols);

}  // namespace catdog::cpu
