// The plain-C++ entry points of kernels/cuda/ops.h that are not input kernels: the default
// context, the loss and the optimizer step.
#include "kernels/cuda/ops.h"

#include <cmath>

#include "core/device.h"
#include "core/error.h"
#include "core/cuda_checks.h"
#include "core/cuda_context.h"
#include "kernels/cuda/launchers.h"

namespace catdog::cuda {

namespace {
// Runs the fused kernel and copies (loss sum, correct count) back to the host.
void bce_sums(const float* z, const float* t, float* dz, int64_t n, CudaContext& ctx,
              double* loss_sum, double* correct) {
  CATDOG_CHECK(n > 0, "binary cross-entropy of an empty batch");
  sigmoid_bce(z, t, dz, n, &ctx.device_scalars[0], &ctx.device_scalars[1], ctx.compute);
  cudaCheck(cudaMemcpyAsync(ctx.host_scalars, ctx.device_scalars, 2 * sizeof(double),
                            cudaMemcpyDeviceToHost, ctx.compute),
            "copying the loss of ", n, " logits");
  cudaCheck(cudaStreamSynchronize(ctx.compute), "sigmoid + BCE over ", n, " logits");
  *loss_sum = ctx.host_scalars[0];
  *correct = ctx.host_scalars[1];
}
}  // namespace

double sigmoid_bce_from_logits(const float* logits, const float* labels, float* dlogits,
                               int64_t n, int64_t* correct, CudaContext& ctx) {
  double loss_sum = 0, right = 0;
  bce_sums(logits, labels, dlogits, n, ctx, &loss_sum, &right);
  if (correct) *correct = static_cast<int64_t>(std::llround(right));
  return loss_sum / static_cast<double>(n);
}

int64_t count_correct(const float* logits, const float* labels, int64_t n, CudaContext& ctx) {
  double loss_sum = 0, right = 0;
  bce_sums(logits, labels, nullptr, n, ctx, &loss_sum, &right);
  return static_cast<int64_t>(std::llround(right));
}

void sgd_momentum_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                         CudaContext& ctx) {
  sgd_momentum(w, v, g, n, lr, momentum, ctx.compute);
}

}  // namespace catdog::cuda
