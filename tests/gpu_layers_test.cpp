// Every GPU layer against its CPU twin (layers/*.cpp), forward and backward, on fresh random
// inputs with poisoned outputs: float32 within 1e-4 relative for convolution and GEMM and 1e-5
// for elementwise layers; float16 / bfloat16 / TF32 forward errors printed and bounded.
// Skips with the reason when no GPU is present.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/device.h"
#include "core/error.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"
#endif
#include "layers/activations.h"
#include "layers/batch_normalization.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/global_average_pooling2d.h"
#include "layers/max_pooling2d.h"
#include "tests/support/gpu_layer_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::LayerFactory;
using test::random_tensor;
using test::report_error;
using test::run_layer;

// Forward and backward on both devices in float32; every output and gradient within `tolerance`.
// `relu_output_input`: the input is what a ReLU gives (x in [0, 1), about half exactly 0).
void expect_twins(const std::string& what, const LayerFactory& make, const Shape& in_shape,
                  double tolerance, bool relu_output_input = false, bool training = false) {
  SCOPED_TRACE(what);
  Tensor x = random_tensor(in_shape, 1001, -1.0f, 1.0f);
  if (relu_output_input) {  // many exact ties (zeros): the pooling tie rule matters
    float* p = x.f32();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = p[i] > 0 ? p[i] : 0.0f;
  }
  const Shape out_shape = make()->output_shape(in_shape);
  Tensor dy = random_tensor(out_shape, 1002);
  const auto cpu = run_layer(make, x, dy, Device::cpu, Precision::fp32, DType::f32, training);
  const auto gpu = run_layer(make, x, dy, Device::cuda, Precision::fp32, DType::f32, training);
  EXPECT_LE(report_error((what + " y").c_str(), gpu.y, cpu.y), tolerance);
  EXPECT_LE(report_error((what + " dx").c_str(), gpu.dx, cpu.dx), tolerance);
  ASSERT_EQ(gpu.grads.size(), cpu.grads.size());
  for (size_t i = 0; i < cpu.grads.size(); ++i) {
    EXPECT_LE(report_error((what + " dparam" + std::to_string(i)).c_str(), gpu.grads[i],
                           cpu.grads[i]),
              tolerance);
  }
}

// Forward only, in reduced precision on the GPU against float32 on the CPU.
void expect_low_precision(const std::string& what, const LayerFactory& make, const Shape& in_shape,
                          Precision precision, double bound) {
  const std::string why = precision_unsupported_reason(precision_name(precision));
  if (!why.empty()) {
    std::printf("%s %s: not run (%s)\n", what.c_str(), precision_name(precision), why.c_str());
    return;
  }
  const DType dtype = precision == Precision::fp16   ? DType::f16
                      : precision == Precision::bf16 ? DType::bf16
                                                     : DType::f32;
  Tensor x = random_tensor(in_shape, 2001);
  const auto cpu = run_layer(make, x, Tensor(), Device::cpu, Precision::fp32, DType::f32);
  const auto gpu = run_layer(make, x, Tensor(), Device::cuda, precision, dtype);
  EXPECT_LE(report_error((what + " " + precision_name(precision)).c_str(), gpu.y, cpu.y), bound);
}

LayerFactory conv(int filters, int k, int stride, Padding padding, Activation act, bool bias,
                  bool trainable = true) {
  return [=] {
    Conv2DConfig c;
    c.filters = filters;
    c.kernel_h = c.kernel_w = k;
    c.stride_h = c.stride_w = stride;
    c.padding = padding;
    c.activation = act;
    c.use_bias = bias;
    auto layer = std::make_unique<Conv2D>("conv", c);
    layer->set_trainable(trainable);
    return std::unique_ptr<Layer>(std::move(layer));
  };
}

LayerFactory pool(int k, int stride, Padding padding) {
  return [=] {
    MaxPooling2DConfig c;
    c.pool_h = c.pool_w = k;
    c.stride_h = c.stride_w = stride;
    c.padding = padding;
    return std::unique_ptr<Layer>(std::make_unique<MaxPooling2D>("pool", c));
  };
}

LayerFactory dense(int units, Activation act, bool logits = false) {
  return [=] {
    DenseConfig c;
    c.units = units;
    c.activation = act;
    auto layer = std::make_unique<Dense>("dense", c);
    layer->set_emit_logits(logits);
    return std::unique_ptr<Layer>(std::move(layer));
  };
}

