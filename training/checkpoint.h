// checkpoint.h5, and what it remembers besides the weights: where training stands, to the step,
// so that `--resume` continues the very run that was stopped (same shuffles, batches, optimizer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "training/model_setup.h"
#include "training/trainer.h"

namespace catdog {

// Where training stands.
struct Progress {
  int epochs_done = 0;        // complete epochs
  int64_t batches_done = 0;   // batches of the current epoch already trained
  double loss_sum = 0;        // over the current epoch's images so far
  int64_t correct = 0, seen = 0;
  double train_seconds = 0, wait_seconds = 0, epoch_seconds = 0;
  uint64_t step = 0;          // global optimizer step (seeds dropout)
  int phase = 1;              // 2 once fine-tuning began (TrainOptions::fine_tune_epochs)
  std::vector<EpochRecord> history;
};

// Keras' training_config: what model.compile() was given, so keras.models.load_model(compile=True)
// rebuilds the loss, metric and optimizer.
std::string training_config_json(const TrainOptions& o);

// checkpoint.h5: the model (Keras full-model layout, so it is also a loadable model), the SGD
// velocities as optimizer_weights, and the training state in catdog_state. Written atomically.
void save_checkpoint(const std::string& path, Sequential& model, const ModelSetup& setup,
                     const TrainOptions& o, const Progress& p);

// Restore from checkpoint.h5: the model (weights through the model loader) into `setup`, the
// velocities, and the options the run started with (model, seed, batch, lr, momentum, augment)
// into `o`. Every value is checked as the command line's are (training/settings.h) and the
// progress fields against each other, naming the file and field; `o.model` (or `o.weights`), when
// set, must be the checkpoint's.
Progress restore_checkpoint(const std::string& path, ModelSetup& setup, TrainOptions& o);

}  // namespace catdog
