// Dropout (inverted, as Keras): when training, each element is kept with probability 1 - rate and
// scaled by 1 / (1 - rate); otherwise y = x. The keep mask is a counter-based hash of
// (seed, step, layer, element index), so it is the same on CPU and GPU and needs no stored state:
// backward recomputes it.
#pragma once

#include "layers/layer.h"

namespace catdog {

class Dropout : public Layer {
 public:
  Dropout(std::string name, float rate);
  const char* class_name() const override { return "Dropout"; }
  Shape output_shape(const Shape& input) const override { return input; }
  bool stochastic() const override { return true; }
  nlohmann::json keras_config() const override;
  float rate() const { return rate_; }
  // Distinguishes the masks of several Dropout layers in one model (set by Sequential::add).
  void set_stream_id(uint64_t id) { stream_id_ = id; }
  uint64_t stream_id() const { return stream_id_; }

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
  float rate_;
  uint64_t stream_id_ = 0;
};

}  // namespace catdog
