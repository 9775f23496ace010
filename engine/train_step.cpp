#include "engine/train_step.h"

#include "core/error.h"
#include "engine/loss.h"
#include "layers/dense.h"

namespace catdog {

namespace {

Dense* last_dense(Sequential& model) {
  return dynamic_cast<Dense*>(&model.layer(model.size() - 1));
}

}  // namespace

void end_in_logits(Sequential& model) {
  Dense* last = last_dense(model);
  CATDOG_CHECK(last && last->config().units == 1 &&
                   last->config().activation == Activation::sigmoid,
               "the model must end in Dense(1, sigmoid) for binary cross-entropy; its last layer is ",
               model.layer(model.size() - 1).name());
  last->set_emit_logits(true);
}

StepResult compute_gradients(Sequential& model, const Tensor& input, const Tensor& labels,
                             ExecContext& ctx, Tensor& dlogits, size_t begin) {
  ctx.training = true;
  const Tensor& logits = model.forward(input, ctx, begin);
  dlogits.reuse_as(logits.shape(), DType::f32, ctx.device);
  StepResult result;
  result.loss = sigmoid_bce_from_logits(logits, labels, &dlogits, &result.correct, ctx);
  model.backward(dlogits, ctx);
  return result;
}

void apply_gradients(Sequential& model, SGD& sgd, ExecContext& ctx) {
  sgd.step(model.trainable_params(), ctx);
  for (size_t i = model.trainable_begin(); i < model.size(); ++i) model.layer(i).weights_changed();
  ++ctx.step;
}

StepResult train_step(Sequential& model, const Tensor& input, const Tensor& labels, SGD& sgd,
                      ExecContext& ctx, Tensor& dlogits, size_t begin) {
  const StepResult result = compute_gradients(model, input, labels, ctx, dlogits, begin);
  apply_gradients(model, sgd, ctx);
  return result;
}

}  // namespace catdog
