// Per-layer timing of a model's forward and backward pass (`catdog profile`), and the measured
// peak of the device it runs on, for llm.c-style "% of peak" figures.
//
// profile_layers runs the model as training does (Sequential::forward with ctx.training, then
// Sequential::backward from a gradient of ones: the frozen prefix forward only, the trainable
// layers both ways), with the model's own buffers, and times every layer's pass through
// ExecContext::layer_observer. On the GPU the observer waits for the device before and after
// each pass, so a layer's time is its own (and launches are not overlapped as in training).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/context.h"
#include "engine/layer_cost.h"
#include "engine/sequential.h"

namespace catdog {

struct LayerTiming {
  std::string name, class_name;
  Shape output;             // with the batch
  bool backward = false;    // trainable part: backward ran and was timed
  double forward_ms = 0;    // median over the timed passes
  double backward_ms = 0;
  LayerCost cost;           // engine/layer_cost.h, at the element size the layer computed in
};

// One warm-up pass, then `repeat` timed ones, on a batch of `batch` pseudo-random inputs.
std::vector<LayerTiming> profile_layers(Sequential& model, int64_t batch, ExecContext& ctx,
                                        int repeat);

struct DevicePeak {
  double flops_per_second = 0;  // a GEMM-shaped 1x1 Conv2D (OpenBLAS / cuDNN), ctx's precision
  double bytes_per_second = 0;  // a large copy, bytes read + written per second
  std::string gemm, copy;       // what was measured: "1024x1024x1024", "256 MiB memcpy"
};

// Measured now on ctx's device, best of 3 after a warm-up: a 1024^3 GEMM on the CPU, 8192^3
// on the GPU; a 256 MiB memcpy on one CPU thread, a 1 GiB copy on the GPU.
DevicePeak measure_peak(ExecContext& ctx);

}  // namespace catdog
