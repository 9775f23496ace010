#include "engine/loss.h"

#include <cmath>

#include "core/error.h"
#if CATDOG_WITH_CUDA
#include "kernels/cuda/ops.h"
#endif

namespace catdog {

float sigmoid(float z) {
  // Two branches so that exp never overflows: for z < 0, 1/(1+e^-z) = e^z/(1+e^z).
  if (z >= 0) return 1.0f / (1.0f + std::exp(-z));
  const float e = std::exp(z);
  return e / (1.0f + e);
}

double sigmoid_bce_scalar(double logit, double label) {
  return std::max(logit, 0.0) - logit * label + std::log1p(std::exp(-std::fabs(logit)));
}

double sigmoid_bce_from_logits(const Tensor& logits, const Tensor& labels, Tensor* dlogits,
                               int64_t* correct, ExecContext& ctx) {
  const int64_t n = labels.numel();
  CATDOG_CHECK(labels.rank() == 1 && logits.numel() == n && (logits.rank() == 1 ||
               (logits.rank() == 2 && logits.dim(1) == 1)),
               "sigmoid + binary cross-entropy needs logits (N, 1) and labels (N), got logits ",
               to_string(logits.shape()), " and labels ", to_string(labels.shape()));
  CATDOG_CHECK(n > 0, "binary cross-entropy of an empty batch");
  if (dlogits) {
    CATDOG_CHECK(dlogits->shape() == logits.shape(), "loss gradient buffer of shape ",
                 to_string(dlogits->shape()), " for logits ", to_string(logits.shape()));
  }
  if (ctx.on_gpu()) {
#if CATDOG_WITH_CUDA
    return cuda::sigmoid_bce_from_logits(logits.f32(), labels.f32(),
                                         dlogits ? dlogits->f32() : nullptr, n, correct, *ctx.cuda);
#else
    fail("sigmoid_bce_from_logits on the GPU without the CUDA backend");
#endif
  }
  const float* z = logits.f32();
  const float* t = labels.f32();
  float* dz = dlogits ? dlogits->f32() : nullptr;
  double total = 0;
  int64_t right = 0;
  for (int64_t i = 0; i < n; ++i) {
    total += sigmoid_bce_scalar(z[i], t[i]);
    if ((z[i] >= 0.0f) == (t[i] >= 0.5f)) ++right;
    if (dz) dz[i] = (sigmoid(z[i]) - t[i]) / static_cast<float>(n);
  }
  if (correct) *correct = right;
  return total / static_cast<double>(n);
}

}  // namespace catdog
