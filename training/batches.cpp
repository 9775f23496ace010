#include "training/batches.h"

#include <cmath>

#include "training/run_context.h"
#include "core/error.h"
#include "engine/loss.h"

namespace catdog {

void upload_vector(const std::vector<float>& values, Tensor& out, ExecContext& ctx) {
  const Shape shape = {static_cast<int64_t>(values.size())};
  out.reuse_as(shape, DType::f32, ctx.device);
  out.copy_from(Tensor::from_vector(shape, values));
}

std::string forward_dataset(Sequential& model, size_t end, const Dataset& dataset,
                            PipelineOptions options, Preprocess preprocess, ExecContext& ctx,
                            const BatchSink& sink, BatchPipeline::Stats* stats,
                            const PassProgress& progress) {
  options.shuffle = false;
  options.augment = false;
  BatchPipeline pipeline(dataset, options);
  pipeline.start_epoch(0);
  Batch batch;
  Tensor staging, input;
  const bool training = ctx.training;
  ctx.training = false;
  int64_t done = 0;
  while (pipeline.next(batch)) {
    make_model_input(batch.images, preprocess, ctx, staging, input);
    const Tensor& output = model.forward(input, ctx, 0, end);
    sink(batch.indices, output);
    done += static_cast<int64_t>(batch.indices.size());
    if (progress) progress(done, pipeline.wait_seconds());
  }
  ctx.training = training;
  if (stats) *stats = pipeline.epoch_stats();
  return pipeline.summary_line();
}

namespace {

// Accumulates loss and accuracy over batches of logits, with engine/loss.h's batch loss on the
// host (a batch is 64 numbers). An image seen twice (the pipeline stands a good image in for an
// unreadable one) counts once.
struct Tally {
  Evaluation result;
  double loss_sum = 0;
  std::vector<uint8_t> seen;

  void add(const Tensor& logits, const std::vector<int64_t>& indices,
           const std::vector<float>& labels) {
    const std::vector<float> z = logits.to_vector();
    CATDOG_CHECK(z.size() == indices.size(), "model output ", to_string(logits.shape()),
                 " for a batch of ", indices.size(), " images: the model must end in Dense(1)");
    std::vector<float> new_z, new_labels;  // the rows of images not seen before
    for (size_t r = 0; r < z.size(); ++r) {
      const auto i = static_cast<size_t>(indices[r]);
      if (i >= seen.size()) seen.resize(i + 1, 0);
      if (seen[i]) continue;
      seen[i] = 1;
      new_z.push_back(z[r]);
      new_labels.push_back(labels[r]);
      result.probabilities.push_back(sigmoid(z[r]));
      result.indices.push_back(indices[r]);
    }
    if (new_z.empty()) return;
    const Shape shape = {static_cast<int64_t>(new_z.size())};
    ExecContext host;
    int64_t correct = 0;
    const double mean = sigmoid_bce_from_logits(Tensor::from_vector(shape, new_z),
                                                Tensor::from_vector(shape, new_labels), nullptr,
                                                &correct, host);
    loss_sum += mean * static_cast<double>(new_z.size());
    result.correct += correct;
    result.count += static_cast<int64_t>(new_z.size());
  }

  Evaluation finish() {
    if (result.count > 0) {
      result.loss = loss_sum / static_cast<double>(result.count);
      result.accuracy = static_cast<double>(result.correct) / static_cast<double>(result.count);
    } else {
      result.loss = result.accuracy = std::nan("");
    }
    return result;
  }
};

}  // namespace

Evaluation evaluate_dataset(Sequential& model, const Dataset& dataset, PipelineOptions options,
                            Preprocess preprocess, ExecContext& ctx,
                            const PassProgress& progress) {
  Tally tally;
  BatchPipeline::Stats stats;
  const std::string summary = forward_dataset(
      model, Sequential::npos, dataset, options, preprocess, ctx,
      [&](const std::vector<int64_t>& indices, const Tensor& logits) {
        std::vector<float> labels;
        for (int64_t i : indices) {
          labels.push_back(static_cast<float>(dataset.images[static_cast<size_t>(i)].label));
        }
        tally.add(logits, indices, labels);
      },
      &stats, progress);
  Evaluation result = tally.finish();
  result.skipped = stats.skipped;
  result.summary = summary;
  return result;
}

Evaluation evaluate_cached(Sequential& model, size_t begin, const FeatureCache& cache,
                           const std::vector<int64_t>& slots, const std::vector<float>& labels,
                           int batch_size, ExecContext& ctx) {
  Tally tally;
  Tensor features;
  const bool training = ctx.training;
  ctx.training = false;
  for (size_t start = 0; start < slots.size(); start += static_cast<size_t>(batch_size)) {
    const size_t stop = std::min(slots.size(), start + static_cast<size_t>(batch_size));
    const std::vector<int64_t> batch_slots(slots.begin() + start, slots.begin() + stop);
    const std::vector<float> batch_labels(labels.begin() + start, labels.begin() + stop);
    cache.gather(batch_slots, features, ctx);
    tally.add(model.forward(features, ctx, begin), batch_slots, batch_labels);
  }
  ctx.training = training;
  return tally.finish();
}

Evaluation evaluate_logits(const std::vector<float>& logits, const std::vector<int64_t>& slots,
                           const std::vector<float>& labels, int batch_size) {
  Tally tally;
  for (size_t start = 0; start < slots.size(); start += static_cast<size_t>(batch_size)) {
    const size_t stop = std::min(slots.size(), start + static_cast<size_t>(batch_size));
    const std::vector<float> z(logits.begin() + start, logits.begin() + stop);
    tally.add(Tensor::from_vector({static_cast<int64_t>(z.size())}, z),
              std::vector<int64_t>(slots.begin() + start, slots.begin() + stop),
              std::vector<float>(labels.begin() + start, labels.begin() + stop));
  }
  return tally.finish();
}

}  // namespace catdog
