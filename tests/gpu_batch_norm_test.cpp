// The batch_norm op (kernels/batch_norm.h): cpu:: against formulas written here (fold, affine
// forward, backward with its sums in double), and cuda:: against cpu:: on the same inputs, with
// and without gamma / beta. The GPU half skips with the reason when no GPU is present.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/batch_norm.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::max_relative_error;
using test::nan_tensor;
using test::random_tensor;

constexpr float kEps = 1e-3f;

struct Stats {
  Tensor gamma, beta, mean, var;  // (C)
};

Stats random_stats(int64_t c, uint64_t seed) {
  return {random_tensor({c}, seed, 0.5f, 2.0f), random_tensor({c}, seed + 1),
          random_tensor({c}, seed + 2), random_tensor({c}, seed + 3, 0.2f, 2.0f)};
}

TEST(BatchNormOp, CpuMatchesTheFormulas) {
  const int64_t rows = 50, c = 6;
  const Stats s = random_stats(c, 1);
  const Tensor x = random_tensor({rows, c}, 10, -3.0f, 3.0f), dy = random_tensor({rows, c}, 11);
  Tensor a = nan_tensor({c}, Device::cpu), b = nan_tensor({c}, Device::cpu);
  cpu::batch_norm_fold(s.gamma.f32(), s.beta.f32(), s.mean.f32(), s.var.f32(), kEps, c, a.f32(),
                       b.f32(), nullptr);
  Tensor y = nan_tensor({rows, c}, Device::cpu), dx = nan_tensor({rows, c}, Device::cpu);
  Tensor dgamma = nan_tensor({c}, Device::cpu), dbeta = nan_tensor({c}, Device::cpu);
  cpu::channel_affine_forward(x.raw(), y.raw(), DType::f32, rows, c, a.f32(), b.f32(), nullptr);
  cpu::batch_norm_backward(x.f32(), dy.f32(), a.f32(), s.mean.f32(), s.var.f32(), kEps, rows, c,
                           dx.f32(), dgamma.f32(), dbeta.f32(), nullptr);
  std::vector<float> y_ref(rows * c), dx_ref(rows * c), dgamma_ref(c), dbeta_ref(c);
  for (int64_t k = 0; k < c; ++k) {
    const double inv_std = 1 / std::sqrt(double(s.var.f32()[k]) + kEps);
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r * c + k;
      const double xhat = (x.f32()[i] - double(s.mean.f32()[k])) * inv_std;
      y_ref[i] = static_cast<float>(s.gamma.f32()[k] * xhat + s.beta.f32()[k]);
      dx_ref[i] = static_cast<float>(s.gamma.f32()[k] * inv_std * dy.f32()[i]);
      sum_dy += dy.f32()[i];
      sum_dy_xhat += dy.f32()[i] * xhat;
    }
    dgamma_ref[k] = static_cast<float>(sum_dy_xhat);
    dbeta_ref[k] = static_cast<float>(sum_dy);
  }
  EXPECT_LE(test::max_abs_difference(y.to_vector(), y_ref), 1e-5);
  EXPECT_LE(max_relative_error(dx.to_vector(), dx_ref), 1e-5);
  EXPECT_LE(max_relative_error(dgamma.to_vector(), dgamma_ref), 1e-5);
  EXPECT_LE(max_relative_error(dbeta.to_vector(), dbeta_ref), 1e-6);
}

