// Filling a report.html (training/report.h) from what a command has at hand: after `catdog train`
// the last epoch's evaluation of test/, after `catdog evaluate --report FILE` its own. Both are
// per-photo probabilities already computed (no second pass over the photos); only the few most
// confidently wrong photos are decoded again, for their thumbnails and Grad-CAM overlays.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/context.h"
#include "data/dataset.h"
#include "data/resize.h"
#include "training/batches.h"
#include "training/model_setup.h"
#include "training/report.h"
#include "training/trainer.h"

namespace catdog {

// How many of the most confidently wrong photos a report shows.
constexpr size_t kReportMistakes = 8;

// The evaluated photos of `dataset`, in evaluation order: path, label, probability.
std::vector<PhotoPrediction> photo_predictions(const Dataset& dataset, const Evaluation& evaluation);

// The `n` most confidently wrong of `predictions`, each decoded again and resized (`resize`) to
// the model's input as it was evaluated, as JPEG, with its Grad-CAM overlay. A photo that cannot
// be read again gets a note instead of a picture; `setup.model` must end in logits.
std::vector<MistakePhoto> mistake_photos(ModelSetup& setup, const std::vector<PhotoPrediction>& predictions,
                                         size_t n, ResizeMode resize, ExecContext& ctx);

// The Grad-CAM heat of the model's answer for `input` (the preprocessed (1, H, W, 3) batch made
// from `rgb`, (H, W, 3) uint8) laid over `rgb`, as JPEG. Empty, with the reason in *note, when it
// cannot be made; otherwise *note names the layer the heat comes from and *probability is the
// model's p(class 1) for `input` from Grad-CAM's own forward pass.
std::vector<uint8_t> grad_cam_overlay_jpeg(Sequential& model, const Tensor& input,
                                           const uint8_t* rgb, int size, ExecContext& ctx,
                                           std::string* note, float* probability);

// What `catdog train` knows at its end. `last_test` is the final model's evaluation of the test
// photos (null when there is no test/ folder).
struct TrainReportInput {
  const TrainOptions* options = nullptr;
  ModelSetup* setup = nullptr;
  std::vector<std::string> class_names;  // the train/ class folders
  const Dataset* test_set = nullptr;
  const Evaluation* last_test = nullptr;
  const TrainResult* result = nullptr;
  ExecContext* ctx = nullptr;
};
Report train_report(const TrainReportInput& in);

// What `catdog evaluate` knows: the model file, the class folder it evaluated, the evaluation and
// its wall time. The learning curves come from history.csv beside the model, when it is there.
struct EvaluateReportInput {
  std::string model_path, data_dir;
  ModelSetup* setup = nullptr;
  const Dataset* dataset = nullptr;
  const Evaluation* evaluation = nullptr;
  double seconds = 0;
  int batch = 0;
  ExecContext* ctx = nullptr;
};
Report evaluate_report(const EvaluateReportInput& in);

}  // namespace catdog
