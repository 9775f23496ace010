// The bias_activation op (kernels/bias_activation.h), the epilogue and bias gradient of Conv2D
// and Dense: cpu:: against loops written here (the gradient summed in double), and cuda:: against
// cpu:: on the same inputs. The GPU half skips with the reason when no GPU is present.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/bias_activation.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::max_relative_error;
using test::nan_tensor;
using test::random_tensor;

constexpr float kAlpha = 0.2f;
const Activation kActivations[] = {Activation::linear, Activation::relu, Activation::sigmoid,
                                   Activation::leaky_relu};

// y[r, c] = act(y[r, c] + bias[c]), written out.
std::vector<float> naive_bias_activation(const std::vector<float>& y, const float* bias,
                                         int64_t channels, Activation act) {
  std::vector<float> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    const float v = y[i] + (bias ? bias[i % channels] : 0.0f);
    switch (act) {
      case Activation::relu: out[i] = v > 0 ? v : 0; break;
      case Activation::leaky_relu: out[i] = v > 0 ? v : kAlpha * v; break;
      case Activation::sigmoid: out[i] = static_cast<float>(1 / (1 + std::exp(-double(v)))); break;
      default: out[i] = v;
    }
  }
  return out;
}

TEST(BiasActivationOp, CpuForwardMatchesTheFormula) {
  const int64_t rows = 37, channels = 6;
  const Tensor y0 = random_tensor({rows, channels}, 1, -3.0f, 3.0f);
  const Tensor bias = random_tensor({channels}, 2);
  for (Activation act : kActivations) {
    for (const float* b : {bias.f32(), static_cast<const float*>(nullptr)}) {
      Tensor y = y0.clone();
      cpu::bias_activation_forward(y.raw(), DType::f32, b, rows, channels, act, kAlpha, nullptr);
      EXPECT_LE(max_relative_error(y.to_vector(), naive_bias_activation(y0.to_vector(), b,
                                                                        channels, act)),
                1e-6)
          << activation_name(act) << (b ? " with bias" : " without bias");
    }
  }
}

TEST(BiasActivationOp, CpuBiasGradientIsTheColumnSumInDouble) {
  const int64_t rows = 3000, channels = 5;
  const Tensor dz = random_tensor({rows, channels}, 3);
  Tensor db = nan_tensor({channels}, Device::cpu);
  cpu::bias_backward(dz.f32(), db.f32(), rows, channels, nullptr);
  std::vector<float> expected(channels);
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0;
    for (int64_t r = 0; r < rows; ++r) sum += dz.f32()[r * channels + c];
    expected[c] = static_cast<float>(sum);
  }
  EXPECT_EQ(db.to_vector(), expected);  // the same sums in the same order
}

TEST(BiasActivationOp, CudaMatchesCpu) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  // More rows than one chunk of the column sum (256) and than one block of threads.
  const int64_t rows = 70003, channels = 7;
  const Tensor y0 = random_tensor({rows, channels}, 4, -3.0f, 3.0f);
  const Tensor bias = random_tensor({channels}, 5), bias_d = bias.to(Device::cuda);
  for (Activation act : kActivations) {
    Tensor y = y0.clone(), yd = y0.to(Device::cuda);
    cpu::bias_activation_forward(y.raw(), DType::f32, bias.f32(), rows, channels, act, kAlpha,
                                 nullptr);
    cuda::bias_activation_forward(yd.raw(), DType::f32, bias_d.f32(), rows, channels, act, kAlpha,
                                  gpu_stream());
    EXPECT_LE(max_relative_error(gpu_result(yd), y.to_vector()), 1e-6) << activation_name(act);
  }
  const Tensor dz = random_tensor({rows, channels}, 6), dz_d = dz.to(Device::cuda);
  Tensor db = nan_tensor({channels}, Device::cpu), db_d = nan_tensor({channels}, Device::cuda);
  cpu::bias_backward(dz.f32(), db.f32(), rows, channels, nullptr);
  cuda::bias_backward(dz_d.f32(), db_d.f32(), rows, channels, gpu_stream());
  // Both accumulate in double; only the order of the additions differs.
  EXPECT_LE(max_relative_error(gpu_result(db_d), db.to_vector()), 1e-6);
#endif
}

TEST(BiasActivationOp, CudaBiasGradientOfNoRowsIsZero) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  Tensor db = nan_tensor({3}, Device::cuda);
  cuda::bias_backward(nullptr, db.f32(), 0, 3, gpu_stream());  // no rows: dz is never read
  EXPECT_EQ(gpu_result(db), std::vector<float>(3, 0.0f));
#endif
}

}  // namespace
}  // namespace catdog
