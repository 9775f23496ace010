#include "kernels/batch_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_support.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

void batch_norm_fold(const float* gamma, const float* beta, const float* mean, const float* var,
                     float eps, int64_t c, float* a, float* b, Stream) {
  for (int64_t k = 0; k < c; ++k) {
    // In double, then rounded once: the fold is done per layer, not per pixel, so it costs nothing.
    const double scale = (gamma ? gamma[k] : 1.0) / std::sqrt(static_cast<double>(var[k]) + eps);
    a[k] = static_cast<float>(scale);
    b[k] = static_cast<float>((beta ? beta[k] : 0.0) - scale * mean[k]);
  }
}

void channel_affine_forward(const void* xv, void* yv, DType dtype, int64_t rows, int64_t c,
                            const float* a, const float* b, Stream) {
  require_f32(dtype, "channel_affine_forward");
  const float* x = static_cast<const float*>(xv);
  float* y = static_cast<float*>(yv);
  parallel_for(rows, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(c, 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const float* in = x + r * c;
                   float* out = y + r * c;
                   for (int64_t k = 0; k < c; ++k) out[k] = a[k] * in[k] + b[k];
                 }
               });
}

void batch_norm_backward(const float* x, const float* dy, const float* a, const float* mean,
                         const float* var, float eps, int64_t rows, int64_t c, float* dx,
                         float* dgamma, float* dbeta, Stream) {
  if (dx) {
    parallel_for(rows, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(c, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     for (int64_t k = 0; k < c; ++k) dx[r * c + k] = a[k] * dy[r * c + k];
                   }
                 });
  }
  if (!dgamma && !dbeta) return;
  std::vector<double> sum_dy(static_cast<size_t>(c), 0.0), sum_dy_xhat(static_cast<size_t>(c), 0.0);
  std::vector<double> inv_std(static_cast<size_t>(c));
  for (int64_t k = 0; k < c; ++k) inv_std[k] = 1.0 / std::sqrt(static_cast<double>(var[k]) + eps);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < c; ++k) {
      const double g = dy[r * c + k];
      sum_dy[k] += g;
      sum_dy_xhat[k] += g * (x[r * c + k] - mean[k]) * inv_std[k];
    }
  }
  for (int64_t k = 0; k < c; ++k) {
    if (dgamma) dgamma[k] = static_cast<float>(sum_dy_xhat[k]);
    if (dbeta) dbeta[k] = static_cast<float>(sum_dy[k]);
  }
}

}  // namespace catdog::cpu
