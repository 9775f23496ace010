// FeatureCache: the output of a model's frozen prefix, kept per image.
//
// Frozen layers never change and, without augmentation, an image's pixels never change either,
// so the frozen prefix's output for an image is the same in every epoch. Computing it once and
// keeping it turns epochs 2..N from "decode + the whole network" into "the head only". For
// VGG16 at 224x224 that is 7*7*512 floats = 100 KB an image (1.9 GB for 18,697 images).
//
// Where it lives: device memory when it fits the budget, else host memory (pinned when CUDA is
// used, so gathers still copy fast). A slot is one image (its dataset index).
#pragma once

#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"

namespace catdog {

class FeatureCache {
 public:
  // `slots` images of `feature_shape` (without the batch dimension). On the GPU the cache takes
  // device memory when it needs at most `device_budget` bytes, else pinned host memory.
  FeatureCache(int64_t slots, Shape feature_shape, Device compute_device, size_t device_budget);

  Device storage_device() const { return storage_.device(); }
  size_t bytes() const { return storage_.nbytes(); }
  int64_t slots_count() const { return static_cast<int64_t>(filled_.size()); }
  bool filled(int64_t slot) const { return filled_.at(static_cast<size_t>(slot)) != 0; }
  int64_t filled_count() const;

  // Row r of `batch` (n, feature...) goes to slot slots[r]. `batch` may be on either device;
  // copies run on `cuda`'s compute stream when given.
  void store(const std::vector<int64_t>& slots, const Tensor& batch, CudaContext* cuda = nullptr);
  // out <- rows of the given slots, as (n, feature...) float32 on ctx's device.
  void gather(const std::vector<int64_t>& slots, Tensor& out, ExecContext& ctx) const;

 private:
  Shape feature_shape_;
  Tensor storage_;  // (slots, feature...)
  std::vector<uint8_t> filled_;
};

}  // namespace catdog
