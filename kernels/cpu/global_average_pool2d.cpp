#include "kernels/global_average_pool2d.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/cpu_support.h"

namespace catdog::cpu {

void global_average_pool2d_forward(const void* xv, void* yv, DType dtype, int64_t n, int64_t hw,
                                   int64_t c, Stream) {
  require_f32(dtype, "global_average_pool2d_forward");
  const float* x = static_cast<const float*>(xv);
  float* y = static_cast<float*>(yv);
  std::vector<double> sum(static_cast<size_t>(c));
  for (int64_t b = 0; b < n; ++b) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t p = 0; p < hw; ++p) {
      const float* in = x + (b * hw + p) * c;
      for (int64_t k = 0; k < c; ++k) sum[k] += in[k];
    }
    for (int64_t k = 0; k < c; ++k) y[b * c + k] = static_cast<float>(sum[k] / hw);
  }
}

void global_average_pool2d_backward(const float* dy, float* dx, int64_t n, int64_t hw, int64_t c,
                                    Stream) {
  const float inv = 1.0f / static_cast<float>(hw);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t p = 0; p < hw; ++p) {
      float* out = dx + (b * hw + p) * c;
      for (int64_t k = 0; k < c; ++k) out[k] = dy[b * c + k] * inv;
    }
  }
}

}  // namespace catdog::cpu