LayerFactory batchnorm() {
  return [] {
    return std::unique_ptr<Layer>(
        std::make_unique<BatchNormalization>("bn", BatchNormalizationConfig{}));
  };
}

LayerFactory activation(const char* cls, Activation act, float alpha) {
  return [=] {
    return std::unique_ptr<Layer>(std::make_unique<ActivationLayer>("act", cls, act, alpha));
  };
}

TEST(GpuLayers, Conv2DMatchesCpu) {
  CATDOG_REQUIRE_GPU();
  using A = Activation;
  // VGG's 3x3 'same' + ReLU (the fused path), strided 'same' with an odd padding total (the
  // explicit-padding path), an even kernel, 'valid' with sigmoid and no bias, and a 1x1.
  expect_twins("conv 3x3 s1 same relu", conv(8, 3, 1, Padding::same, A::relu, true), {2, 9, 9, 3},
               1e-4);
  expect_twins("conv 3x3 s2 same linear", conv(5, 3, 2, Padding::same, A::linear, true),
               {2, 8, 8, 4}, 1e-4);
  expect_twins("conv 2x2 s1 same relu", conv(6, 2, 1, Padding::same, A::relu, true), {1, 7, 7, 3},
               1e-4);
  expect_twins("conv 3x3 valid sigmoid nobias", conv(4, 3, 1, Padding::valid, A::sigmoid, false),
               {2, 10, 10, 3}, 1e-4);
  expect_twins("conv 1x1", conv(7, 1, 1, Padding::valid, A::relu, true), {1, 5, 5, 16}, 1e-4);
}

#if CATDOG_WITH_CUDA
// A trainable or frozen Conv2D of 4 k x k 'same' relu filters with random weights, built for
// input shape `in` and moved to the GPU.
std::unique_ptr<Conv2D> conv_on_gpu(int k, bool trainable, const Shape& in) {
  Conv2DConfig c;
  c.filters = 4;
  c.kernel_h = c.kernel_w = k;
  c.padding = Padding::same;
  c.activation = Activation::relu;
  auto layer = std::make_unique<Conv2D>("conv", c);
  layer->set_trainable(trainable);
  layer->build(in);
  for (Param* p : layer->params()) p->value = random_tensor(p->value.shape(), 3100);
  layer->to_device(Device::cuda);
  return layer;
}

ExecContext gpu_context() {
  ExecContext ctx;
  ctx.device = Device::cuda;
  ctx.cuda = &cuda::default_context();
  return ctx;
}
#endif

TEST(GpuLayers, FrozenConv2DConvertsItsKernelOnce) {
  CATDOG_REQUIRE_GPU();
  // A frozen layer keeps the KRSC kernel made on first use; forward still matches the CPU.
  Tensor x = random_tensor({2, 6, 6, 3}, 3001);
  const auto make = conv(4, 3, 1, Padding::same, Activation::relu, true, /*trainable=*/false);
  const auto cpu = run_layer(make, x, Tensor(), Device::cpu, Precision::fp32, DType::f32);
  const auto gpu = run_layer(make, x, Tensor(), Device::cuda, Precision::fp32, DType::f32);
  EXPECT_LE(report_error("frozen conv y", gpu.y, cpu.y), 1e-4);
#if CATDOG_WITH_CUDA
  // Counted: three forwards convert once; new weights convert once more.
  ExecContext ctx = gpu_context();
  auto frozen = conv_on_gpu(3, /*trainable=*/false, x.shape());
  const Tensor xd = x.to(Device::cuda);
  Tensor y;
  for (int i = 0; i < 3; ++i) frozen->forward(xd, y, ctx);
  EXPECT_EQ(frozen->kernel_conversions(), 1);
  frozen->weights_changed();
  frozen->forward(xd, y, ctx);
  frozen->forward(xd, y, ctx);
  EXPECT_EQ(frozen->kernel_conversions(), 2);
#endif
}

TEST(GpuLayers, TrainableConv2DConvertsItsKernelOncePerStep) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  // Forward converts (SGD changed the kernel since the last step); backward reuses it. Both
  // kernel sizes: 2x2 'same' pads explicitly, 3x3 does not.
  for (int k : {2, 3}) {
    const Tensor x = random_tensor({2, 6, 6, 3}, 3002).to(Device::cuda);
    ExecContext ctx = gpu_context();
    auto layer = conv_on_gpu(k, /*trainable=*/true, x.shape());
    const Tensor dy = random_tensor(layer->output_shape(x.shape()), 3003).to(Device::cuda);
    Tensor y, dx;
    for (int step = 0; step < 2; ++step) {
      layer->forward(x, y, ctx);
      layer->backward(x, y, dy, &dx, ctx);
    }
    EXPECT_EQ(layer->kernel_conversions(), 2) << k << "x" << k;
  }
