#include "kernels/bias_activation.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/cpu_support.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

void bias_activation_forward(void* y, DType dtype, const float* bias, int64_t rows,
                             int64_t channels, Activation act, float alpha, Stream) {
  require_f32(dtype, "bias_activation_forward");
  if (!bias && act == Activation::linear) return;
  float* out = static_cast<float*>(y);
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(channels, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = out + r * channels;
      if (bias) {
        for (int64_t j = 0; j < channels; ++j) row[j] += bias[j];
      }
      apply_activation(act, alpha, row, row, 0, channels);
    }
  });
}

void bias_backward(const float* dz, float* db, int64_t rows, int64_t channels, Stream) {
  std::vector<double> sum(static_cast<size_t>(channels), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = dz + r * channels;
    for (int64_t j = 0; j < channels; ++j) sum[j] += row[j];
  }
  for (int64_t j = 0; j < channels; ++j) db[j] = static_cast<float>(sum[j]);
}

}  // namespace catdog::cpu
