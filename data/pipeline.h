// The input pipeline: worker threads decode and resize images into a bounded ring of batch
// buffers; the trainer takes the batches in a fixed order.
//
//   dataset order --(seeded shuffle per epoch)--> positions 0..N-1
//   workers claim positions in order, each decodes + resizes (+ augments) one image into
//   row (position % batch) of the buffer of batch (position / batch)
//   next() hands out batch 0, 1, 2, ... when all their rows are done
//
// So the batches depend only on (dataset, seed, epoch), never on the thread count or timing.
// Workers run at most `prefetch_batches` batches ahead of the consumer (the ring holds one more,
// the batch the consumer is using).
//
// Bad files never stop a run: a file that cannot be decoded is named in a warning (to
// PipelineOptions::warning, else data/log.h's warn()), counted, and its row is filled with the next decodable image in the epoch order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/decode.h"
#include "data/resize.h"
#include "core/tensor.h"

namespace catdog {

struct PipelineOptions {
  int height = 224, width = 224;
  int batch_size = 64;
  int workers = 0;  // 0 = the number of hardware threads
  bool shuffle = true;
  uint64_t seed = 1;
  bool augment = false;  // data/augment.h: shifts 0.1 and horizontal flips, per (seed, epoch, image)
  ResizeMode resize = ResizeMode::nearest;
  bool pinned = false;  // page-locked batch buffers, for asynchronous copies to a GPU
  DecodeOptions decode;
  int prefetch_batches = 4;
  // Data-parallel training (training/data_parallel.h): of each batch of `batch_size` positions,
  // fill only share `share` of `shares`, contiguous rows [share * n / shares, (share + 1) * n /
  // shares) of its n, so that the shares' batches put together are the whole pipeline's. Decode,
  // augmentation and the stand-in for a bad file are those of the whole batch (the stand-in is
  // the next decodable image in the epoch order, whoever's share it is in).
  int share = 0, shares = 1;
  // Where the warnings about unreadable files go; empty: data/log.h's warn(). Called from the
  // worker threads, possibly several at once, so it must be thread-safe.
  std::function<void(const std::string&)> warning;
};

struct Batch {
  Tensor images;                 // uint8 (n, height, width, 3), RGB
  Tensor labels;                 // float32 (n): the class index (0/1 for cats/dogs)
  std::vector<int64_t> indices;  // dataset positions of the images actually in the batch
  int64_t size = 0;              // n; the last batch of an epoch may be short
  // With PipelineOptions::shares: the whole batch's rows, and its row of row 0 here
  // (unshared: n and 0).
  int64_t whole_size = 0;
  int64_t first_row = 0;
};

class BatchPipeline {
 public:
  // Copies what it needs from `dataset` and starts the workers (idle until start_epoch).
  BatchPipeline(const Dataset& dataset, PipelineOptions options);
  ~BatchPipeline();  // stops and joins the workers; never hangs
  BatchPipeline(const BatchPipeline&) = delete;
  BatchPipeline& operator=(const BatchPipeline&) = delete;

  // Begin (or restart) a pass: a seeded shuffle from (seed, epoch) when shuffling, else the
  // dataset order. Work of an unfinished pass is dropped.
  void start_epoch(int epoch);
  // The next batch, or false when the pass is done or cancelled. The batch's tensors stay valid
  // until the following call to next() or start_epoch(). Rethrows a worker's fatal error (e.g.
  // when no image of the dataset can be decoded).
  bool next(Batch& batch);
  int64_t batches_per_epoch() const;

  struct Stats {
    int64_t images = 0;   // images handed out in batches so far this pass
    int64_t skipped = 0;  // files that could not be decoded
    double wait_seconds = 0;  // time next() spent waiting for workers
    std::vector<std::string> skipped_files;  // in epoch order
  };
  Stats epoch_stats() const;  // for the pass in progress or just finished
  // Stats::wait_seconds alone, without copying and sorting the skipped files' names: what a
  // progress bar asks for after every batch.
  double wait_seconds() const;
  std::string summary_line() const;  // exactly "skipped N of M images"

  // Abandon the pass (e.g. a consumer that stops early): workers stop after the image they are
  // on, next() returns false from now on. The trainer does not call it; Ctrl-C stops training
  // between steps, and destroying the pipeline stops the workers as well.
  void cancel();

  struct State;  // data/pipeline.cpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace catdog
