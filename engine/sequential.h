// Sequential: the graph executor. A chain of layers run forward and backward in order.
//
// "Frozen means free": the layers before `trainable_begin()` (the frozen prefix: layers that are
// not trainable or have no trainable weights, up to the first one that has them or is stochastic)
// are run with two ping-pong buffers, keep no activations, and get no gradients; backward stops at
// the first trainable layer. The frozen prefix's output depends only on the input image, which is
// what makes the feature cache possible (engine/feature_cache.h).
//
// In the frozen prefix, a linear Conv2D followed by a BatchNormalization runs as one convolution
// with the BN folded into its weights (engine/batch_norm_fold.h), made at the first forward after
// the weights were loaded and remade after weights_changed(). The layers themselves, and so
// saving and `summary`, are untouched.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "layers/layer.h"

namespace catdog {

class Sequential {
 public:
  Sequential() = default;
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;

  void add(std::unique_ptr<Layer> layer);
  // Set the input shape (H, W, C, without the batch) and build every layer's parameters. Throws
  // catdog::Error naming the first layer the shape does not fit.
  void build(const Shape& input_hwc);
  bool built() const { return !input_hwc_.empty(); }
  const Shape& input_shape() const { return input_hwc_; }  // (H, W, C)
  // Output shape of layer i for a batch of n (i = size() - 1 for the model's output).
  Shape layer_output_shape(size_t i, int64_t n) const;

  size_t size() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_[i]; }
  const Layer& layer(size_t i) const { return *layers_[i]; }
  Layer* find(const std::string& name);

  // Index of the first layer backward must reach (the end of the frozen prefix).
  size_t trainable_begin() const;
  // Freeze layers [0, end) (Keras layer.trainable = False).
  void freeze_before(size_t end);

  // Fill every parameter from its initializer, drawing from (seed, t) with t counting the
  // parameters in order (core/random.h).
  void initialize(uint64_t seed);

  // Run layers [begin, end) on x (end = npos: to the last). When training, the activations of the
  // trainable part are kept for backward; the returned tensor is owned by the model and valid
  // until the next forward.
  static constexpr size_t npos = static_cast<size_t>(-1);
  const Tensor& forward(const Tensor& x, ExecContext& ctx, size_t begin = 0, size_t end = npos);
  // Given dL/d(output of the last forward, which must have reached the last layer), write every
  // trainable parameter's gradient. Stops at the first trainable layer (no dx for it).
  void backward(const Tensor& dloss, ExecContext& ctx);

  // Tell the model its parameter values changed (load_weights calls it; so must code that edits a
  // frozen layer's Param values by hand): the batch-norm folds are remade at the next forward.
  void weights_changed() { folds_fresh_ = false; }
  // Fold batch norms into convolutions (on by default); off runs every layer as it is (tests
  // compare the two, benchmarks measure the difference).
  void set_fold_batch_norms(bool on) {
    fold_batch_norms_ = on;
    folds_fresh_ = false;
  }
  // How many BatchNormalization layers the last forward's frozen part ran folded.
  size_t folded_batch_norms() const;

  std::vector<Param*> trainable_params();
  std::vector<Param*> all_params();
  int64_t param_count(bool trainable) const;
  void to_device(Device device);
  Device device() const { return device_; }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::unordered_set<std::string> names_;  // the layers' names, so add() checks in O(1)
  Shape input_hwc_;
  Device device_ = Device::cpu;
  // Forward state: ping-pong buffers for the frozen part; per-layer inputs/outputs for the rest.
  Tensor ping_, pong_;
  std::vector<Tensor> inputs_, outputs_;
  size_t last_begin_ = 0, last_end_ = 0;
  Tensor grad_a_, grad_b_;
  Tensor result_;
  // folded_[i]: the running twin of layers i (a Conv2D) and i + 1 (its BatchNormalization).
  std::vector<std::unique_ptr<Layer>> folded_;
  bool fold_batch_norms_ = true;
  bool folds_fresh_ = false;
  size_t folds_trainable_begin_ = 0;
  void refresh_folds(size_t trainable_begin);
};

}  // namespace catdog
