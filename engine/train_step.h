// One optimisation step of a model that ends in Dense(1, sigmoid), the same for the trainer and
// for the tests that check training against references:
//   forward (logits) -> sigmoid + BCE from logits (engine/loss.h) -> backward through the
//   trainable layers -> SGD with momentum (engine/sgd.h) -> weights_changed() -> ++ctx.step.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"
#include "engine/sequential.h"
#include "engine/sgd.h"

namespace catdog {

// Makes the model's last layer, which must be Dense(1, sigmoid), emit logits: the loss then
// applies the sigmoid fused with the cross-entropy, which stays finite for any logit.
// Throws catdog::Error naming the last layer otherwise.
void end_in_logits(Sequential& model);

struct StepResult {
  double loss = 0;      // mean sigmoid + BCE over the batch, before the update
  int64_t correct = 0;  // predictions (z >= 0 <=> p >= 0.5) equal to the label
};

// One step on a batch: `input` is the input of layer `begin` (0: images; the frozen prefix's
// output when training from the feature cache), `labels` (N) float 0/1 on ctx's device.
// `dlogits` is the step's gradient buffer, kept by the caller so steady-state steps allocate
// nothing. Sets ctx.training and advances ctx.step (which seeds dropout).
StepResult train_step(Sequential& model, const Tensor& input, const Tensor& labels, SGD& sgd,
                      ExecContext& ctx, Tensor& dlogits, size_t begin = 0);

// train_step in its two halves, for data-parallel training (training/data_parallel.h), which sums
// the ranks' gradients in between: forward, loss and backward (each trainable Param's grad holds
// dL/dw of this batch's mean loss), then the SGD update, weights_changed() and ++ctx.step.
StepResult compute_gradients(Sequential& model, const Tensor& input, const Tensor& labels,
                             ExecContext& ctx, Tensor& dlogits, size_t begin = 0);
void apply_gradients(Sequential& model, SGD& sgd, ExecContext& ctx);

}  // namespace catdog
