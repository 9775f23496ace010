// Layer: the interface every layer kind implements (layers/ has a .h and .cpp per kind, and a .cu
// for the kinds with their own GPU code).
//
// As in Caffe, setup is apart from compute: `output_shape` and `build` run once per input shape;
// `forward`/`backward` run per step. Most layers compute through the op dispatchers of
// kernels/<op>.h, which pick the CPU or CUDA twin from the ExecContext, so they override one body
// for both devices (forward_any_device / backward_any_device). Layers whose GPU path is its own
// code (Conv2D's cuDNN plan, Dense's cuBLAS calls) override forward_cpu / forward_gpu instead.
//
// Shapes exclude nothing: they include the batch dimension, NHWC.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/activation.h"
#include "core/context.h"
#include "core/tensor.h"

namespace catdog {

// A named weight tensor with what training needs beside it.
struct Param {
  std::string name;       // Keras weight name without the layer prefix: "kernel", "bias", "gamma", ...
  Tensor value;
  Tensor grad;            // same shape; written (not accumulated) by backward
  Tensor velocity;        // SGD momentum buffer, created by the optimizer
  bool trainable = true;  // BatchNormalization's moving statistics are not
  // How Sequential::initialize fills it for a model trained from scratch (Keras names):
  // "he_uniform", "glorot_uniform", "zeros" or "ones"; fans are those of the Keras initializer.
  std::string initializer = "zeros";
  int64_t fan_in = 0;
  int64_t fan_out = 0;
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  // The Keras class name ("Conv2D", "MaxPooling2D", ...).
  virtual const char* class_name() const = 0;

  // The output shape for an input shape, or catdog::Error naming the layer and the shape when the
  // input does not fit (wrong rank, too small for a valid convolution, wrong channel count, ...).
  virtual Shape output_shape(const Shape& input) const = 0;
  // Create the parameters for this input shape (as Keras builds lazily). Called once before the
  // first forward; layers without parameters need not override it.
  virtual void build(const Shape& input) { (void)input; }

  // y = f(x). `y` arrives with shape output_shape(x.shape()) on x's device, contents unspecified
  // (tests poison it); a view layer (Flatten) may instead rebind it to a view of x.
  void forward(const Tensor& x, Tensor& y, ExecContext& ctx);
  // Given x, y = f(x) and dL/dy, write dL/dx into *dx (when dx is not null) and each trainable
  // parameter's dL/dw into its Param::grad.
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, ExecContext& ctx);

  // Parameters in Keras weight order (kernel, bias; gamma, beta, moving_mean, moving_variance).
  virtual std::vector<Param*> params() { return {}; }
  std::vector<const Param*> params() const;
  int64_t param_count() const;
  // Move parameters (and any derived copies, such as a GPU kernel layout) to `device`.
  virtual void to_device(Device device);
  // Called after parameter values were replaced (weights loaded, optimizer step on a layer that
  // keeps derived copies). Layers that cache converted weights refresh them here.
  virtual void weights_changed() {}

  // Keras `trainable`. A frozen layer keeps no activations and gets no gradients.
  bool trainable() const { return trainable_; }
  void set_trainable(bool trainable) { trainable_ = trainable; }
  // Dropout: behaves differently when training, so its output cannot be cached.
  virtual bool stochastic() const { return false; }
  // Flatten: output is a view of the input.
  virtual bool is_view() const { return false; }
  // Called by Sequential::add with the layer's position in the model (0 for the first). Dropout
  // keys its masks on it, so that two Dropout layers of one model drop different elements.
  virtual void on_added(size_t index_in_model) { (void)index_in_model; }

  // This layer as a Keras layer config: {"class_name": ..., "config": {...}} (for model.h5).
  virtual nlohmann::json keras_config() const = 0;

 protected:
  // One body for both devices (ctx.device says which). The defaults call forward_cpu or
  // forward_gpu (backward_cpu or backward_gpu) by ctx.device.
  virtual void forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx);
  virtual void backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                                   ExecContext& ctx);
  // Separate paths per device. The defaults throw "no CPU/GPU implementation for <class>";
  // a layer overrides these or the *_any_device pair.
  virtual void forward_cpu(const Tensor& x, Tensor& y, ExecContext& ctx);
  virtual void backward_cpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                            ExecContext& ctx);
  virtual void forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx);
  virtual void backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                            ExecContext& ctx);

  std::string name_;
  bool trainable_ = true;
  // What the GPU implementation keeps between steps (cuDNN descriptors, the chosen algorithm, a
  // converted copy of the weights). Owned and typed by the layer's .cu file.
  std::shared_ptr<void> gpu_state_;
};

}  // namespace catdog
