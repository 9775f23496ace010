// Dense: y = act(x W + b), x (N, K), W (K, M) as Keras stores it, b (M), y (N, M).
// Backward: dz = dy * act'(z); dW = x^T dz; db = sum over the batch of dz; dx = dz W^T.
// CPU: OpenBLAS sgemm. GPU: cuBLAS (row-major here, column-major there: see layers/dense.cu).
//
// A final Dense with a sigmoid can emit logits instead (set_emit_logits), so that the loss can
// apply the sigmoid itself, fused with the cross-entropy, which is exact where the naive
// sigmoid-then-log is not (engine/loss.h).
#pragma once

#include "layers/layer.h"

namespace catdog {

struct DenseConfig {
  int units = 0;
  Activation activation = Activation::linear;
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
};

class Dense : public Layer {
 public:
  Dense(std::string name, DenseConfig config);
  const char* class_name() const override { return "Dense"; }
  Shape output_shape(const Shape& input) const override;
  void build(const Shape& input) override;
  std::vector<Param*> params() override;
  nlohmann::json keras_config() const override;
  const DenseConfig& config() const { return config_; }
  // When true, a sigmoid activation is skipped: forward gives z = x W + b (the logits), and
  // backward expects dL/dz.
  void set_emit_logits(bool emit) { emit_logits_ = emit; }
  bool emit_logits() const { return emit_logits_; }

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
  Activation effective_activation() const;
  DenseConfig config_;
  bool emit_logits_ = false;
  Param kernel_;  // (K, M)
  Param bias_;    // (M)
};

}  // namespace catdog
