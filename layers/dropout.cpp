#include "layers/dropout.h"

#include "core/error.h"
#include "kernels/conv_layout.h"
#include "kernels/dropout.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

Dropout::Dropout(std::string name, float rate) : Layer(std::move(name)), rate_(rate) {
  CATDOG_CHECK(rate_ >= 0.0f && rate_ < 1.0f, "Dropout layer ", name_,
               ": rate must be in [0, 1), got ", rate_);
}

nlohmann::json Dropout::keras_config() const {
  return keras_layer_json("Dropout", *this,
                          {{"rate", rate_}, {"noise_shape", nullptr}, {"seed", nullptr}});
}

namespace {
// dst = src (same shape and dtype). On the GPU a same-type convert_elements queued on the compute
// stream, so the identity does not wait for the GPU as Tensor::copy_from does.
void copy_on(const Tensor& src, Tensor& dst, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream) { dst.copy_from(src); },
      [&](Stream s) {
        cuda::convert_elements(src.raw(), src.dtype(), dst.raw(), dst.dtype(), src.numel(), s);
      });
}

// The whole batch's flat index of x's element 0: x holds rows from ctx.first_row on (a
// data-parallel rank's share), so the masks are those one process draws for these rows.
uint64_t first_index(const Tensor& x, const ExecContext& ctx) {
  const int64_t row = x.dim(0) > 0 ? x.numel() / x.dim(0) : 0;
  return static_cast<uint64_t>(ctx.first_row * row);
}
}  // namespace

// Inference, or a rate of 0: the identity (a copy, since y is its own buffer).
void Dropout::forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) {
  y.reuse_as(x.shape(), x.dtype(), ctx.device);
  if (!ctx.training || rate_ == 0.0f) {
    copy_on(x, y, ctx);
    return;
  }
  CATDOG_CHECK(x.dtype() == DType::f32, "Dropout layer ", name_, ": training needs float32, got ",
               dtype_name(x.dtype()));
  dropout_forward(x.f32(), y.f32(), x.numel(), rate_, ctx.seed, stream_id_, ctx.step,
                  first_index(x, ctx), ctx);
}

void Dropout::backward_any_device(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                                  ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == x.shape(), "Dropout layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an input of shape ", to_string(x.shape()));
  if (!dx) return;
  dx->reuse_as(x.shape(), DType::f32, ctx.device);
  if (!ctx.training || rate_ == 0.0f) {
    copy_on(dy, *dx, ctx);
    return;
  }
  dropout_backward(dy.f32(), dx->f32(), dy.numel(), rate_, ctx.seed, stream_id_, ctx.step,
                   first_index(x, ctx), ctx);
}

}  // namespace catdog
