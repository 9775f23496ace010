#include "engine/feature_cache.h"

#include "core/error.h"

namespace catdog {

namespace {

std::vector<int64_t> first_rows(size_t n) {  // 0, 1, ..., n - 1: a batch's rows in order
  std::vector<int64_t> rows(n);
  for (size_t r = 0; r < n; ++r) rows[r] = static_cast<int64_t>(r);
  return rows;
}

}  // namespace

FeatureCache::FeatureCache(int64_t slots, Shape feature_shape, Device compute_device,
                           size_t device_budget)
    : feature_shape_(std::move(feature_shape)) {
  CATDOG_CHECK(slots >= 0, "feature cache with ", slots, " slots");
  Shape shape = {slots};
  shape.insert(shape.end(), feature_shape_.begin(), feature_shape_.end());
  const size_t bytes = static_cast<size_t>(numel(shape)) * sizeof(float);
  const bool on_device = compute_device == Device::cuda && bytes <= device_budget;
  storage_ = Tensor(shape, DType::f32, on_device ? Device::cuda : Device::cpu,
                    /*pinned=*/compute_device == Device::cuda);
  filled_.assign(static_cast<size_t>(slots), 0);
}

int64_t FeatureCache::filled_count() const {
  int64_t n = 0;
  for (uint8_t f : filled_) n += f;
  return n;
}

void FeatureCache::store(const std::vector<int64_t>& slots, const Tensor& batch,
                         CudaContext* cuda) {
  CATDOG_CHECK(batch.dtype() == DType::f32 && batch.rank() >= 1 &&
                   batch.dim(0) == static_cast<int64_t>(slots.size()) &&
                   batch.numel() == batch.dim(0) * numel(feature_shape_),
               "feature cache: a batch of shape ", to_string(batch.shape()), " for ", slots.size(),
               " images of features ", to_string(feature_shape_));
  for (const int64_t s : slots) {
    CATDOG_CHECK(s >= 0 && s < slots_count(), "feature cache slot ", s, " of ", slots_count());
  }
  copy_rows(storage_, slots, batch, first_rows(slots.size()), cuda);  // one synchronisation for the whole batch
  for (const int64_t s : slots) filled_[static_cast<size_t>(s)] = 1;
}

void FeatureCache::gather(const std::vector<int64_t>& slots, Tensor& out, ExecContext& ctx) const {
  Shape shape = {static_cast<int64_t>(slots.size())};
  shape.insert(shape.end(), feature_shape_.begin(), feature_shape_.end());
  out.reuse_as(shape, DType::f32, ctx.device);
  for (const int64_t s : slots) {
    CATDOG_CHECK(s >= 0 && s < slots_count() && filled_[static_cast<size_t>(s)],
                 "feature cache slot ", s, " is empty");
  }
  copy_rows(out, first_rows(slots.size()), storage_, slots, ctx.cuda);  // one synchronisation for the whole batch
}

}  // namespace catdog
