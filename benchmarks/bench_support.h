// What the benchmark binaries share (header-only: benchmarks/CMakeLists.txt builds one executable
// per *_bench.cpp file, so helpers live here as inline functions):
//   - skipping a GPU benchmark with the reason when there is no usable GPU;
//   - VGG16 "notop" with the deterministic weights of shared/reference/README.md, made in-process
//     (no 59 MB file needed: the values do not change the timings, but realistic magnitudes keep
//     fp16 activations finite);
//   - the transfer-learning head and one training step of it, on either device;
//   - FLOP counts for the per-layer counters.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "training/run_context.h"
#include "engine/builtin_models.h"
#include "core/device.h"
#include "core/error.h"
#include "engine/loss.h"
#include "engine/model_config.h"
#include "core/random.h"
#include "engine/sequential.h"
#include "engine/sgd.h"
#include "engine/train_step.h"
#include "layers/conv2d.h"
#include "layers/dense.h"

namespace catdog::bench {

// True when the benchmark may run on the GPU; otherwise marks it skipped with the reason (so the
// binary still runs on a machine without one, as CI's smoke run does).
inline bool require_gpu(benchmark::State& state) {
  std::string why;
  if (cuda_available(&why)) return true;
  state.SkipWithError(("no GPU: " + why).c_str());
  return false;
}

// Run a benchmark body; a catdog::Error (or any exception) marks the benchmark as failed with
// its message instead of ending the whole binary.
template <class Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// Fill VGG16's 13 convolutions as shared/reference/README.md specifies: convolution c (0-based,
// Keras order) has kernel t = 2c, (3, 3, in, out), limit sqrt(6 / (9 in)), and bias t = 2c + 1,
// limit 0.05; element i of tensor t is uniform_symmetric(seed, t, i, limit).
inline void fill_vgg16_reference_weights(Sequential& model, uint64_t seed) {
  int conv_index = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    auto* conv = dynamic_cast<Conv2D*>(&model.layer(i));
    if (!conv) continue;
    std::vector<Param*> params = conv->params();  // kernel, bias
    CATDOG_CHECK(params.size() == 2, "VGG16 layer ", conv->name(), " should have kernel and bias");
    Tensor& kernel = params[0]->value;
    const double in_channels = static_cast<double>(kernel.dim(2));
    const double limits[2] = {std::sqrt(6.0 / (9.0 * in_channels)), 0.05};
    for (int p = 0; p < 2; ++p) {
      Tensor& value = params[static_cast<size_t>(p)]->value;
      float* data = value.f32();
      const uint64_t stream = static_cast<uint64_t>(2 * conv_index + p);
      for (int64_t e = 0; e < value.numel(); ++e) {
        data[e] = uniform_symmetric(seed, stream, static_cast<uint64_t>(e), limits[p]);
      }
    }
    static_cast<Layer*>(conv)->weights_changed();  // public in Layer (Conv2D keeps GPU copies)
    ++conv_index;
  }
  CATDOG_CHECK(conv_index == 13, "VGG16 should have 13 convolutions, found ", conv_index);
}

// VGG16 without its top at image_size x image_size, every layer frozen, on the CPU.
inline Sequential make_vgg16_base(int image_size, uint64_t seed = 1) {
  Sequential model = parse_model_config(builtin_model_config("vgg16")).model;
  model.build({image_size, image_size, 3});
  model.freeze_before(model.size());
  fill_vgg16_reference_weights(model, seed);
  return model;
}

// The tutorial's head on a (7, 7, 512) feature map: Flatten -> Dense(128, relu) -> Dense(1),
// the last emitting logits (the loss applies the sigmoid, fused). He/Glorot init from `seed`.
inline Sequential make_transfer_head(const Shape& feature_hwc, uint64_t seed = 1) {
  const nlohmann::json config = {
      {"class_name", "Sequential"},
      {"config", {{"name", "head"}, {"layers", transfer_head_layers()}}}};
  Sequential head = parse_model_config(config).model;
  head.build(feature_hwc);
  head.initialize(seed);
  end_in_logits(head);
  return head;
}

// One SGD step of the head on a fixed batch of features, the trainer's train_step
// (engine/train_step.h): forward, fused sigmoid + BCE (which also copies the loss back),
// backward, momentum update.
struct HeadStep {
  Sequential head;
  Tensor features;  // (N, 7, 7, 512) on the run's device
  Tensor labels;    // (N) 0/1
  Tensor dlogits;   // (N, 1)
  SGD sgd{0.001f, 0.9f};
  ExecContext ctx;

  HeadStep(int64_t batch, const std::string& device) {
    ctx = make_exec_context(device, "fp32", 1);
    ctx.training = true;
    head = make_transfer_head({7, 7, 512});
    std::vector<float> x(static_cast<size_t>(batch) * 7 * 7 * 512), y(static_cast<size_t>(batch));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(2.0 * uniform01(1, 100, i));
    for (size_t i = 0; i < y.size(); ++i) y[i] = uniform01(1, 101, i) >= 0.5 ? 1.0f : 0.0f;
    features = Tensor::from_vector({batch, 7, 7, 512}, x).to(ctx.device);
    labels = Tensor::from_vector({batch}, y).to(ctx.device);
    dlogits = Tensor({batch, 1}, DType::f32, ctx.device);
    head.to_device(ctx.device);
  }

  double run() { return train_step(head, features, labels, sgd, ctx, dlogits).loss; }

  // Multiply-adds of forward + backward: forward x W1 (N*25088*128) and h W2 (N*128); backward
  // the weight gradients of both and dh (dx of the first Dense is not needed: nothing before it
  // trains). FLOP = 2 x MAC.
  static double flops(int64_t batch) {
    const double n = static_cast<double>(batch), k = 25088, m = 128;
    return 2.0 * (n * k * m + n * m + n * k * m + n * m + n * m);
  }
};

// FLOP of one layer's forward on a batch (2 per multiply-add; bias and ReLU not counted, as is
// usual for convolutions); 0 for layers without arithmetic worth counting (pooling).
inline double forward_flops(const Layer& layer, const Shape& input, const Shape& output) {
  const auto* conv = dynamic_cast<const Conv2D*>(&layer);
  if (!conv) return 0.0;
  const Conv2DConfig& c = conv->config();
  const double macs = static_cast<double>(numel(output)) * c.kernel_h * c.kernel_w *
                      static_cast<double>(input.back());
  return 2.0 * macs;
}

// Wall-clock seconds of f(), for benchmarks timed by hand (state.SetIterationTime).
template <class F>
double seconds_of(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace catdog::bench
