// Data-parallel transfer learning over the ranks of training/distributed.h, so that N ranks
// follow the trajectory of one process (docs/DISTRIBUTED.md):
//
//   extraction  each rank runs the frozen base on its strided shard of the images (the costly
//               part, and the part that scales); its feature cache holds only that shard.
//   a step      the global batch is the one a single process would take (epoch_order over the
//               images that decoded on any rank; without the cache, the pipeline's batch, of
//               which each rank decodes and augments a contiguous share of rows, as one process
//               would: PipelineOptions::shares); each rank takes the rows it owns, computes
//               dL/dw of their mean loss, scales it by rows / global rows, and sum() adds the
//               ranks' gradients in rank order: the gradient of the global batch's mean loss,
//               bit-identical on every rank, so the SGD update keeps the replicas identical.
//   validation  each rank computes the logits of its shard of test/ (from the cache, or decoded
//               from the files); sum() assembles them (every other rank contributes 0 there) and
//               the loss and accuracy follow as in one process.
//
// Against one process the result differs only by float reassociation (the sum of the scaled
// shares instead of one GEMM over the batch). With one rank every function here is the plain
// single-process code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "data/dataset.h"
#include "engine/feature_cache.h"
#include "engine/sequential.h"
#include "engine/sgd.h"
#include "training/batch_source.h"
#include "training/batches.h"
#include "training/distributed.h"
#include "training/train_observer.h"

namespace catdog {

// The images of `dataset` that `shard` owns, in dataset order; dataset_index[i] is where image i
// of the result sits in `dataset` (the feature cache's slot).
Dataset shard_of(const Dataset& dataset, Shard shard, std::vector<int64_t>& dataset_index);

// One slot per image: 1 where the image decoded on some rank (its features are in that rank's
// cache). Each rank passes its own cache; all get the same answer.
std::vector<uint8_t> decoded_on_any_rank(const FeatureCache& cache, Ranks& ranks);

struct ParallelStepResult {
  double loss = 0;      // mean sigmoid + BCE over the global batch, before the update
  int64_t correct = 0;  // over the global batch
  int64_t images = 0;   // the global batch's rows
  bool stop = false;    // some rank asked to stop after this step
};

// Each parameter's gradient <- the sum over the ranks of share * that rank's gradient (`rows`:
// this rank's rows of the batch; with none its gradient counts as 0). On GPUs through NCCL
// (training/nccl_ranks.h) when catdog has it, else through host memory and Ranks::sum.
void sum_gradients(const std::vector<Param*>& params, int64_t rows, float share, Ranks& ranks,
                   ExecContext& ctx);

// One optimisation step of the global batch (this rank's share in `batch`); `stop_wanted` is
// this rank's wish, and the answer's `stop` is every rank's, agreed at this step.
ParallelStepResult data_parallel_step(Sequential& model, const TrainBatch& batch,
                                      Tensor& labels_device, SGD& sgd, ExecContext& ctx,
                                      Tensor& dlogits, Ranks& ranks, bool stop_wanted);

// evaluate_cached over the ranks: each forwards the slots it owns, the logits are summed into
// every rank's copy, and the evaluation is that of one process (batches of `batch_size`).
Evaluation evaluate_cached_on_ranks(Sequential& model, size_t begin, const FeatureCache& cache,
                                    const std::vector<int64_t>& slots,
                                    const std::vector<float>& labels, int batch_size,
                                    ExecContext& ctx, Ranks& ranks);

// evaluate_dataset over the ranks: each decodes and forwards its strided shard of `dataset`, the
// logits are summed into every rank's copy, and the evaluation is that of one process (batches
// of options.batch_size, in dataset order).
Evaluation evaluate_dataset_on_ranks(Sequential& model, const Dataset& dataset,
                                     const PipelineOptions& options, Preprocess preprocess,
                                     ExecContext& ctx, Ranks& ranks);

// Ranks on one host share its cores: unless $CATDOG_THREADS says otherwise, each rank's CPU
// kernels get cores / (ranks on this host) threads, and so do its decode workers when
// `workers` is 0 (one per core). Nothing changes with one rank.
void share_cores_among_local_ranks(Ranks& ranks, int& workers);

// The observer of rank 0 shows everything (the step's figures are the global batch's already);
// the other ranks show nothing but still hear a stop request (Ctrl-C reaches every rank).
class RootObserver : public TrainObserver {
 public:
  RootObserver(TrainObserver& inner, Ranks& ranks) : inner_(inner), root_(ranks.is_root()) {}
  void say(const std::string& line) override {
    if (root_) inner_.say(line);
  }
  void on_epoch_begin(int epoch, int epochs, int64_t steps) override {
    if (root_) inner_.on_epoch_begin(epoch, epochs, steps);
  }
  void on_step(const StepProgress& progress) override {
    if (root_) inner_.on_step(progress);
  }
  void on_epoch_end() override {
    if (root_) inner_.on_epoch_end();
  }
  void on_pass_begin(const std::string& what, int64_t images) override {
    if (root_) inner_.on_pass_begin(what, images);
  }
  void on_pass_progress(int64_t done, double wait_seconds) override {
    if (root_) inner_.on_pass_progress(done, wait_seconds);
  }
  void on_pass_end() override {
    if (root_) inner_.on_pass_end();
  }
  bool stop_requested() override { return inner_.stop_requested(); }

 private:
  TrainObserver& inner_;
  bool root_;
};

}  // namespace catdog
