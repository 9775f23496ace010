#include "kernels/sigmoid_bce.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_support.h"

namespace catdog::cpu {

float sigmoid(float z) { return stable_sigmoid(z); }

double sigmoid_bce_term(double z, double t) {
  // Exact for large |z|, where log(sigmoid(z)) is not.
  return std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::fabs(z)));
}

void sigmoid_bce(const float* z, const float* t, float* dz, int64_t n, double* loss_sum,
                 double* correct, Stream) {
  double total = 0;
  int64_t right = 0;
  for (int64_t i = 0; i < n; ++i) {
    total += sigmoid_bce_term(z[i], t[i]);
    if ((z[i] >= 0.0f) == (t[i] >= 0.5f)) ++right;
    if (dz) dz[i] = (stable_sigmoid(z[i]) - t[i]) / static_cast<float>(n);
  }
  *loss_sum = total;
  *correct = static_cast<double>(right);
}

}  // namespace catdog::cpu
