// Running a model over a whole dataset in batches: the frozen prefix for the feature cache and
// `extract`, and the full model for validation, `evaluate` and `predict`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/pipeline.h"
#include "engine/feature_cache.h"
#include "engine/sequential.h"
#include "kernels/preprocess.h"

namespace catdog {

// Forward layers [0, end) over every image of `dataset`, in dataset order, calling
// sink(dataset indices, output batch) once per batch (the output is valid during the call only).
// Returns the pipeline's summary line ("skipped N of M images").
// `progress`, when set, is called after each batch with the images done so far (of the dataset's
// size) and the seconds spent waiting for decoded data.
using BatchSink = std::function<void(const std::vector<int64_t>& indices, const Tensor& output)>;
using PassProgress = std::function<void(int64_t done, double wait_seconds)>;
std::string forward_dataset(Sequential& model, size_t end, const Dataset& dataset,
                            PipelineOptions options, Preprocess preprocess, ExecContext& ctx,
                            const BatchSink& sink, BatchPipeline::Stats* stats = nullptr,
                            const PassProgress& progress = {});

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  int64_t count = 0;      // images evaluated
  int64_t correct = 0;
  int64_t skipped = 0;    // images that could not be decoded
  std::string summary;    // "skipped N of M images"
  std::vector<int64_t> indices;        // dataset index of each evaluated image
  std::vector<float> probabilities;    // p(second class) for each
};

// Mean sigmoid + BCE and accuracy of a model whose last layer emits logits, over the dataset.
Evaluation evaluate_dataset(Sequential& model, const Dataset& dataset, PipelineOptions options,
                            Preprocess preprocess, ExecContext& ctx,
                            const PassProgress& progress = {});

// The same on cached features: layers [begin, end) on the cached frozen outputs of `slots`.
Evaluation evaluate_cached(Sequential& model, size_t begin, const FeatureCache& cache,
                           const std::vector<int64_t>& slots, const std::vector<float>& labels,
                           int batch_size, ExecContext& ctx);

// The evaluation of precomputed logits (one per slot), tallied in batches of `batch_size` as
// evaluate_cached tallies its own (training/data_parallel.h assembles them over the ranks).
Evaluation evaluate_logits(const std::vector<float>& logits, const std::vector<int64_t>& slots,
                           const std::vector<float>& labels, int batch_size);

// Put a host float32 vector on ctx's device as a (n) tensor, reusing `out`'s memory.
void upload_vector(const std::vector<float>& values, Tensor& out, ExecContext& ctx);

}  // namespace catdog
