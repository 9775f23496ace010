// The loss as a thin user of the sigmoid_bce op (kernels/sigmoid_bce.h): shape checks, then the
// CPU twin, or the CUDA twin and a copy of its two sums back to the host.
#include "engine/loss.h"

#include <cmath>

#include "core/error.h"
#include "kernels/sigmoid_bce.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_checks.h"
#include "core/cuda_context.h"
#endif

namespace catdog {

float sigmoid(float z) { return cpu::sigmoid(z); }

double sigmoid_bce_scalar(double logit, double label) {
  return cpu::sigmoid_bce_term(logit, label);
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
  float* dz = dlogits ? dlogits->f32() : nullptr;
  double loss_sum = 0, right = 0;
  run_on(
      ctx,
      [&](Stream s) { cpu::sigmoid_bce(logits.f32(), labels.f32(), dz, n, &loss_sum, &right, s); },
      [&](Stream s) {
#if CATDOG_WITH_CUDA
        // The kernel reduces into the context's two device scalars; copy them back and wait.
        CudaContext& cuda = *ctx.cuda;
        cuda::sigmoid_bce(logits.f32(), labels.f32(), dz, n, &cuda.device_scalars[0],
                          &cuda.device_scalars[1], s);
        cudaCheck(cudaMemcpyAsync(cuda.host_scalars, cuda.device_scalars, 2 * sizeof(double),
                                  cudaMemcpyDeviceToHost, s),
                  "copying the loss of ", n, " logits");
        cudaCheck(cudaStreamSynchronize(s), "sigmoid + BCE over ", n, " logits");
        loss_sum = cuda.host_scalars[0];
        right = cuda.host_scalars[1];
#else
        (void)s;
#endif
      });
  if (correct) *correct = static_cast<int64_t>(std::llround(right));
  return loss_sum / static_cast<double>(n);
}

}  // namespace catdog
