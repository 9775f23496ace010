#include "layers/conv2d.h"

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/winograd.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

Padding parse_padding(const std::string& name, const std::string& layer) {
  if (name == "valid") return Padding::valid;
  if (name == "same") return Padding::same;
  fail("layer ", layer, ": unsupported padding '", name, "' (supported: valid, same)");
}

const char* padding_name(Padding padding) { return padding == Padding::same ? "same" : "valid"; }

Conv2D::Conv2D(std::string name, Conv2DConfig config) : Layer(std::move(name)), config_(config) {
  CATDOG_CHECK(config_.filters > 0, "Conv2D layer ", name_, ": filters must be positive, got ",
               config_.filters);
  CATDOG_CHECK(config_.kernel_h > 0 && config_.kernel_w > 0 && config_.stride_h > 0 &&
                   config_.stride_w > 0,
               "Conv2D layer ", name_, ": kernel size and strides must be positive");
}

namespace {

WindowGeometry geometry_of(const Conv2DConfig& c, const Shape& in) {
  return make_window_geometry(in[0], in[1], in[2], in[3], c.kernel_h, c.kernel_w, c.stride_h,
                              c.stride_w, c.padding == Padding::same, c.filters);
}

}  // namespace

Shape Conv2D::output_shape(const Shape& input) const {
  CATDOG_CHECK(input.size() == 4, "Conv2D layer ", name_, ": expected an (N, H, W, C) input, got ",
               to_string(input));
  if (kernel_.value.defined()) {
    CATDOG_CHECK(input[3] == kernel_.value.dim(2), "Conv2D layer ", name_, ": input ",
                 to_string(input), " has ", input[3], " channels but the kernel ",
                 to_string(kernel_.value.shape()), " expects ", kernel_.value.dim(2));
  }
  const WindowGeometry g = geometry_of(config_, input);
  CATDOG_CHECK(g.oh > 0 && g.ow > 0, "Conv2D layer ", name_, ": a ", config_.kernel_h, "x",
               config_.kernel_w, " 'valid' convolution does not fit the input ", to_string(input));
  return {input[0], g.oh, g.ow, config_.filters};
}

void Conv2D::build(const Shape& input) {
  CATDOG_CHECK(input.size() == 4 && input[3] > 0, "Conv2D layer ", name_,
               ": cannot build for input ", to_string(input));
  const int64_t kh = config_.kernel_h, kw = config_.kernel_w, c = input[3], f = config_.filters;
  // Keras' fans for a convolution: receptive field times input (fan_in) or output channels.
  check_param_size(name_, "kernel", {kh, kw, c, f});
  ensure_param(kernel_, "kernel", {kh, kw, c, f}, config_.kernel_initializer, kh * kw * c,
               kh * kw * f);
  if (config_.use_bias) ensure_param(bias_, "bias", {f}, "zeros", 0, 0);
  (void)output_shape(input);
}

std::vector<Param*> Conv2D::params() {
  std::vector<Param*> out;
  if (kernel_.value.defined()) out.push_back(&kernel_);
  if (config_.use_bias && bias_.value.defined()) out.push_back(&bias_);
  return out;
}

nlohmann::json Conv2D::keras_config() const {
  const auto& c = config_;
  json fields = {{"filters", c.filters},
                 {"kernel_size", {c.kernel_h, c.kernel_w}},
                 {"strides", {c.stride_h, c.stride_w}},
                 {"padding", padding_name(c.padding)},
                 {"data_format", "channels_last"},
                 {"dilation_rate", {1, 1}}};
  fields.update(kernel_layer_fields(c.activation, c.use_bias, c.kernel_initializer));
  return keras_layer_json("Conv2D", *this, fields);
}

void Conv2D::weights_changed() {
  cpu_plan_.weights_changed();
#if CATDOG_WITH_CUDA
  gpu_weights_changed();
#endif
}

void Conv2D::forward_cpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  CATDOG_CHECK(kernel_.value.defined(), "Conv2D layer ", name_, ": forward before build");
  y.reuse_as(output_shape(x.shape()), DType::f32, Device::cpu);
  const float* bias = config_.use_bias ? bias_.value.f32() : nullptr;
  const WindowGeometry g = geometry_of(config_, x.shape());
  // --precision bf16 on the CPU is for a frozen layer (a trainable one keeps float32, as on the
  // GPU): the direct bf16 kernel, or Winograd F(4x4) in bf16 where fp32 would run Winograd on a
  // wide layer (layers/cpu_conv_choice.cpp: bf16_conv_algo).
  const bool bf16 = !trainable() && ctx.precision == Precision::bf16;
  CATDOG_CHECK(!bf16 || cpu::direct_math_supported(cpu::DirectMath::bf16_avx512), "Conv2D layer ",
               name_, ": --precision bf16 on the CPU needs AVX512_BF16, which this CPU lacks");
  ConvAlgo algo = cpu_plan_.algo_for(g, ctx.conv_algo, !trainable());
  if (bf16) algo = bf16_conv_algo(g, algo);
  switch (algo) {
    case ConvAlgo::winograd2:
    case ConvAlgo::winograd4: {
      const int m = algo == ConvAlgo::winograd2 ? 2 : 4;
      const cpu::WinogradGemm gemm =
          bf16 ? cpu::WinogradGemm::direct_bf16 : cpu::best_winograd_gemm();
      const cpu::WinogradFilter& u =
          cpu_plan_.winograd_filter(m, kernel_.value.f32(), g.c, g.f, gemm);
      cpu::winograd_forward_nhwc(g, u, x.f32(), bias, config_.activation, y.f32());
      return;
    }
    case ConvAlgo::direct: {
      const cpu::DirectMath math =
          bf16 ? cpu::DirectMath::bf16_avx512 : cpu::best_direct_f32_math();
      const cpu::PackedConvKernel& packed = cpu_plan_.direct_kernel(g, kernel_.value.f32(), math);
      cpu::conv2d_direct_forward_packed(g, x.f32(), packed, bias, config_.activation, y.f32());
      return;
    }
    case ConvAlgo::auto_pick:  // algo_for never answers auto
    case ConvAlgo::im2col: break;
  }
  cpu::conv2d_forward_nhwc(g, x.f32(), kernel_.value.f32(), bias, config_.activation, y.f32(),
                           ctx.im2col_floats);
}

void Conv2D::backward_cpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                          ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == y.shape(), "Conv2D layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  const bool want_params = trainable();
  if (!dx && !want_params) return;
  // dz = dL/d(pre-activation): the fused activation's derivative, from its output.
  Tensor dz = dy;
  if (config_.activation != Activation::linear) {
    dz = Tensor(dy.shape());
    cpu::activation_backward(y.f32(), y.f32(), dy.f32(), dz.f32(), dy.numel(), config_.activation,
                             0.0f, nullptr);
  }
  float* dx_data = nullptr;
  if (dx) {
    dx->reuse_as(x.shape(), DType::f32, Device::cpu);
    dx_data = dx->f32();
  }
  float* dkernel = want_params ? grad_of(kernel_).f32() : nullptr;
  float* dbias = want_params && config_.use_bias ? grad_of(bias_).f32() : nullptr;
  cpu::conv2d_backward_nhwc(geometry_of(config_, x.shape()), x.f32(), kernel_.value.f32(),
                            dz.f32(), dx_data, dkernel, dbias, ctx.im2col_floats);
}

}  // namespace catdog
