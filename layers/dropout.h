// Dropout (inverted, as Keras): when training, each element is kept with probability 1 - rate and
// scaled by 1 / (1 - rate); otherwise y = x. The keep mask is a counter-based hash of
// (seed, step, layer, element index), so it is the same on CPU and GPU and needs no stored state:
// backward recomputes it. Computed by the dropout op (kernels/dropout.h) on either device.
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
  // The layer's position in its model keys its masks (stream_id), so that several Dropout layers
  // of one model drop different elements.
  void on_added(size_t index_in_model) override { stream_id_ = index_in_model; }
  uint64_t stream_id() const { return stream_id_; }

 protected:
  // One body for CPU and GPU: the op dispatchers pick the side.
  void forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                           ExecContext& ctx) override;

 private:
  float rate_;
  uint64_t stream_id_ = 0;
};

}  // namespace catdog
