#include "kernels/cpu/activations.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

namespace {

constexpr int64_t kGrain = 1 << 16;  // elements per thread below which a loop stays inline

// exp of a non-positive number only, so neither branch can overflow.
inline float stable_sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

void apply_in_range(Activation act, const float* x, float* y, int64_t begin, int64_t end) {
  switch (act) {
    case Activation::linear:
      if (x != y) std::copy(x + begin, x + end, y + begin);
      break;
    case Activation::relu:
      for (int64_t i = begin; i < end; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case Activation::sigmoid:
      for (int64_t i = begin; i < end; ++i) y[i] = stable_sigmoid(x[i]);
      break;
  }
}

}  // namespace

void activation_forward(Activation act, const float* x, float* y, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { apply_in_range(act, x, y, b, e); });
}

void activation_backward_from_output(Activation act, const float* y, const float* dy, float* dz,
                                     int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    switch (act) {
      case Activation::linear:
        if (dz != dy) std::copy(dy + b, dy + e, dz + b);
        break;
      case Activation::relu:
        for (int64_t i = b; i < e; ++i) dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
      case Activation::sigmoid:
        for (int64_t i = b; i < e; ++i) dz[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    }
  });
}

void leaky_relu_forward(const float* x, float* y, int64_t n, float alpha) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    // max(x, 0) + alpha min(x, 0): no branch, so the compiler vectorises it (the sign of an
    // activation is a coin flip, and a mispredicted branch per element made this pass 4x slower
    // than the BatchNormalization pass of the same size).
    for (int64_t i = b; i < e; ++i) y[i] = std::max(x[i], 0.0f) + alpha * std::min(x[i], 0.0f);
  });
}

void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float alpha) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
  });
}

void bias_activation_forward(float* y, const float* bias, int64_t rows, int64_t cols,
                             Activation act) {
  if (!bias && act == Activation::linear) return;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = y + r * cols;
      if (bias) {
        for (int64_t j = 0; j < cols; ++j) row[j] += bias[j];
      }
      apply_in_range(act, row, row, 0, cols);
    }
  });
}

void bias_backward(const float* dz, float* db, int64_t rows, int64_t cols) {
  // Sum in double per column: a VGG layer sums 50,000 rows, where float would lose digits.
  std::vector<double> sum(static_cast<size_t>(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = dz + r * cols;
    for (int64_t j = 0; j < cols; ++j) sum[j] += row[j];
  }
  for (int64_t j = 0; j < cols; ++j) db[j] = static_cast<float>(sum[j]);
}

}  // namespace catdog::cpu
