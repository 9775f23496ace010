#include "engine/layer.h"

#include "engine/error.h"

namespace catdog {

Activation parse_activation(const std::string& name, const std::string& layer) {
  if (name == "linear" || name.empty()) return Activation::linear;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  fail("layer ", layer, ": unsupported activation '", name, "' (supported: linear, relu, sigmoid)");
}

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::linear: return "linear";
    case Activation::relu: return "relu";
    case Activation::sigmoid: return "sigmoid";
  }
  return "?";
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::fp16: return "fp16";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  if (name == "fp16") return Precision::fp16;
  if (name == "bf16") return Precision::bf16;
  fail("unknown precision '", name, "' (expected fp32, tf32, fp16 or bf16)");
}

void Layer::forward(const Tensor& x, Tensor& y, ExecContext& ctx) {
  CATDOG_CHECK(x.device() == ctx.device, "layer ", name_, ": input is on ", device_name(x.device()),
               " but the run is on ", device_name(ctx.device));
  if (ctx.on_gpu()) {
    forward_gpu(x, y, ctx);
  } else {
    forward_cpu(x, y, ctx);
  }
}

void Layer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                     ExecContext& ctx) {
  if (ctx.on_gpu()) {
    backward_gpu(x, y, dy, dx, ctx);
  } else {
    backward_cpu(x, y, dy, dx, ctx);
  }
}

void Layer::forward_gpu(const Tensor&, Tensor&, ExecContext&) {
  fail("layer ", name_, ": no GPU implementation for ", class_name());
}

void Layer::backward_gpu(const Tensor&, const Tensor&, const Tensor&, Tensor*, ExecContext&) {
  fail("layer ", name_, ": no GPU implementation of backward for ", class_name());
}

std::vector<const Param*> Layer::params() const {
  auto mutable_params = const_cast<Layer*>(this)->params();
  return {mutable_params.begin(), mutable_params.end()};
}

int64_t Layer::param_count() const {
  int64_t n = 0;
  for (const Param* p : params()) n += p->value.numel();
  return n;
}

void Layer::to_device(Device device) {
  for (Param* p : params()) {
    if (p->value.defined()) p->value = p->value.to(device);
    if (p->grad.defined()) p->grad = p->grad.to(device);
    if (p->velocity.defined()) p->velocity = p->velocity.to(device);
  }
  weights_changed();
}

}  // namespace catdog
