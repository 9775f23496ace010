#include "training/data_parallel.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "engine/train_step.h"
#include "kernels/cpu/parallel.h"  // set_cpu_threads
#include "training/nccl_ranks.h"   // the GPU ranks' sum

namespace catdog {

Dataset shard_of(const Dataset& dataset, Shard shard, std::vector<int64_t>& dataset_index) {
  Dataset part;
  part.root = dataset.root;
  part.class_names = dataset.class_names;
  dataset_index.clear();
  for (size_t i = 0; i < dataset.images.size(); ++i) {
    if (!shard.owns(static_cast<int64_t>(i))) continue;
    part.images.push_back(dataset.images[i]);
    dataset_index.push_back(static_cast<int64_t>(i));
  }
  return part;
}

std::vector<uint8_t> decoded_on_any_rank(const FeatureCache& cache, Ranks& ranks) {
  std::vector<float> filled(static_cast<size_t>(cache.slots_count()));
  for (int64_t i = 0; i < cache.slots_count(); ++i) filled[static_cast<size_t>(i)] = cache.filled(i);
  // Ranks can finish their shares far apart (another host, another load), so this first
  // exchange after the extraction waits much longer than a step's.
  ranks.sum(filled, "the exchange of which images decoded", 100 * collective_timeout());
  std::vector<uint8_t> decoded(filled.size());
  for (size_t i = 0; i < filled.size(); ++i) decoded[i] = filled[i] > 0;
  return decoded;
}

void share_cores_among_local_ranks(Ranks& ranks, int& workers) {
  if (ranks.local_size() <= 1) return;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int share = std::max(1, cores / ranks.local_size());
  if (!std::getenv("CATDOG_THREADS")) cpu::set_cpu_threads(share);
  if (workers == 0) workers = share;
}

#if CATDOG_WITH_CUDA  // compute_stream exists only with the CUDA backend
namespace {

// With NCCL (training/nccl_ranks.h): each gradient summed in place on the GPUs, on the compute
// stream, every rank's scaled by its share inside NCCL's pre-multiplied sum.
void sum_gradients_with_nccl(const std::vector<Param*>& params, int64_t rows, float share,
                             Ranks& ranks, ExecContext& ctx) {
  std::vector<DeviceFloats> buffers;
  for (Param* p : params) {
    if (rows == 0 || !p->grad.defined() || p->grad.shape() != p->value.shape()) {
      p->grad = Tensor::zeros(p->value.shape(), DType::f32, Device::cuda);  // no rows: adds 0
    }
    buffers.push_back({p->grad.f32(), static_cast<size_t>(p->grad.numel())});
  }
  nccl_ranks(ranks).sum(buffers, share, compute_stream(ctx), "the gradient sum of a training step",
                        collective_timeout());
}

}  // namespace
#endif

void sum_gradients(const std::vector<Param*>& params, int64_t rows, float share, Ranks& ranks,
                   ExecContext& ctx) {
#if CATDOG_WITH_CUDA
  if (ctx.on_gpu() && nccl_built()) {
    sum_gradients_with_nccl(params, rows, share, ranks, ctx);
    return;
  }
#endif
  std::vector<float> gradients;
  for (const Param* p : params) {
    if (rows == 0) {
      gradients.resize(gradients.size() + static_cast<size_t>(p->value.numel()), 0.0f);
      continue;
    }
    for (const float g : p->grad.to_vector(ctx.cuda)) gradients.push_back(g * share);
  }
  ranks.sum(gradients, "the gradient sum of a training step", collective_timeout());
  size_t at = 0;
  for (Param* p : params) {
    const auto n = static_cast<size_t>(p->value.numel());
    const Tensor total = Tensor::from_vector(
        p->value.shape(), std::vector<float>(gradients.begin() + static_cast<std::ptrdiff_t>(at),
                                             gradients.begin() + static_cast<std::ptrdiff_t>(at + n)));
    if (!p->grad.defined() || p->grad.shape() != p->value.shape()) {
      p->grad = total.to(p->value.device(), ctx.cuda);
    } else {
      p->grad.copy_from(total, ctx.cuda);
    }
    at += n;
  }
}

ParallelStepResult data_parallel_step(Sequential& model, const TrainBatch& batch,
                                      Tensor& labels_device, SGD& sgd, ExecContext& ctx,
                                      Tensor& dlogits, Ranks& ranks, bool stop_wanted) {
  const auto rows = static_cast<int64_t>(batch.labels.size());
  ParallelStepResult result;
  if (ranks.size() == 1) {
    upload_vector(batch.labels, labels_device, ctx);
    const StepResult r = train_step(model, *batch.input, labels_device, sgd, ctx, dlogits, batch.begin);
    return {r.loss, r.correct, rows, stop_wanted};
  }
  StepResult mine;
  if (rows > 0) {
    upload_vector(batch.labels, labels_device, ctx);
    ctx.first_row = batch.first_row;
    mine = compute_gradients(model, *batch.input, labels_device, ctx, dlogits, batch.begin);
    ctx.first_row = 0;
  }
  // dL/dw of this rank's mean loss, scaled to its share of the global batch's mean.
  const float share = static_cast<float>(rows) / static_cast<float>(batch.global_rows);
  sum_gradients(model.trainable_params(), rows, share, ranks, ctx);
  apply_gradients(model, sgd, ctx);

  std::vector<double> tally = {mine.loss * static_cast<double>(rows),
                               static_cast<double>(mine.correct), stop_wanted ? 1.0 : 0.0};
  ranks.sum(tally, "the loss sum of a training step", collective_timeout());
  result.images = batch.global_rows;
  result.loss = tally[0] / static_cast<double>(batch.global_rows);
  result.correct = static_cast<int64_t>(tally[1]);
  result.stop = tally[2] > 0;
  return result;
}

Evaluation evaluate_cached_on_ranks(Sequential& model, size_t begin, const FeatureCache& cache,
                                    const std::vector<int64_t>& slots,
                                    const std::vector<float>& labels, int batch_size,
                                    ExecContext& ctx, Ranks& ranks) {
  if (ranks.size() == 1) {
    return evaluate_cached(model, begin, cache, slots, labels, batch_size, ctx);
  }
  const Shard shard = ranks.shard();
  std::vector<size_t> positions;  // where this rank's slots sit in `slots`
  for (size_t j = 0; j < slots.size(); ++j) {
    if (shard.owns(slots[j])) positions.push_back(j);
  }
  std::vector<float> logits(slots.size(), 0.0f);
  Tensor features;
  const bool training = ctx.training;
  ctx.training = false;
  for (size_t start = 0; start < positions.size(); start += static_cast<size_t>(batch_size)) {
    const size_t stop = std::min(positions.size(), start + static_cast<size_t>(batch_size));
    std::vector<int64_t> batch_slots;
    for (size_t k = start; k < stop; ++k) batch_slots.push_back(slots[positions[k]]);
    cache.gather(batch_slots, features, ctx);
    const std::vector<float> z = model.forward(features, ctx, begin).to_vector(ctx.cuda);
    CATDOG_CHECK(z.size() == batch_slots.size(), "model output of ", z.size(), " values for ",
                 batch_slots.size(), " images: the model must end in Dense(1)");
    for (size_t k = start; k < stop; ++k) logits[positions[k]] = z[k - start];
  }
  ctx.training = training;
  ranks.sum(logits, "the validation logits", collective_timeout());
  return evaluate_logits(logits, slots, labels, batch_size);
}

Evaluation evaluate_dataset_on_ranks(Sequential& model, const Dataset& dataset,
                                     const PipelineOptions& options, Preprocess preprocess,
                                     ExecContext& ctx, Ranks& ranks) {
  if (ranks.size() == 1) return evaluate_dataset(model, dataset, options, preprocess, ctx);
  std::vector<int64_t> dataset_index;
  const Dataset shard = shard_of(dataset, ranks.shard(), dataset_index);
  // Per image of `dataset`: its logit at [i], and at [n + i] 1 where it decoded on this rank.
  const size_t n = dataset.images.size();
  std::vector<float> found(2 * n, 0.0f);
  if (!shard.images.empty()) {
    forward_dataset(model, Sequential::npos, shard, options, preprocess, ctx,
                    [&](const std::vector<int64_t>& indices, const Tensor& logits) {
                      const std::vector<float> z = logits.to_vector(ctx.cuda);
                      CATDOG_CHECK(z.size() == indices.size(), "model output of ", z.size(),
                                   " values for ", indices.size(),
                                   " images: the model must end in Dense(1)");
                      for (size_t r = 0; r < z.size(); ++r) {
                        const auto i = static_cast<size_t>(dataset_index[static_cast<size_t>(indices[r])]);
                        found[i] = z[r];
                        found[n + i] = 1.0f;
                      }
                    });
  }
  // The shards take about as long, but a loaded host can put them far apart (as extraction).
  ranks.sum(found, "the validation logits", 100 * collective_timeout());
  std::vector<float> logits, labels;
  std::vector<int64_t> slots;
  for (size_t i = 0; i < n; ++i) {
    if (found[n + i] == 0.0f) continue;
    logits.push_back(found[i]);
    slots.push_back(static_cast<int64_t>(i));
    labels.push_back(static_cast<float>(dataset.images[i].label));
  }
  Evaluation result = evaluate_logits(logits, slots, labels, options.batch_size);
  result.skipped = static_cast<int64_t>(n - slots.size());
  result.summary = cat("skipped ", result.skipped, " of ", n, " images");
  return result;
}

}  // namespace catdog
