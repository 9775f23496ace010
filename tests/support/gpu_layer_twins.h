// Running one layer on the CPU and on the GPU with identical weights and inputs, for the
// gpu_*_test suites: outputs and gradients are poisoned (NaN) before each run, so a kernel that
// forgets an element cannot pass by leaving the right value from an earlier run.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/context.h"
#include "layers/layer.h"
#include "core/tensor.h"

namespace catdog::test {

using LayerFactory = std::function<std::unique_ptr<Layer>()>;

struct LayerRun {
  std::vector<float> y;                    // forward output, as float32
  std::vector<float> dx;                   // input gradient (empty when not asked)
  std::vector<std::vector<float>> grads;   // each parameter's gradient, in params() order
};

// Builds the layer for x's shape, fills every parameter from (seed, parameter index) (moving
// variances in [0.5, 1.5), the rest in [-0.5, 0.5)), then runs forward (and backward with dy when
// dy is defined) on `device`. On the GPU the input is converted to `dtype` first.
LayerRun run_layer(const LayerFactory& make, const Tensor& x, const Tensor& dy, Device device,
                   Precision precision, DType dtype, bool training = false, uint64_t seed = 7);

// max |a - b| / max |b| (b the CPU reference), printed with `label`.
double report_error(const char* label, const std::vector<float>& gpu, const std::vector<float>& cpu);

}  // namespace catdog::test