#endif
}

TEST(GpuLayers, MaxPooling2DMatchesCpuIncludingTies) {
  CATDOG_REQUIRE_GPU();
  expect_twins("pool 2x2 s2 valid (cuDNN)", pool(2, 2, Padding::valid), {2, 8, 8, 5}, 1e-5, true);
  expect_twins("pool 3x3 s2 same", pool(3, 2, Padding::same), {2, 7, 8, 3}, 1e-5, true);
  expect_twins("pool 2x2 s1 valid overlapping", pool(2, 1, Padding::valid), {1, 5, 5, 4}, 1e-5,
               true);
  expect_twins("pool 2x2 s2 same odd", pool(2, 2, Padding::same), {1, 5, 5, 2}, 1e-5, true);
}

TEST(GpuLayers, DenseMatchesCpu) {
  CATDOG_REQUIRE_GPU();
  expect_twins("dense relu", dense(16, Activation::relu), {8, 40}, 1e-4);
  expect_twins("dense sigmoid as logits", dense(1, Activation::sigmoid, true), {8, 16}, 1e-4);
  expect_twins("dense sigmoid", dense(3, Activation::sigmoid), {5, 7}, 1e-4);
}

TEST(GpuLayers, ElementwiseLayersMatchCpu) {
  CATDOG_REQUIRE_GPU();
  expect_twins("batchnorm", batchnorm(), {2, 3, 3, 6}, 1e-5);
  expect_twins("relu", activation("ReLU", Activation::relu, 0.0f), {2, 4, 4, 3}, 1e-5);
  expect_twins("leaky relu", activation("LeakyReLU", Activation::relu, 0.3f), {2, 4, 4, 3}, 1e-5);
  expect_twins("sigmoid", activation("Activation", Activation::sigmoid, 0.0f), {3, 10}, 1e-5);
  expect_twins("global average pool",
               [] { return std::unique_ptr<Layer>(std::make_unique<GlobalAveragePooling2D>("gap")); },
               {2, 5, 6, 7}, 1e-5);
}

TEST(GpuLayers, DropoutMasksAreTheCpuMasks) {
  CATDOG_REQUIRE_GPU();
  const LayerFactory drop = [] {
    auto layer = std::make_unique<Dropout>("drop", 0.4f);
    layer->on_added(5);
    return std::unique_ptr<Layer>(std::move(layer));
  };
  expect_twins("dropout training", drop, {4, 300}, 1e-6, false, /*training=*/true);
  expect_twins("dropout inference", drop, {4, 30}, 0.0, false, /*training=*/false);
}

TEST(GpuLayers, ReducedPrecisionErrorIsBounded) {
  CATDOG_REQUIRE_GPU();
  const auto c = conv(16, 3, 1, Padding::same, Activation::relu, true, /*trainable=*/false);
  const Shape shape{2, 12, 12, 16};
  expect_low_precision("conv", c, shape, Precision::tf32, 1e-2);
  expect_low_precision("conv", c, shape, Precision::fp16, 1e-2);
  expect_low_precision("conv", c, shape, Precision::bf16, 3e-2);
  for (Precision p : {Precision::fp16, Precision::bf16}) {
    const double bound = p == Precision::fp16 ? 1e-2 : 3e-2;
    expect_low_precision("pool", pool(2, 2, Padding::valid), shape, p, bound);
    expect_low_precision("pool same", pool(3, 2, Padding::same), shape, p, bound);
    expect_low_precision("batchnorm", batchnorm(), shape, p, bound);
    expect_low_precision("relu", activation("ReLU", Activation::relu, 0.0f), shape, p, bound);
    expect_low_precision(
        "gap", [] { return std::unique_ptr<Layer>(std::make_unique<GlobalAveragePooling2D>("g")); },
        shape, p, bound);
  }
}

TEST(GpuLayers, DenseRefusesReducedPrecisionInput) {
  CATDOG_REQUIRE_GPU();
  if (!precision_unsupported_reason("fp16").empty()) GTEST_SKIP() << "no fp16 on this GPU";
  Tensor x = random_tensor({2, 4}, 4001);
  EXPECT_THROW(run_layer(dense(3, Activation::relu), x, Tensor(), Device::cuda, Precision::fp16,
                         DType::f16),
               Error);
}

}  // namespace
}  // namespace catdog
