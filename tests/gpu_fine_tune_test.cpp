// Fine-tuning on the GPU: the small model of tests/support/fine_tune_model.h (a frozen Conv2D
// under a trainable Conv2D, BatchNormalization in inference mode, MaxPooling2D, Conv2D, Dense),
// whose CPU gradients fine_tune_test checks against finite differences, gives the same gradients
// on the GPU (cuDNN backward data and filter, the pool's and BN's CUDA twins), and a GPU step
// trains gamma and beta while the moving statistics and the frozen layer stay. Skips without a GPU.
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"
#endif
#include "engine/sgd.h"
#include "engine/train_step.h"
#include "tests/support/fine_tune_model.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::random_tensor;

#if CATDOG_WITH_CUDA
// Every parameter's gradient after one forward and backward of `model` on `device` (fp32).
std::vector<std::vector<float>> gradients(Sequential& model, const Tensor& x,
                                          const std::vector<float>& dlogits, Device device) {
  ExecContext ctx;
  if (device == Device::cuda) {
    ctx.device = Device::cuda;
    ctx.cuda = &cuda::default_context();
  }
  ctx.training = true;
  model.to_device(device);
  (void)model.forward(x.to(device), ctx);
  model.backward(Tensor::from_vector({static_cast<int64_t>(dlogits.size()), 1}, dlogits).to(device),
                 ctx);
  std::vector<std::vector<float>> out;
  for (Param* p : model.all_params()) {
    out.push_back(p->grad.defined() ? p->grad.to(Device::cpu).to_vector() : std::vector<float>{});
  }
  return out;
}
#endif

TEST(GpuFineTune, GradientsThroughTheUnfrozenTopMatchTheCpu) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const Tensor x = random_tensor({3, 8, 8, 2}, 21, -2.0f, 2.0f);
  const std::vector<float> dlogits = {0.7f, -1.3f, 0.4f};
  Sequential on_cpu = test::small_fine_tune_model(7), on_gpu = test::small_fine_tune_model(7);
  const auto want = gradients(on_cpu, x, dlogits, Device::cpu);
  const auto got = gradients(on_gpu, x, dlogits, Device::cuda);
  ASSERT_EQ(got.size(), want.size());
  int compared = 0;
  for (size_t k = 0; k < want.size(); ++k) {
    ASSERT_EQ(got[k].size(), want[k].size()) << "parameter " << k;  // none below the cut
    if (want[k].empty()) continue;
    EXPECT_LT(test::max_relative_error(got[k], want[k]), 1e-4) << "parameter " << k;
    ++compared;
  }
  EXPECT_EQ(compared, 8);  // conv_b, bn_b (gamma, beta), conv_c, dense_1: kernels and biases
#endif
}

TEST(GpuFineTune, AStepTrainsGammaAndKeepsTheMovingStatistics) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  Sequential model = test::small_fine_tune_model(3);
  std::vector<std::vector<float>> before;
  for (Param* p : model.all_params()) before.push_back(p->value.to_vector());
  model.to_device(Device::cuda);
  ExecContext ctx;
  ctx.device = Device::cuda;
  ctx.cuda = &cuda::default_context();
  SGD sgd(0.05f, 0.9f);
  Tensor dlogits;
  const Tensor labels = Tensor::from_vector({4}, {0, 1, 1, 0}).to(Device::cuda);
  (void)train_step(model, random_tensor({4, 8, 8, 2}, 5, -2.0f, 2.0f).to(Device::cuda), labels,
                   sgd, ctx, dlogits);
  const std::vector<Param*> params = model.all_params();
  // conv_frozen kernel, bias | conv_b kernel, bias | bn_b gamma, beta, moving_mean, moving_variance
  const auto now = [&](size_t k) { return params[k]->value.to(Device::cpu).to_vector(); };
  EXPECT_EQ(now(0), before[0]);
  EXPECT_NE(now(2), before[2]);
  EXPECT_NE(now(4), before[4]) << "gamma did not train";
  EXPECT_NE(now(5), before[5]) << "beta did not train";
  EXPECT_EQ(now(6), before[6]) << "moving_mean changed";
  EXPECT_EQ(now(7), before[7]) << "moving_variance changed";
#endif
}

}  // namespace
}  // namespace catdog
