// Where the trainer's batches come from, chosen once per run: decoded images from the pipeline
// (PipelineBatches), or the frozen base's cached outputs (CachedBatches, engine/feature_cache.h).
// Either way an epoch visits the training images in epoch_order(n, seed, epoch), so cached and
// uncached training see the same batches, and a resumed run the batches it had left.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "data/dataset.h"
#include "data/pipeline.h"
#include "engine/feature_cache.h"
#include "kernels/preprocess.h"
#include "training/distributed.h"

namespace catdog {

// The order in which epoch `epoch` visits n items: shuffled_order (data/dataset.h) on stream
// 1000 + epoch, which keeps shuffles apart from the weight streams. The same in cached and
// uncached training, and on resume.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int epoch);

struct TrainBatch {
  const Tensor* input = nullptr;  // on ctx's device: the input of layer `begin`
  size_t begin = 0;               // 0: model input; the frozen prefix's end: cached features
  std::vector<float> labels;      // one 0/1 label per row
  // The rows of the whole batch over all ranks; this rank's share is labels.size() of them
  // (and may be none: input is then unset).
  int64_t global_rows = 0;
  // The whole batch's row of this rank's row 0 where its rows are contiguous in it (the
  // pipeline's shares); 0 from the cache, whose rows are the rank's strided shard.
  int64_t first_row = 0;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Start epoch `epoch` at its batch `first` (> 0 when resuming mid-epoch). Returns the epoch's
  // number of batches, counting the ones before `first`.
  virtual int64_t start_epoch(int epoch, int64_t first) = 0;
  // The next batch, valid until the following call; false when the epoch has no more.
  virtual bool next(TrainBatch& batch, ExecContext& ctx) = 0;
  // Seconds next() spent waiting for decoded data since start_epoch.
  virtual double wait_seconds() const = 0;
  // Images that could not be decoded: in this epoch's pass, or for the cache, when it was filled.
  virtual int64_t skipped() const = 0;
  // After the epoch: the pipeline's summary line ("skipped N of M images") and the files it
  // skipped; the cache has nothing to add.
  struct Report {
    std::string summary;
    std::vector<std::string> skipped_files;
  };
  virtual Report epoch_report() const = 0;
};

// Decodes the epoch's images with a BatchPipeline and preprocesses them on ctx's device. Over
// several ranks (training/data_parallel.h) each rank decodes only its share of every batch:
// contiguous rows, as even as can be (PipelineOptions::shares). On a GPU
// the batch after the one returned is already travelling: next() fetches it from the pipeline
// (pinned host memory) and queues its upload on the copy stream before it returns, so the copy
// overlaps the step the caller then runs on the compute stream (CudaContext::upload).
class PipelineBatches : public BatchSource {
 public:
  // `options.shuffle` is ignored (epoch_order shuffles); `options.seed` seeds the augmentation.
  PipelineBatches(const Dataset& train_set, PipelineOptions options, Preprocess preprocess,
                  int64_t batch_size, uint64_t seed, Shard shard = {});
  ~PipelineBatches() override;
  PipelineBatches(const PipelineBatches&) = delete;
  PipelineBatches& operator=(const PipelineBatches&) = delete;
  int64_t start_epoch(int epoch, int64_t first) override;
  bool next(TrainBatch& batch, ExecContext& ctx) override;
  double wait_seconds() const override { return wait_seconds_; }
  int64_t skipped() const override;
  Report epoch_report() const override;

 private:
  const Dataset& train_set_;
  PipelineOptions options_;
  Preprocess preprocess_;
  int64_t batch_size_;
  uint64_t seed_;
  // Takes the pipeline's next batch into batch_ (false at the epoch's end); on a GPU also queues
  // its upload into staging_. Either way its labels go to ahead_labels_.
  bool fetch(ExecContext& ctx);
  void finish_uploads();  // the host waits for an upload still in flight

  std::unique_ptr<BatchPipeline> pipeline_;
  Batch batch_;
  Tensor staging_, input_;
  bool ahead_ = false;               // batch_ (and on a GPU staging_) holds the next batch
  std::vector<float> ahead_labels_;
  CudaContext* uploading_ = nullptr; // the context of an upload that may be in flight
  double wait_seconds_ = 0;
};

// Gathers the cached frozen outputs of the epoch's images (those that decoded when the cache was
// filled) into a batch on ctx's device.
class CachedBatches : public BatchSource {
 public:
  // `skipped`: the images (train and test) that did not decode when the caches were filled.
  // Over several ranks (training/data_parallel.h) each rank's cache holds only its shard's
  // features: `decoded` then says which images decoded on any rank (they make the global
  // batches, as one process would), and a batch's rows are those of them this rank owns.
  CachedBatches(const Dataset& train_set, const FeatureCache& cache, size_t begin,
                int64_t batch_size, uint64_t seed, int64_t skipped,
                std::vector<uint8_t> decoded = {}, Shard shard = {});
  int64_t start_epoch(int epoch, int64_t first) override;
  bool next(TrainBatch& batch, ExecContext& ctx) override;
  double wait_seconds() const override { return 0; }
  int64_t skipped() const override { return skipped_; }
  Report epoch_report() const override { return {}; }

 private:
  const Dataset& train_set_;
  const FeatureCache& cache_;
  size_t begin_;
  int64_t batch_size_;
  uint64_t seed_;
  int64_t skipped_;
  std::vector<uint8_t> decoded_;  // empty: the cache's own filled slots
  Shard shard_;
  std::vector<int64_t> rest_;  // the epoch's slots from the first batch still to train on
  size_t next_ = 0;
  Tensor features_;
};

}  // namespace catdog
