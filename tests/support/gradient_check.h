// Central finite differences over a Layer, for checking backward against forward.
//
// The loss is a random projection of the output, L(x, w) = sum_i r_i * y_i, computed in double
// (so the only float error is the layer's own). Its analytic gradients come from one backward with
// dy = r; its numeric ones from (L(v + h) - L(v - h)) / 2h per checked coordinate v of the input
// and of every trainable parameter.
//
// Kinks: where a perturbation moves an output across ReLU's kink, the difference quotient is
// meaningless. The checker detects it (the set of exactly-zero outputs differs between v - h, v
// and v + h), retries with a step ten times smaller, and otherwise skips that coordinate; a test
// fails if more than a quarter of the coordinates of one tensor had to be skipped. Max-pool ties
// cannot be detected this way: tests keep every window's values at least 2h apart instead.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/context.h"
#include "layers/layer.h"

namespace catdog::test {

struct GradientCheckOptions {
  double step = 1e-2;         // h
  double rtol = 2e-3;         // relative to the larger of the two gradients
  double atol_fraction = 5e-4;  // plus this fraction of the largest analytic gradient of the tensor
  int max_coords = 40;        // coordinates checked per tensor (all when it has fewer)
  uint64_t seed = 1;          // for r and for the choice of coordinates
  bool check_input = true;    // check dL/dx (false: only the parameters)
  ExecContext ctx;            // CPU, inference unless a test says otherwise
};

// y = layer(x) on the CPU, into a buffer poisoned with NaN first (so a layer that leaves part of
// its output unwritten fails the comparison).
Tensor forward_poisoned(Layer& layer, const Tensor& x, ExecContext ctx = {});

// EXPECT that f throws catdog::Error whose message contains every one of `parts` (the layer's
// name, the shape at fault, ...).
void expect_error_mentions(const std::function<void()>& f, const std::vector<std::string>& parts);

// Fill every parameter of a built layer with uniform values in [lo, hi) (seeded per parameter).
void randomize_params(Layer& layer, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

// Runs forward and backward of the (built) layer at x and EXPECTs every checked gradient to match.
// Returns how many coordinates were compared in all (so a test can also assert it checked some).
int check_gradients(Layer& layer, const Tensor& x, const GradientCheckOptions& options = {});

}  // namespace catdog::test