TEST(BatchNormOp, CudaMatchesCpu) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t rows = 3001, c = 19;  // several column-sum chunks, channels not a warp multiple
  const Stats s = random_stats(c, 2);
  const Stats d = {s.gamma.to(Device::cuda), s.beta.to(Device::cuda), s.mean.to(Device::cuda),
                   s.var.to(Device::cuda)};
  const Tensor x = random_tensor({rows, c}, 20, -3.0f, 3.0f), dy = random_tensor({rows, c}, 21);
  const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
  for (bool with_gamma_beta : {true, false}) {
    const float* gamma = with_gamma_beta ? s.gamma.f32() : nullptr;
    const float* beta = with_gamma_beta ? s.beta.f32() : nullptr;
    const float* gamma_d = with_gamma_beta ? d.gamma.f32() : nullptr;
    const float* beta_d = with_gamma_beta ? d.beta.f32() : nullptr;
    Tensor a = nan_tensor({c}, Device::cpu), b = nan_tensor({c}, Device::cpu);
    Tensor ad = nan_tensor({c}, Device::cuda), bd = nan_tensor({c}, Device::cuda);
    cpu::batch_norm_fold(gamma, beta, s.mean.f32(), s.var.f32(), kEps, c, a.f32(), b.f32(),
                         nullptr);
    cuda::batch_norm_fold(gamma_d, beta_d, d.mean.f32(), d.var.f32(), kEps, c, ad.f32(), bd.f32(),
                          gpu_stream());
    EXPECT_LE(max_relative_error(gpu_result(ad), a.to_vector()), 1e-6);
    EXPECT_LE(max_relative_error(gpu_result(bd), b.to_vector()), 1e-6);

    Tensor y = nan_tensor({rows, c}, Device::cpu), yd = nan_tensor({rows, c}, Device::cuda);
    cpu::channel_affine_forward(x.raw(), y.raw(), DType::f32, rows, c, a.f32(), b.f32(), nullptr);
    cuda::channel_affine_forward(xd.raw(), yd.raw(), DType::f32, rows, c, ad.f32(), bd.f32(),
                                 gpu_stream());
    EXPECT_LE(test::max_abs_difference(gpu_result(yd), y.to_vector()), 1e-5);

    Tensor dx = nan_tensor({rows, c}, Device::cpu), dxd = nan_tensor({rows, c}, Device::cuda);
    Tensor dg = nan_tensor({c}, Device::cpu), dgd = nan_tensor({c}, Device::cuda);
    Tensor db = nan_tensor({c}, Device::cpu), dbd = nan_tensor({c}, Device::cuda);
    cpu::batch_norm_backward(x.f32(), dy.f32(), a.f32(), s.mean.f32(), s.var.f32(), kEps, rows, c,
                             dx.f32(), dg.f32(), db.f32(), nullptr);
    cuda::batch_norm_backward(xd.f32(), dyd.f32(), ad.f32(), d.mean.f32(), d.var.f32(), kEps,
                              rows, c, dxd.f32(), dgd.f32(), dbd.f32(), gpu_stream());
    EXPECT_LE(max_relative_error(gpu_result(dxd), dx.to_vector()), 1e-6);
    EXPECT_LE(max_relative_error(gpu_result(dgd), dg.to_vector()), 1e-6);
    EXPECT_LE(max_relative_error(gpu_result(dbd), db.to_vector()), 1e-6);
  }
#endif
}

TEST(BatchNormOp, CudaBackwardSkipsTheNullOutputs) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t rows = 10, c = 3;
  const Stats s = random_stats(c, 3);
  const Tensor mean = s.mean.to(Device::cuda), var = s.var.to(Device::cuda);
  const Tensor a = s.gamma.to(Device::cuda);
  const Tensor x = random_tensor({rows, c}, 4).to(Device::cuda);
  const Tensor dy = random_tensor({rows, c}, 5).to(Device::cuda);
  Tensor dbeta = nan_tensor({c}, Device::cuda);
  cuda::batch_norm_backward(x.f32(), dy.f32(), a.f32(), mean.f32(), var.f32(), kEps, rows, c,
                            nullptr, nullptr, dbeta.f32(), gpu_stream());
  std::vector<float> expected(c, 0.0f);
  const std::vector<float> g = dy.to_vector();
  for (int64_t k = 0; k < c; ++k) {
    double sum = 0;
    for (int64_t r = 0; r < rows; ++r) sum += g[r * c + k];
    expected[k] = static_cast<float>(sum);
  }
  EXPECT_LE(max_relative_error(gpu_result(dbeta), expected), 1e-6);
#endif
}

}  // namespace
}  // namespace catdog
