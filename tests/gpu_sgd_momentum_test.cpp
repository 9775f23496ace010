// The sgd_momentum op (kernels/sgd_momentum.h): cpu:: against the Keras formula written here,
// and cuda:: against cpu:: on the same tensors. The GPU half skips with the reason when no GPU is
// present.
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/sgd_momentum.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::max_relative_error;
using test::random_tensor;

constexpr float kLr = 0.001f, kMomentum = 0.9f;

TEST(SgdMomentumOp, CpuMatchesTheKerasFormula) {
  const int64_t n = 1000;
  const Tensor w0 = random_tensor({n}, 1), v0 = random_tensor({n}, 2), g = random_tensor({n}, 3);
  Tensor w = w0.clone(), v = v0.clone();
  cpu::sgd_momentum_update(w.f32(), v.f32(), g.f32(), n, kLr, kMomentum, nullptr);
  for (int64_t i = 0; i < n; ++i) {
    const float v_ref = kMomentum * v0.f32()[i] - kLr * g.f32()[i];
    EXPECT_EQ(v.f32()[i], v_ref);
    EXPECT_EQ(w.f32()[i], w0.f32()[i] + v_ref);
  }
}

TEST(SgdMomentumOp, CudaMatchesCpu) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t n = 100001;
  const Tensor w0 = random_tensor({n}, 4), v0 = random_tensor({n}, 5), g = random_tensor({n}, 6);
  Tensor w = w0.clone(), v = v0.clone();
  Tensor wd = w0.to(Device::cuda), vd = v0.to(Device::cuda), gd = g.to(Device::cuda);
  cpu::sgd_momentum_update(w.f32(), v.f32(), g.f32(), n, kLr, kMomentum, nullptr);
  cuda::sgd_momentum_update(wd.f32(), vd.f32(), gd.f32(), n, kLr, kMomentum, gpu_stream());
  // nvcc may fuse momentum * v - lr * g into one multiply-add: equal to rounding.
  EXPECT_LE(max_relative_error(gpu_result(vd), v.to_vector()), 1e-6);
  EXPECT_LE(max_relative_error(gpu_result(wd), w.to_vector()), 1e-6);
#endif
}

}  // namespace
}  // namespace catdog
