// MaxPooling2D over NHWC: y[n, i, j, c] = max over the pool window of x. 'valid' drops the
// remainder; 'same' pads with -infinity (OH = ceil(H / SH)), as TensorFlow does. Backward routes
// dy to the (first) maximum of each window.
#pragma once

#include "layers/layer.h"
#include "layers/conv2d.h"  // Padding

namespace catdog {

struct MaxPooling2DConfig {
  int pool_h = 2, pool_w = 2;
  int stride_h = 2, stride_w = 2;
  Padding padding = Padding::valid;
};

class MaxPooling2D : public Layer {
 public:
  MaxPooling2D(std::string name, MaxPooling2DConfig config);
  const char* class_name() const override { return "MaxPooling2D"; }
  Shape output_shape(const Shape& input) const override;
  nlohmann::json keras_config() const override;
  const MaxPooling2DConfig& config() const { return config_; }

 protected:
  // One body for CPU and GPU (the max_pool2d op, kernels/max_pool2d.h), except that a 'valid'
  // forward on the GPU goes through cuDNN (layers/max_pooling2d.cu).
  void forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                           ExecContext& ctx) override;
#if CATDOG_WITH_CUDA
  void forward_cudnn(const Tensor& x, Tensor& y, ExecContext& ctx);
#endif

 private:
  MaxPooling2DConfig config_;
};

}  // namespace catdog
