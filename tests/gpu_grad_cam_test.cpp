// Grad-CAM on the GPU against the same computation on the CPU (engine/grad_cam.h): Tiny Darknet
// with its transfer head, randomly initialised, at 64x64, at the default layer and at one whose
// backward runs through convolutions, BatchNormalization and LeakyReLU. Skips with the reason
// when no GPU is present.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <gtest/gtest.h>

#include "engine/builtin_models.h"
#include "engine/grad_cam.h"
#include "engine/model_config.h"
#include "training/run_context.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

TEST(GpuGradCam, EqualsTheCpu) {
  CATDOG_REQUIRE_GPU();
  ParsedModel parsed = parse_model_config(transfer_model_config("tiny-darknet"));
  Sequential& model = parsed.model;
  model.build({64, 64, 3});
  model.initialize(4);
  const Tensor x = test::random_tensor({1, 64, 64, 3}, 31, 0.0f, 1.0f);
  const size_t layers[2] = {grad_cam_default_layer(model), grad_cam_layer_named(model, "leaky_re_lu_13")};
  ExecContext cpu;
  GradCamResult on_cpu[2];
  for (int k = 0; k < 2; ++k) on_cpu[k] = grad_cam(model, x, layers[k], cpu);

  ExecContext gpu = make_exec_context("cuda", "fp32", 1);
  model.to_device(Device::cuda);
  const Tensor x_gpu = x.to(Device::cuda, gpu.cuda);
  for (int k = 0; k < 2; ++k) {
    const GradCamResult on_gpu = grad_cam(model, x_gpu, layers[k], gpu);
    SCOPED_TRACE(on_gpu.layer);
    EXPECT_EQ(on_gpu.layer, on_cpu[k].layer);
    EXPECT_NEAR(on_gpu.logit, on_cpu[k].logit, 1e-4 * std::max(1.0f, std::fabs(on_cpu[k].logit)));
    const double gradient = test::max_relative_error(on_gpu.gradient, on_cpu[k].gradient);
    const double heat = test::max_abs_difference(on_gpu.heat, on_cpu[k].heat);
    std::cout << on_gpu.layer << ": GPU vs CPU: logit " << on_gpu.logit << " vs " << on_cpu[k].logit
              << ", gradient max relative error " << gradient << ", heat max abs difference " << heat
              << "\n";
    EXPECT_LE(gradient, 1e-3);
    EXPECT_LE(heat, 1e-3);
  }
}

}  // namespace
}  // namespace catdog
