#include "training/batch_source.h"

#include <algorithm>
#include <chrono>

#include "training/run_context.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"  // the copy stream
#endif

namespace catdog {

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int epoch) {
  return shuffled_order(n, seed, 1000 + static_cast<uint64_t>(epoch));
}

namespace {

// The labels of dataset images `indices`, as the loss wants them.
std::vector<float> labels_of(const Dataset& set, const std::vector<int64_t>& indices) {
  std::vector<float> labels;
  labels.reserve(indices.size());
  for (int64_t i : indices) labels.push_back(static_cast<float>(set.images[static_cast<size_t>(i)].label));
  return labels;
}

int64_t batches_of(size_t images, int64_t batch_size) {
  return (static_cast<int64_t>(images) + batch_size - 1) / batch_size;
}

}  // namespace

PipelineBatches::PipelineBatches(const Dataset& train_set, PipelineOptions options,
                                 Preprocess preprocess, int64_t batch_size, uint64_t seed,
                                 Shard shard)
    : train_set_(train_set), options_(std::move(options)), preprocess_(preprocess),
      batch_size_(batch_size), seed_(seed) {
  options_.shuffle = false;  // the pipeline decodes in the order it is given
  options_.share = shard.rank;
  options_.shares = shard.ranks;
}

PipelineBatches::~PipelineBatches() { finish_uploads(); }

void PipelineBatches::finish_uploads() {
#if CATDOG_WITH_CUDA
  if (uploading_) uploading_->host_waits_upload();  // the pinned source is the pipeline's
#endif
  uploading_ = nullptr;
}

int64_t PipelineBatches::start_epoch(int epoch, int64_t first) {
  const std::vector<int64_t> order =
      epoch_order(static_cast<int64_t>(train_set_.images.size()), seed_, epoch);
  Dataset epoch_set;
  epoch_set.root = train_set_.root;
  epoch_set.class_names = train_set_.class_names;
  for (auto i = static_cast<size_t>(std::min<int64_t>(first * batch_size_, order.size()));
       i < order.size(); ++i) {
    epoch_set.images.push_back(train_set_.images[static_cast<size_t>(order[i])]);
  }
  PipelineOptions epoch_options = options_;
  epoch_options.seed = seed_ + static_cast<uint64_t>(epoch) * 7919;  // augmentation draws
  finish_uploads();  // before the pipeline's pinned buffers go
  ahead_ = false;
  pipeline_.reset();  // the previous epoch's workers go before the next ones start
  pipeline_ = std::make_unique<BatchPipeline>(epoch_set, epoch_options);
  pipeline_->start_epoch(epoch);
  wait_seconds_ = 0;
  return batches_of(order.size(), batch_size_);
}

bool PipelineBatches::fetch(ExecContext& ctx) {
  finish_uploads();  // pipeline_->next releases the batch the last upload read from
  const auto wait_start = std::chrono::steady_clock::now();
  const bool got = pipeline_->next(batch_);
  wait_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
  if (!got) return false;
  ahead_labels_ = batch_.labels.to_vector();
#if CATDOG_WITH_CUDA
  if (ctx.on_gpu() && batch_.size > 0) {
    staging_.reuse_as(batch_.images.shape(), DType::u8, Device::cuda);
    ctx.cuda->upload(staging_.raw(), batch_.images.raw(), batch_.images.nbytes());
    uploading_ = ctx.cuda;
  }
#endif
  return true;
}

bool PipelineBatches::next(TrainBatch& batch, ExecContext& ctx) {
  if (!ahead_ && !fetch(ctx)) return false;
  ahead_ = false;
  batch.labels = std::move(ahead_labels_);
  batch.global_rows = batch_.whole_size;
  batch.first_row = batch_.first_row;
  batch.begin = 0;
  if (batch.labels.empty()) {  // this rank's share of the batch is empty
    batch.input = nullptr;
    if (ctx.on_gpu()) ahead_ = fetch(ctx);
    return true;
  }
  if (ctx.on_gpu()) {
#if CATDOG_WITH_CUDA
    ctx.cuda->compute_waits_upload();
#endif
    preprocess_pixels(staging_, preprocess_, ctx, input_);
    ahead_ = fetch(ctx);  // the next batch uploads while the caller's step computes
  } else {
    preprocess_pixels(batch_.images, preprocess_, ctx, input_);
  }
  batch.input = &input_;
  return true;
}

int64_t PipelineBatches::skipped() const { return pipeline_->epoch_stats().skipped; }

BatchSource::Report PipelineBatches::epoch_report() const {
  return {pipeline_->summary_line(), pipeline_->epoch_stats().skipped_files};
}

CachedBatches::CachedBatches(const Dataset& train_set, const FeatureCache& cache, size_t begin,
                             int64_t batch_size, uint64_t seed, int64_t skipped,
                             std::vector<uint8_t> decoded, Shard shard)
    : train_set_(train_set), cache_(cache), begin_(begin), batch_size_(batch_size), seed_(seed),
      skipped_(skipped), decoded_(std::move(decoded)), shard_(shard) {}

int64_t CachedBatches::start_epoch(int epoch, int64_t first) {
  std::vector<int64_t> usable;  // only the images that decoded when the cache was filled
  for (int64_t i : epoch_order(static_cast<int64_t>(train_set_.images.size()), seed_, epoch)) {
    if (decoded_.empty() ? cache_.filled(i) : decoded_[static_cast<size_t>(i)] != 0) {
      usable.push_back(i);
    }
  }
  rest_.assign(usable.begin() + std::min<int64_t>(first * batch_size_, usable.size()),
               usable.end());
  next_ = 0;
  return batches_of(usable.size(), batch_size_);
}

bool CachedBatches::next(TrainBatch& batch, ExecContext& ctx) {
  if (next_ >= rest_.size()) return false;
  const size_t end = std::min(rest_.size(), next_ + static_cast<size_t>(batch_size_));
  std::vector<int64_t> slots;  // this rank's rows of the global batch
  for (size_t i = next_; i < end; ++i) {
    if (shard_.owns(rest_[i])) slots.push_back(rest_[i]);
  }
  batch.global_rows = static_cast<int64_t>(end - next_);
  next_ = end;
  batch.labels = labels_of(train_set_, slots);
  batch.input = nullptr;
  batch.begin = begin_;
  if (slots.empty()) return true;
  cache_.gather(slots, features_, ctx);
  batch.input = &features_;
  return true;
}

}  // namespace catdog
