// The trainer: `catdog train` as a function (the tests and benchmarks call it too).
//
// One step, following the data (docs/how-it-works.md walks it with the math):
//   JPEG bytes -> decode -> resize -> uint8 batch (data/pipeline.h)
//   -> preprocess on the compute device (training/run_context.h), or the feature cache's
//      frozen outputs instead (both: training/batch_source.h)
//   -> engine/train_step.h: forward to logits -> sigmoid + BCE from logits -> backward through
//      the head -> SGD with momentum
//   -> metrics, reported to a TrainObserver (training/train_observer.h).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "training/train_observer.h"

namespace catdog {

struct TrainOptions {
  std::string data_dir;           // holds train/<class>/ and test/<class>/
  std::string model = "vgg16";    // vgg16 | tiny-darknet | vgg1 | vgg2 | vgg3 | vgg3-dropout
  std::string weights;            // pretrained base (.h5), for vgg16 and tiny-darknet
  std::string out_dir = "runs/latest";
  int epochs = 10;
  int batch = 64;
  int image_size = 0;             // 0: the model's own (224 pretrained, 200 baselines)
  float lr = 0.001f;
  float momentum = 0.9f;
  std::string device = "auto";    // auto | cpu | cuda
  std::string precision = "fp32"; // fp32 | tf32 | fp16 | bf16 (the frozen part, on the GPU)
  std::string conv_algo = "auto"; // the CPU convolution: auto | im2col | winograd2 | winograd4 | direct
  uint64_t seed = 1;
  bool augment = false;
  std::string cache_features = "auto";  // auto | on | off
  bool resume = false;
  int workers = 0;                // decode threads; 0 = one per core
  std::string resize = "nearest"; // nearest (Keras) | bilinear | area
  // caffe | tutorial | scale; "" = the model's own (caffe for the pretrained bases, which matches
  // their weights; the Keras tutorial's code centres RGB on the ImageNet mean: tutorial).
  std::string preprocess;
  size_t max_device_memory = 0;   // bytes; 0 = no cap
  bool validate = true;           // evaluate on test/ after each epoch
  // The tutorial's last step: train on train/ and test/ together, with no validation, and save
  // final_model.h5 (a model for `predict`, with no held-out accuracy).
  bool final_fit = false;
  // Fine-tuning (training/fine_tune.h). With fine_tune_epochs > 0, `epochs` head epochs with the
  // base frozen (phase 1) are followed by fine_tune_epochs epochs (phase 2) that also train the
  // base from `trainable_from` ("" = the base's default cut) at fine_tune_lr, with fresh momentum.
  // With fine_tune_epochs == 0 and trainable_from set, the layers from it train from the start.
  std::string trainable_from;
  int fine_tune_epochs = 0;
  float fine_tune_lr = 1e-5f;     // training/fine_tune.h: kDefaultFineTuneLr
  // Stop (as a TrainObserver's stop request does: checkpoint, then return) once this many steps
  // ran in this call; < 0 = never. For tests of interrupted training.
  int64_t stop_after_steps = -1;
  // Write the run's timeline (decode workers, batches, steps, layers, copies) to this Chrome
  // Trace Event Format file when the run ends (training/trace_file.h); "" = no trace.
  std::string trace_path;
};

struct EpochRecord {
  int epoch = 0;                  // 1-based
  double loss = 0, accuracy = 0;  // training, averaged over the epoch's images
  double val_loss = 0, val_accuracy = 0;  // on test/ (NaN when not validated)
  double seconds = 0;             // wall time of the epoch (training + validation)
  double images_per_second = 0;   // training images / training time
  double wait_fraction = 0;       // share of the training time spent waiting for decoded data
  int phase = 1;                  // 2: fine-tuning (TrainOptions::fine_tune_epochs)
};

struct TrainResult {
  std::vector<EpochRecord> history;  // every epoch so far, resumed ones included
  bool interrupted = false;          // stopped by Ctrl-C or stop_after_steps; a checkpoint exists
  bool used_feature_cache = false;
  int64_t skipped_images = 0;        // files that could not be decoded (train + test, last pass)
  double extract_seconds = 0;        // time spent filling the feature cache (both phases)
  std::string model_path;            // out_dir/model.h5
};

// Trains, writing out_dir/{model.h5 (final_model.h5 with final_fit), checkpoint.h5, history.csv, curves.png, train.log}.
// Progress goes to `observer`, which can also ask the run to stop (it then checkpoints and
// returns with `interrupted`). Throws catdog::Error on anything the run cannot continue from.
TrainResult train(const TrainOptions& options, TrainObserver& observer);

// The same, printing the run's lines (no progress bar) to `out`.
TrainResult train(const TrainOptions& options, std::ostream& out);

}  // namespace catdog
