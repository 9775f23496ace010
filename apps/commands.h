// The subcommands other than `train` (training/trainer.h), as functions returning an exit code.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "engine/sequential.h"

namespace catdog {

struct EvaluateOptions {
  std::string model_path;   // RUN_DIR/model.h5
  std::string data_dir;     // CLASS_DIR: class folders directly
  std::string device = "auto";
  int batch = 64;
  int workers = 0;
  std::string report;       // a report.html to write (training/report.h); "" = none
};
int run_evaluate(const EvaluateOptions& options, std::ostream& out);

struct PredictOptions {
  std::string model_path;
  std::vector<std::string> images;
  std::string inputs;           // instead of images: a preprocessed (N, H, W, 3) float32 .npy
  std::string device = "auto";
  int batch = 64;
  // The progress bar under the results (count, img/s, ETA), redrawn in place: for a terminal only.
  bool progress_bar = false;
};
int run_predict(const PredictOptions& options, std::ostream& out);

struct ExtractOptions {
  std::string model = "vgg16";  // vgg16 | tiny-darknet | a model_config .json | a Keras 3 .keras
  std::string preprocess;       // caffe | tutorial | scale; "" = the built-in model's own
  std::string weights;          // "" with a .keras model: its own weights
  std::string output;           // FEATURES.npy, (N, H, W, C) float32
  std::vector<std::string> images;
  std::string inputs;           // instead of images: a preprocessed (N, H, W, 3) float32 .npy
  std::string device = "auto";
  std::string precision = "fp32";
  std::string conv_algo = "auto";  // the CPU convolution: auto | im2col | winograd2 | winograd4 | direct
  std::string stop_after;       // a layer name: extract there instead of at the base's end
  int batch = 16;
};
int run_extract(const ExtractOptions& options, std::ostream& out);
// The model extract runs: parsed, built for `input_hwc` (224x224x3 for images), its weights
// loaded, every layer frozen.
Sequential load_extract_model(const ExtractOptions& options, const Shape& input_hwc = {224, 224, 3});

int run_summary(const std::string& model, std::ostream& out);

// explain (apps/explain.cpp): a Grad-CAM overlay (engine/grad_cam.h) per photo, written as
// OUT_DIR/<stem>_gradcam.png, and a line "path  probability  label  -> png" on `out`.
struct ExplainOptions {
  std::string model_path;   // RUN_DIR/model.h5
  std::vector<std::string> images;
  std::string out_dir;
  std::string device = "auto";
  std::string layer;        // "" = the last convolution's (grad_cam_default_layer)
};
int run_explain(const ExplainOptions& options, std::ostream& out);

struct ProfileOptions {
  std::string model = "vgg16";  // a built-in name, a model_config .json or a model.h5
  std::string weights;          // optional: profiling needs no real weights
  std::string device = "auto";
  std::string precision = "fp32";
  std::string conv_algo = "auto";  // the CPU convolution: auto | im2col | winograd2 | winograd4 | direct
  int batch = 64;
  int image_size = 0;           // 0: the model's own
  int repeat = 3;               // timed passes (the median is shown), after one warm-up
  std::string trace_path;       // also write the passes' timeline (core/trace.h)
};
// A per-layer table of forward and backward time, GFLOP/s, bytes moved and % of the device's
// peak (measured first), then one line with the totals (apps/profile.cpp).
int run_profile(const ProfileOptions& options, std::ostream& out);

struct DemoOptions {
  std::string out_dir = "runs/demo";
  int epochs = 6;
  int images_per_class = 240;
  uint64_t seed = 1;
};
int run_demo(const DemoOptions& options, std::ostream& out);

}  // namespace catdog
