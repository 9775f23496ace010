#include "layers/max_pooling2d.h"

#include "core/error.h"
#include "kernels/max_pool2d.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

MaxPooling2D::MaxPooling2D(std::string name, MaxPooling2DConfig config)
    : Layer(std::move(name)), config_(config) {
  CATDOG_CHECK(config_.pool_h > 0 && config_.pool_w > 0 && config_.stride_h > 0 &&
                   config_.stride_w > 0,
               "MaxPooling2D layer ", name_, ": pool size and strides must be positive");
}

namespace {

WindowGeometry geometry_of(const MaxPooling2DConfig& c, const Shape& in) {
  return make_window_geometry(in[0], in[1], in[2], in[3], c.pool_h, c.pool_w, c.stride_h,
                              c.stride_w, c.padding == Padding::same, in[3]);
}

}  // namespace

Shape MaxPooling2D::output_shape(const Shape& input) const {
  CATDOG_CHECK(input.size() == 4, "MaxPooling2D layer ", name_,
               ": expected an (N, H, W, C) input, got ", to_string(input));
  const WindowGeometry g = geometry_of(config_, input);
  CATDOG_CHECK(g.oh > 0 && g.ow > 0, "MaxPooling2D layer ", name_, ": a ", config_.pool_h, "x",
               config_.pool_w, " 'valid' pool does not fit the input ", to_string(input));
  return {input[0], g.oh, g.ow, input[3]};
}

nlohmann::json MaxPooling2D::keras_config() const {
  const auto& c = config_;
  return keras_layer_json("MaxPooling2D", *this,
                          {{"pool_size", {c.pool_h, c.pool_w}},
                           {"padding", padding_name(c.padding)},
                           {"strides", {c.stride_h, c.stride_w}},
                           {"data_format", "channels_last"}});
}

void MaxPooling2D::forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) {
  y.reuse_as(output_shape(x.shape()), x.dtype(), ctx.device);
#if CATDOG_WITH_CUDA
  if (ctx.on_gpu() && config_.padding == Padding::valid) {
    forward_cudnn(x, y, ctx);
    return;
  }
#endif
  max_pool2d_forward(geometry_of(config_, x.shape()), x.raw(), y.raw(), x.dtype(), ctx);
}

void MaxPooling2D::backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy,
                                       Tensor* dx, ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == y.shape(), "MaxPooling2D layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  if (!dx) return;
  dx->reuse_as(x.shape(), DType::f32, ctx.device);
  max_pool2d_backward(geometry_of(config_, x.shape()), x.f32(), dy.f32(), dx->f32(), ctx);
}

}  // namespace catdog
