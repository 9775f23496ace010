// Conv2D: 2-D convolution over NHWC input with an HWIO kernel (as Keras stores it), optional bias
// and a fused activation (linear or relu).
//   x (N, H, W, C) * kernel (KH, KW, C, F) + bias (F) -> y (N, OH, OW, F)
// Padding 'valid' (OH = floor((H - KH) / SH) + 1) or 'same' (OH = ceil(H / SH), zeros split as
// TensorFlow does: the extra one at the bottom/right). CPU: the forward by the algorithm
// layers/cpu_conv_choice.h picks per shape: the direct convolution (kernels/cpu/conv_direct.h,
// from a kernel packed once and repacked after weights_changed; in bf16 under --precision bf16),
// Winograd (kernels/cpu/winograd.h) or im2col + GEMM (kernels/cpu/conv2d.h); the backward is
// im2col's. GPU: cuDNN (layers/conv2d.cu).
#pragma once

#include "layers/cpu_conv_choice.h"
#include "layers/layer.h"

namespace catdog {

namespace cpu {
struct PackedConvKernel;
}

enum class Padding : uint8_t { valid, same };
Padding parse_padding(const std::string& name, const std::string& layer);  // throws
const char* padding_name(Padding padding);

struct Conv2DConfig {
  int filters = 0;
  int kernel_h = 3, kernel_w = 3;
  int stride_h = 1, stride_w = 1;
  Padding padding = Padding::valid;
  bool use_bias = true;
  Activation activation = Activation::linear;
  std::string kernel_initializer = "glorot_uniform";
};

class Conv2D : public Layer {
 public:
  Conv2D(std::string name, Conv2DConfig config);
  const char* class_name() const override { return "Conv2D"; }
  Shape output_shape(const Shape& input) const override;
  void build(const Shape& input) override;
  std::vector<Param*> params() override;
  nlohmann::json keras_config() const override;
  const Conv2DConfig& config() const { return config_; }
  // How many times the GPU path converted the kernel to cuDNN's layout (float32 or reduced
  // precision): once for a frozen layer, once per step for a trainable one. For tests.
  int64_t kernel_conversions() const { return kernel_conversions_; }
  // The CPU forward's algorithm choice, Winograd filter transforms and packed direct kernel.
  const CpuConvPlan& cpu_plan() const { return cpu_plan_; }
  void weights_changed() override;  // the packed, converted and transformed kernels are stale

 protected:
  void forward_cpu(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_cpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                    ExecContext& ctx) override;
#if CATDOG_WITH_CUDA
  void forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                    ExecContext& ctx) override;
#endif

 private:
  Conv2DConfig config_;
  Param kernel_;  // (KH, KW, C, F)
  Param bias_;    // (F), absent when !use_bias
  int64_t kernel_conversions_ = 0;
  CpuConvPlan cpu_plan_;
#if CATDOG_WITH_CUDA
  void gpu_weights_changed();  // layers/conv2d.cu
#endif
};

}  // namespace catdog
