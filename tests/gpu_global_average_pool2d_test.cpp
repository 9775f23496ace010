// The global_average_pool2d op (kernels/global_average_pool2d.h): cpu:: against the mean written
// here, and cuda:: against cpu:: on the same inputs. The GPU half skips with the reason when no
// GPU is present.
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/global_average_pool2d.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::max_relative_error;
using test::nan_tensor;
using test::random_tensor;

TEST(GlobalAveragePool2dOp, CpuIsTheMeanAndItsGradient) {
  const int64_t n = 2, hw = 12, c = 5;
  const Tensor x = random_tensor({n, hw, c}, 1), dy = random_tensor({n, c}, 2);
  Tensor y = nan_tensor({n, c}, Device::cpu), dx = nan_tensor({n, hw, c}, Device::cpu);
  cpu::global_average_pool2d_forward(x.raw(), y.raw(), DType::f32, n, hw, c, nullptr);
  cpu::global_average_pool2d_backward(dy.f32(), dx.f32(), n, hw, c, nullptr);
  std::vector<float> y_ref(n * c), dx_ref(n * hw * c);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c; ++k) {
      double sum = 0;
      for (int64_t p = 0; p < hw; ++p) {
        sum += x.f32()[(b * hw + p) * c + k];
        dx_ref[(b * hw + p) * c + k] = dy.f32()[b * c + k] / hw;
      }
      y_ref[b * c + k] = static_cast<float>(sum / hw);
    }
  EXPECT_LE(max_relative_error(y.to_vector(), y_ref), 1e-6);
  EXPECT_LE(max_relative_error(dx.to_vector(), dx_ref), 1e-6);
}

TEST(GlobalAveragePool2dOp, CudaMatchesCpu) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t n = 3, hw = 49, c = 300;
  const Tensor x = random_tensor({n, hw, c}, 3), dy = random_tensor({n, c}, 4);
  const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
  Tensor y = nan_tensor({n, c}, Device::cpu), yd = nan_tensor({n, c}, Device::cuda);
  Tensor dx = nan_tensor({n, hw, c}, Device::cpu), dxd = nan_tensor({n, hw, c}, Device::cuda);
  cpu::global_average_pool2d_forward(x.raw(), y.raw(), DType::f32, n, hw, c, nullptr);
  cpu::global_average_pool2d_backward(dy.f32(), dx.f32(), n, hw, c, nullptr);
  cuda::global_average_pool2d_forward(xd.raw(), yd.raw(), DType::f32, n, hw, c, gpu_stream());
  cuda::global_average_pool2d_backward(dyd.f32(), dxd.f32(), n, hw, c, gpu_stream());
  // The GPU sums 49 floats in float, the CPU in double.
  EXPECT_LE(max_relative_error(gpu_result(yd), y.to_vector()), 1e-5);
  EXPECT_LE(max_relative_error(gpu_result(dxd), dx.to_vector()), 1e-6);
#endif
}

}  // namespace
}  // namespace catdog
