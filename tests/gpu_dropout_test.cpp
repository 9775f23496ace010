// The dropout op (kernels/dropout.h): cpu:: against the keep rule written out from
// kernels/cpu/dropout_mask.h, and cuda:: against cpu:: on the same inputs (the masks must be
// identical, so the outputs are compared exactly). The GPU half skips with the reason when no
// GPU is present.
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "core/random.h"
#include "kernels/dropout.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::nan_tensor;
using test::random_tensor;

constexpr float kRate = 0.3f;
constexpr uint64_t kSeed = 11, kStreamId = 4, kStep = 9;

TEST(DropoutOp, CpuForwardAndBackwardFollowTheDocumentedMask) {
  const int64_t n = 5000;
  const Tensor x = random_tensor({n}, 1, 0.5f, 1.5f);
  Tensor y = nan_tensor({n}, Device::cpu), dx = nan_tensor({n}, Device::cpu);
  cpu::dropout_forward(x.f32(), y.f32(), n, kRate, kSeed, kStreamId, kStep, 0, nullptr);
  cpu::dropout_backward(x.f32(), dx.f32(), n, kRate, kSeed, kStreamId, kStep, 0, nullptr);
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = uniform01(kSeed, 0xD0000000ull | kStreamId, (kStep << 32) | uint64_t(i)) >=
                      static_cast<double>(kRate);
    const float expected = keep ? x.f32()[i] * (1.0f / (1.0f - kRate)) : 0.0f;
    EXPECT_EQ(y.f32()[i], expected) << i;
    EXPECT_EQ(dx.f32()[i], expected) << i;  // the same mask and scale backward
    kept += keep;
  }
  EXPECT_NEAR(static_cast<double>(kept) / n, 1.0 - kRate, 0.03);
}

TEST(DropoutOp, CudaMasksAreTheCpuMasks) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t n = 100003;
  const Tensor x = random_tensor({n}, 2), xd = x.to(Device::cuda);
  Tensor y = nan_tensor({n}, Device::cpu), dx = nan_tensor({n}, Device::cpu);
  Tensor yd = nan_tensor({n}, Device::cuda), dxd = nan_tensor({n}, Device::cuda);
  cpu::dropout_forward(x.f32(), y.f32(), n, kRate, kSeed, kStreamId, kStep, 0, nullptr);
  cpu::dropout_backward(x.f32(), dx.f32(), n, kRate, kSeed, kStreamId, kStep, 0, nullptr);
  cuda::dropout_forward(xd.f32(), yd.f32(), n, kRate, kSeed, kStreamId, kStep, 0, gpu_stream());
  cuda::dropout_backward(xd.f32(), dxd.f32(), n, kRate, kSeed, kStreamId, kStep, 0, gpu_stream());
  EXPECT_EQ(gpu_result(yd), y.to_vector());
  EXPECT_EQ(gpu_result(dxd), dx.to_vector());
#endif
}

}  // namespace
}  // namespace catdog
