#include "engine/sequential.h"

#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "engine/batch_norm_fold.h"
#if CATDOG_WITH_CUDA
#include "kernels/conv_layout.h"
#endif

namespace catdog {

namespace {

// The element type of the frozen part's activations: reduced precision only on the GPU.
DType frozen_dtype(const ExecContext& ctx) {
  if (!ctx.on_gpu()) return DType::f32;
  if (ctx.precision == Precision::fp16) return DType::f16;
  if (ctx.precision == Precision::bf16) return DType::bf16;
  return DType::f32;
}

// buffer.reuse_as(shape, dtype, device) for what `layer` computes, naming the layer and the shape
// when the memory cannot be had ("out of host memory allocating N bytes" alone says not what for).
void reuse_for(const Layer& layer, const char* what, Tensor& buffer, const Shape& shape,
               DType dtype, Device device) {
  try {
    buffer.reuse_as(shape, dtype, device);
  } catch (const Error& e) {
    fail("layer ", layer.name(), ": its ", what, " of shape ", to_string(shape), " (",
         dtype_name(dtype), "): ", e.what());
  }
}

// dst <- src converted to dst's dtype (same shape). Only the GPU ever holds f16/bf16 tensors.
void convert_into(const Tensor& src, Tensor& dst, ExecContext& ctx) {
  if (src.dtype() == dst.dtype()) {
    dst.copy_from(src, ctx.cuda);
    return;
  }
#if CATDOG_WITH_CUDA
  CATDOG_CHECK(ctx.on_gpu(), "reduced-precision tensors exist only on the GPU");
  cuda::convert_elements(src.raw(), src.dtype(), dst.raw(), dst.dtype(), src.numel(),
                         compute_stream(ctx));
#else
  (void)ctx;
  fail("cannot convert ", dtype_name(src.dtype()), " to ", dtype_name(dst.dtype()),
       " without the CUDA backend");
#endif
}

bool has_trainable_params(Layer& layer) {
  if (!layer.trainable()) return false;
  for (Param* p : layer.params()) {
    if (p->trainable) return true;
  }
  return false;
}

}  // namespace

void Sequential::add(std::unique_ptr<Layer> layer) {
  CATDOG_CHECK(layer != nullptr, "Sequential::add: null layer");
  CATDOG_CHECK(names_.insert(layer->name()).second, "two layers are named '", layer->name(), "'");
  layer->on_added(layers_.size());
  layers_.push_back(std::move(layer));
  input_hwc_.clear();
  folds_fresh_ = false;
}

void Sequential::build(const Shape& input_hwc) {
  CATDOG_CHECK(input_hwc.size() == 3, "model input must be (height, width, channels), got ",
               to_string(input_hwc));
  Shape shape = {1, input_hwc[0], input_hwc[1], input_hwc[2]};
  for (auto& layer : layers_) {
    layer->build(shape);
    shape = layer->output_shape(shape);
  }
  input_hwc_ = input_hwc;
  for (auto& layer : layers_) layer->to_device(device_);
  folds_fresh_ = false;
}

Shape Sequential::layer_output_shape(size_t i, int64_t n) const {
  CATDOG_CHECK(built(), "the model is not built: call build(input shape) first");
  CATDOG_CHECK(i < layers_.size(), "layer index ", i, " of a model with ", layers_.size(), " layers");
  Shape shape = {n, input_hwc_[0], input_hwc_[1], input_hwc_[2]};
  for (size_t k = 0; k <= i; ++k) shape = layers_[k]->output_shape(shape);
  return shape;
}

Layer* Sequential::find(const std::string& name) {
  for (auto& layer : layers_) {
    if (layer->name() == name) return layer.get();
  }
  return nullptr;
}

size_t Sequential::trainable_begin() const {
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i]->stochastic() || has_trainable_params(*layers_[i])) return i;
  }
  return layers_.size();
}

