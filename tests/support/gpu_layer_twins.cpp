#include "tests/support/gpu_layer_twins.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "tests/support/test_support.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"
#include "kernels/conv_layout.h"
#endif

namespace catdog::test {

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// A tensor of `shape` and `dtype` on `device`, every element NaN.
Tensor poisoned(const Shape& shape, DType dtype, Device device, ExecContext& ctx) {
  Tensor f32(shape, DType::f32, device);
  f32.fill(kNaN);
  if (dtype == DType::f32) return f32;
  Tensor low(shape, dtype, device);
#if CATDOG_WITH_CUDA
  cuda::convert_elements(f32.raw(), DType::f32, low.raw(), dtype, f32.numel(),
                         ctx.cuda->compute);
#else
  (void)ctx;
#endif
  return low;
}

// Any dtype on any device -> CPU float32 values.
std::vector<float> values_of(const Tensor& t, ExecContext& ctx) {
  if (t.dtype() == DType::f32) return t.to_vector();
  Tensor f32(t.shape(), DType::f32, t.device());
#if CATDOG_WITH_CUDA
  cuda::convert_elements(t.raw(), t.dtype(), f32.raw(), DType::f32, t.numel(),
                         ctx.cuda->compute);
#else
  (void)ctx;
#endif
  return f32.to_vector();
}

}  // namespace

LayerRun run_layer(const LayerFactory& make, const Tensor& x, const Tensor& dy, Device device,
                   Precision precision, DType dtype, bool training, uint64_t seed) {
  ExecContext ctx;
  ctx.device = device;
  ctx.precision = precision;
  ctx.training = training;
  ctx.seed = 11;
  ctx.step = 3;
#if CATDOG_WITH_CUDA
  if (device == Device::cuda) ctx.cuda = &cuda::default_context();
#endif
  std::unique_ptr<Layer> layer = make();
  layer->build(x.shape());
  int index = 0;
  for (Param* p : layer->params()) {
    const bool variance = p->name == "moving_variance";
    p->value.copy_from(random_tensor(p->value.shape(), seed * 100 + index++, variance ? 0.5f : -0.5f,
                                     variance ? 1.5f : 0.5f));
  }
  layer->to_device(device);

  Tensor x_dev = x.to(device);
  if (dtype != DType::f32) {
    Tensor low(x.shape(), dtype, device);
#if CATDOG_WITH_CUDA
    cuda::convert_elements(x_dev.raw(), DType::f32, low.raw(), dtype, x.numel(),
                           ctx.cuda->compute);
#endif
    x_dev = low;
  }
  LayerRun run;
  Tensor y = poisoned(layer->output_shape(x.shape()), dtype, device, ctx);
  layer->forward(x_dev, y, ctx);
  run.y = values_of(y, ctx);
  if (!dy.defined()) return run;

  Tensor dy_dev = dy.to(device);
  Tensor dx = poisoned(x.shape(), DType::f32, device, ctx);
  for (Param* p : layer->params()) p->grad = poisoned(p->value.shape(), DType::f32, device, ctx);
  layer->backward(x_dev, y, dy_dev, &dx, ctx);
  run.dx = dx.to_vector();
  for (Param* p : layer->params()) {
    if (p->trainable && layer->trainable()) run.grads.push_back(p->grad.to_vector());
  }
  return run;
}

double report_error(const char* label, const std::vector<float>& gpu,
                    const std::vector<float>& cpu) {
  if (gpu.size() != cpu.size()) {
    std::printf("%-40s size %zu vs %zu\n", label, gpu.size(), cpu.size());
    return std::numeric_limits<double>::infinity();
  }
  for (float v : gpu) {
    if (std::isnan(v)) {  // a poisoned element nobody wrote
      std::printf("%-40s NaN in the GPU result\n", label);
      return std::numeric_limits<double>::infinity();
    }
  }
  const double error = max_relative_error(gpu, cpu);
  std::printf("%-40s max relative error %.3g\n", label, error);
  return error;
}

}  // namespace catdog::test
