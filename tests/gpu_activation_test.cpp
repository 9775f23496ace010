// The activation op (kernels/activation.h): cpu:: against formulas written here, and cuda::
// against cpu:: on the same inputs (float32, and float16 / bfloat16 forward). The GPU half skips
// with the reason when no GPU is present.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/activation.h"
#include "kernels/conv_layout.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::max_relative_error;
using test::nan_tensor;
using test::random_tensor;

constexpr float kAlpha = 0.1f;
const Activation kActivations[] = {Activation::linear, Activation::relu, Activation::sigmoid,
                                   Activation::leaky_relu};

double naive_forward(Activation act, double x) {
  switch (act) {
    case Activation::relu: return x > 0 ? x : 0;
    case Activation::leaky_relu: return x > 0 ? x : kAlpha * x;
    case Activation::sigmoid: return 1 / (1 + std::exp(-x));
    default: return x;
  }
}

// dx = dy * act'(x), with sigmoid's derivative from its output y.
double naive_backward(Activation act, double x, double y, double dy) {
  switch (act) {
    case Activation::relu: return x > 0 ? dy : 0;
    case Activation::leaky_relu: return x > 0 ? dy : kAlpha * dy;
    case Activation::sigmoid: return dy * y * (1 - y);
    default: return dy;
  }
}

TEST(ActivationOp, CpuMatchesTheFormulas) {
  const int64_t n = 1000;
  const Tensor x = random_tensor({n}, 1, -20.0f, 20.0f), dy = random_tensor({n}, 2);
  for (Activation act : kActivations) {
    Tensor y = nan_tensor({n}, Device::cpu), dx = nan_tensor({n}, Device::cpu);
    cpu::activation_forward(x.raw(), y.raw(), DType::f32, n, act, kAlpha, nullptr);
    cpu::activation_backward(x.f32(), y.f32(), dy.f32(), dx.f32(), n, act, kAlpha, nullptr);
    std::vector<float> y_ref(n), dx_ref(n);
    for (int64_t i = 0; i < n; ++i) {
      y_ref[i] = static_cast<float>(naive_forward(act, x.f32()[i]));
      dx_ref[i] = static_cast<float>(naive_backward(act, x.f32()[i], y_ref[i], dy.f32()[i]));
    }
    EXPECT_LE(max_relative_error(y.to_vector(), y_ref), 1e-6) << activation_name(act);
    EXPECT_LE(max_relative_error(dx.to_vector(), dx_ref), 1e-6) << activation_name(act);
  }
}

TEST(ActivationOp, CpuRefusesReducedPrecision) {
  Tensor x({4}, DType::f16), y({4}, DType::f16);
  EXPECT_THROW(cpu::activation_forward(x.raw(), y.raw(), DType::f16, 4, Activation::relu, 0.0f,
                                       nullptr),
               Error);
}

TEST(ActivationOp, CudaMatchesCpu) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t n = 70001;  // several blocks and a ragged end
  const Tensor x = random_tensor({n}, 3, -20.0f, 20.0f), dy = random_tensor({n}, 4);
  const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
  for (Activation act : kActivations) {
    Tensor y = nan_tensor({n}, Device::cpu), dx = nan_tensor({n}, Device::cpu);
    cpu::activation_forward(x.raw(), y.raw(), DType::f32, n, act, kAlpha, nullptr);
    cpu::activation_backward(x.f32(), y.f32(), dy.f32(), dx.f32(), n, act, kAlpha, nullptr);
    Tensor yd = nan_tensor({n}, Device::cuda), dxd = nan_tensor({n}, Device::cuda);
    const Tensor y_for_backward = y.to(Device::cuda);  // the same y on both sides
    cuda::activation_forward(xd.raw(), yd.raw(), DType::f32, n, act, kAlpha, gpu_stream());
    cuda::activation_backward(xd.f32(), y_for_backward.f32(), dyd.f32(), dxd.f32(), n, act,
                              kAlpha, gpu_stream());
    EXPECT_LE(max_relative_error(gpu_result(yd), y.to_vector()), 1e-6) << activation_name(act);
    EXPECT_LE(max_relative_error(gpu_result(dxd), dx.to_vector()), 1e-6) << activation_name(act);
  }
#endif
}

TEST(ActivationOp, CudaReducedPrecisionForwardIsTheFloatResultRounded) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t n = 513;
  const Tensor x = random_tensor({n}, 5, -4.0f, 4.0f);
  Tensor y = nan_tensor({n}, Device::cpu);
  cpu::activation_forward(x.raw(), y.raw(), DType::f32, n, Activation::sigmoid, 0.0f, nullptr);
  const Tensor xd = x.to(Device::cuda);
  for (DType dtype : {DType::f16, DType::bf16}) {
    Tensor x_low({n}, dtype, Device::cuda), y_low({n}, dtype, Device::cuda);
    Tensor back = nan_tensor({n}, Device::cuda);
    cuda::convert_elements(xd.raw(), DType::f32, x_low.raw(), dtype, n, gpu_stream());
    cuda::activation_forward(x_low.raw(), y_low.raw(), dtype, n, Activation::sigmoid, 0.0f,
                             gpu_stream());
    cuda::convert_elements(y_low.raw(), dtype, back.raw(), DType::f32, n, gpu_stream());
    EXPECT_LE(max_relative_error(gpu_result(back), y.to_vector()), 1e-2) << dtype_name(dtype);
  }
#endif
}

}  // namespace
}  // namespace catdog