size_t Sequential::folded_batch_norms() const {
  size_t n = 0;
  for (const auto& twin : folded_) n += twin != nullptr;
  return n;
}

void Sequential::refresh_folds(size_t trainable_begin) {
  if (folds_fresh_ && folds_trainable_begin_ == trainable_begin) return;
  folded_.clear();
  folded_.resize(layers_.size());
  folds_fresh_ = true;
  folds_trainable_begin_ = trainable_begin;
  if (!fold_batch_norms_ || !built()) return;
  Shape shape = {1, input_hwc_[0], input_hwc_[1], input_hwc_[2]};
  for (size_t i = 0; i + 1 < trainable_begin; ++i) {
    const auto* conv = dynamic_cast<const Conv2D*>(layers_[i].get());
    const auto* bn = dynamic_cast<const BatchNormalization*>(layers_[i + 1].get());
    if (conv && bn && batch_norm_foldable(*conv, *bn)) {
      folded_[i] = fold_batch_norm(*conv, *bn, shape);
      folded_[i]->to_device(device_);
    }
    shape = layers_[i]->output_shape(shape);
  }
}

void Sequential::freeze_before(size_t end) {
  for (size_t i = 0; i < end && i < layers_.size(); ++i) layers_[i]->set_trainable(false);
}

void Sequential::initialize(uint64_t seed) {
  uint64_t t = 0;
  for (auto& layer : layers_) {
    for (Param* p : layer->params()) {
      Tensor host(p->value.shape());
      float* w = host.f32();
      const int64_t n = host.numel();
      const std::string& init = p->initializer;
      if (init == "zeros" || init == "ones") {
        for (int64_t i = 0; i < n; ++i) w[i] = init == "ones" ? 1.0f : 0.0f;
      } else {
        double limit = 0;
        if (init == "he_uniform") {
          limit = std::sqrt(6.0 / static_cast<double>(p->fan_in));
        } else if (init == "glorot_uniform") {
          limit = std::sqrt(6.0 / static_cast<double>(p->fan_in + p->fan_out));
        } else {
          fail("layer ", layer->name(), ": unsupported initializer '", init, "' for ", p->name);
        }
        for (int64_t i = 0; i < n; ++i) w[i] = uniform_symmetric(seed, t, i, limit);
      }
      p->value = host.to(device_);
      ++t;
    }
    layer->weights_changed();
  }
  folds_fresh_ = false;
}

const Tensor& Sequential::forward(const Tensor& x, ExecContext& ctx, size_t begin, size_t end) {
  if (end == npos) end = layers_.size();
  CATDOG_CHECK(begin <= end && end <= layers_.size(), "forward over layers [", begin, ", ", end,
               ") of a model with ", layers_.size(), " layers");
  CATDOG_CHECK(x.device() == ctx.device, "input on ", device_name(x.device()), ", run on ",
               device_name(ctx.device));
  const size_t tb = trainable_begin();
  refresh_folds(tb);
  if (inputs_.size() != layers_.size()) {
    inputs_.assign(layers_.size(), Tensor());
    outputs_.assign(layers_.size(), Tensor());
  }
  last_begin_ = begin;
  last_end_ = end;

  // The frozen part runs through two recycled buffers; `which` says which one holds `current`
  // (-1: neither, e.g. the caller's input), so each layer writes into the other one.
  Tensor current = x;
  int which = -1;
  const DType low = frozen_dtype(ctx);
  if (begin < std::min(tb, end) && current.dtype() != low) {
    reuse_for(*layers_[begin], "input", ping_, current.shape(), low, ctx.device);
    convert_into(current, ping_, ctx);
    current = ping_;
    which = 0;
  }
  for (size_t i = begin; i < end; ++i) {
    Layer& layer = *layers_[i];
    const Shape out_shape = layer.output_shape(current.shape());
    if (i < tb) {
      if (layer.is_view()) {
        Tensor y;
        layer.forward(current, y, ctx);
        current = y;
        continue;
      }
      Tensor& buffer = which == 0 ? pong_ : ping_;
      which = which == 0 ? 1 : 0;
      reuse_for(layer, "output", buffer, out_shape, low, ctx.device);
      const bool folded = folded_[i] && i + 1 < end;
      (folded ? *folded_[i] : layer).forward(current, buffer, ctx);
      current = buffer;
      if (folded) ++i;  // the BatchNormalization ran inside the fold
      continue;
    }
    if (current.dtype() != DType::f32) {  // leaving a reduced-precision frozen part
      Tensor& buffer = which == 0 ? pong_ : ping_;
      which = which == 0 ? 1 : 0;
      reuse_for(layer, "input", buffer, current.shape(), DType::f32, ctx.device);
      convert_into(current, buffer, ctx);
      current = buffer;
    }
    inputs_[i] = current;
    if (!layer.is_view()) reuse_for(layer, "output", outputs_[i], out_shape, DType::f32, ctx.device);
    layer.forward(current, outputs_[i], ctx);
    current = outputs_[i];
  }
  if (current.dtype() != DType::f32) {  // the caller always gets float32
    Tensor& buffer = which == 0 ? pong_ : ping_;
    buffer.reuse_as(current.shape(), DType::f32, ctx.device);
    convert_into(current, buffer, ctx);
    current = buffer;
  }
  result_ = current;
  return result_;
}

void Sequential::backward(const Tensor& dloss, ExecContext& ctx) {
  CATDOG_CHECK(last_end_ == layers_.size() && last_end_ > 0,
               "backward needs a forward that reached the last layer");
  const size_t tb = std::max(trainable_begin(), last_begin_);
  CATDOG_CHECK(dloss.shape() == result_.shape(), "loss gradient of shape ", to_string(dloss.shape()),
               " for a model output of shape ", to_string(result_.shape()));
  Tensor dy = dloss;
  int which = -1;
  for (size_t i = layers_.size(); i-- > tb;) {
    Layer& layer = *layers_[i];
    const bool need_dx = i > tb;
    if (layer.is_view()) {
      Tensor dx;
      layer.backward(inputs_[i], outputs_[i], dy, need_dx ? &dx : nullptr, ctx);
      if (need_dx) dy = dx;
      continue;
    }
    Tensor* dx = nullptr;
    if (need_dx) {
      Tensor& buffer = which == 0 ? grad_b_ : grad_a_;
      which = which == 0 ? 1 : 0;
      reuse_for(layer, "input gradient", buffer, inputs_[i].shape(), DType::f32, ctx.device);
      dx = &buffer;
    }
    layer.backward(inputs_[i], outputs_[i], dy, dx, ctx);
    if (dx) dy = *dx;
  }
}

std::vector<Param*> Sequential::trainable_params() {
  std::vector<Param*> out;
  for (auto& layer : layers_) {
    if (!layer->trainable()) continue;
    for (Param* p : layer->params()) {
      if (p->trainable) out.push_back(p);
    }
  }
  return out;
}

std::vector<Param*> Sequential::all_params() {
  std::vector<Param*> out;
  for (auto& layer : layers_) {
    for (Param* p : layer->params()) out.push_back(p);
  }
  return out;
}

int64_t Sequential::param_count(bool trainable) const {
  int64_t n = 0;
  for (const auto& layer : layers_) {
    for (const Param* p : static_cast<const Layer&>(*layer).params()) {
      if ((layer->trainable() && p->trainable) == trainable) n += p->value.numel();
    }
  }
  return n;
}

void Sequential::to_device(Device device) {
  device_ = device;
  for (auto& layer : layers_) layer->to_device(device);
  ping_ = pong_ = grad_a_ = grad_b_ = result_ = Tensor();
  folds_fresh_ = false;
  inputs_.clear();
  outputs_.clear();
}

}  // namespace catdog
