#include "training/run_report.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/device.h"            // cuda_device_description
#include "core/duration.h"          // human_duration
#include "core/error.h"
#include "data/decode.h"            // read_file_bytes, decode_image_memory_into
#include "data/encode_jpeg.h"       // the thumbnails
#include "engine/grad_cam.h"        // the overlays
#include "training/model_summary.h" // model_summary_text
#include "training/run_context.h"   // make_model_input
#include "training/run_files.h"     // read_history_csv

namespace fs = std::filesystem;

namespace catdog {

namespace {

constexpr int kThumbnailQuality = 90;

std::string fixed(const char* fmt, double value) {
  char text[64];
  std::snprintf(text, sizeof text, fmt, value);
  return text;
}

std::string where_it_ran(const ExecContext& ctx) {
  if (!ctx.on_gpu()) return device_name(ctx.device);
  return cat(device_name(ctx.device), " (", cuda_device_description(), ", frozen part in ",
             precision_name(ctx.precision), ")");
}

}  // namespace

std::vector<PhotoPrediction> photo_predictions(const Dataset& dataset, const Evaluation& evaluation) {
  std::vector<PhotoPrediction> out;
  out.reserve(evaluation.indices.size());
  for (size_t i = 0; i < evaluation.indices.size(); ++i) {
    const LabeledImage& image = dataset.images.at(static_cast<size_t>(evaluation.indices[i]));
    out.push_back({image.path, image.label, evaluation.probabilities.at(i)});
  }
  return out;
}

std::vector<uint8_t> grad_cam_overlay_jpeg(Sequential& model, const Tensor& input,
                                           const uint8_t* rgb, int size, ExecContext& ctx,
                                           std::string* note, float* probability) {
  size_t layer = 0;
  try {
    layer = grad_cam_default_layer(model);
  } catch (const Error& e) {
    *note = cat("Grad-CAM overlay: not available (", e.what(), ")");
    return {};
  }
  const GradCamResult cam = grad_cam(model, input, layer, ctx);
  *probability = cam.probability;
  *note = cat("Grad-CAM at ", cam.layer, " (", cam.height, "x", cam.width, ")");
  const std::vector<uint8_t> overlay = grad_cam_overlay(rgb, size, size, cam);
  return encode_jpeg(overlay.data(), size, size, JpegInput::rgb, kThumbnailQuality);
}

std::vector<MistakePhoto> mistake_photos(ModelSetup& setup, const std::vector<PhotoPrediction>& predictions,
                                         size_t n, ResizeMode resize, ExecContext& ctx) {
  const int size = setup.image_size;
  std::vector<MistakePhoto> out;
  std::vector<uint8_t> bytes;
  Image image;
  Tensor pixels({1, size, size, 3}, DType::u8), staging, input;
  const bool training = ctx.training;
  ctx.training = false;
  for (const size_t i : most_confident_mistakes(predictions, n)) {
    MistakePhoto photo;
    photo.prediction = predictions[i];
    try {
      read_file_bytes(photo.prediction.path, bytes);
      decode_image_memory_into(bytes.data(), bytes.size(), photo.prediction.path, DecodeOptions{},
                               image);
    } catch (const Error& e) {
      photo.photo_note = cat("could not be read again: ", e.what());
      photo.overlay_note = "no Grad-CAM without the photo";
      out.push_back(std::move(photo));
      continue;
    }
    resize_rgb(image, size, size, resize, pixels.u8());
    photo.photo_jpeg = encode_jpeg(pixels.u8(), size, size, JpegInput::rgb, kThumbnailQuality);
    make_model_input(pixels, setup.preprocess, ctx, staging, input);
    photo.overlay_jpeg = grad_cam_overlay_jpeg(setup.model, input, pixels.u8(), size, ctx,
                                               &photo.overlay_note, &photo.recomputed_probability);
    out.push_back(std::move(photo));
  }
  ctx.training = training;
  return out;
}

Report train_report(const TrainReportInput& in) {
  const TrainOptions& o = *in.options;
  ModelSetup& setup = *in.setup;
  const TrainResult& result = *in.result;
  Report r;
  r.title = "catdog train: " + setup.name;
  r.class_names = in.class_names;
  r.history = result.history;
  r.history_note = result.history.empty() ? "no epoch finished" : "";
  const auto started = std::chrono::steady_clock::now();
  if (in.last_test) {
    r.predictions = photo_predictions(*in.test_set, *in.last_test);
    r.predictions_source = cat(o.data_dir, "/test, the model after epoch ",
                               result.history.empty() ? 0 : result.history.back().epoch);
    r.mistakes = mistake_photos(setup, r.predictions, kReportMistakes, parse_resize_mode(o.resize),
                                *in.ctx);
  } else {
    r.history_note = "no test/ folder: the curves show training only";
  }
  const double photo_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.settings = {{"run directory", o.out_dir},
                {"data", o.data_dir},
                {"model", cat(setup.name, " (--model ", o.model, ")")},
                {"pretrained weights", o.weights.empty() ? "none" : o.weights},
                {"epochs", cat(o.epochs)},
                {"batch", cat(o.batch)},
                {"learning rate", cat(o.lr)},
                {"momentum", cat(o.momentum)},
                {"input", cat(setup.image_size, "x", setup.image_size, ", resize ", o.resize,
                              ", preprocess ", preprocess_name(setup.preprocess))},
                {"device", where_it_ran(*in.ctx)},
                {"seed", cat(o.seed)},
                {"augment", o.augment ? "on" : "off"},
                {"feature cache", result.used_feature_cache ? "on" : "off"},
                {"classes", cat(r.class_names.at(0), "=0, ", r.class_names.at(1), "=1")}};
  double train_seconds = 0;
  for (const EpochRecord& e : result.history) train_seconds += e.seconds;
  if (result.used_feature_cache) {
    r.timings.push_back({"frozen base, once per image (feature cache)",
                         human_duration(result.extract_seconds)});
  }
  r.timings.push_back({cat("epochs (", result.history.size(), ", validation included)"),
                       human_duration(train_seconds)});
  if (!result.history.empty()) {
    r.timings.push_back({"last epoch, training images/s",
                         fixed("%.1f", result.history.back().images_per_second)});
    r.timings.push_back({"last epoch, time waiting for decoded data",
                         fixed("%.0f%%", 100 * result.history.back().wait_fraction)});
  }
  r.timings.push_back({cat("thumbnails and Grad-CAM of ", r.mistakes.size(), " photos"),
                       human_duration(photo_seconds)});
  r.timings.push_back({"skipped (unreadable) images", cat(result.skipped_images)});
  r.model_summary = model_summary_text(setup);
  return r;
}

Report evaluate_report(const EvaluateReportInput& in) {
  ModelSetup& setup = *in.setup;
  const Evaluation& e = *in.evaluation;
  Report r;
  r.title = "catdog evaluate: " + in.model_path;
  r.class_names = in.dataset->class_names;
  const fs::path history = fs::path(in.model_path).parent_path() / "history.csv";
  if (fs::exists(history)) {
    try {
      r.history = read_history_csv(history.string());
      r.history_note = cat("the training run's curves, from ", history.string());
      if (r.history.empty()) r.history_note = history.string() + " has no epochs";
    } catch (const Error& error) {
      r.history_note = error.what();
    }
  } else {
    r.history_note = cat("there is no history.csv beside ", in.model_path);
  }
  r.predictions = photo_predictions(*in.dataset, e);
  r.predictions_source = in.data_dir;
  const auto started = std::chrono::steady_clock::now();
  r.mistakes = mistake_photos(setup, r.predictions, kReportMistakes, ResizeMode::nearest, *in.ctx);
  const double photo_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.settings = {{"model file", in.model_path},
                {"model", setup.name},
                {"data", in.data_dir},
                {"input", cat(setup.image_size, "x", setup.image_size, ", resize nearest",
                              ", preprocess ", preprocess_name(setup.preprocess))},
                {"device", where_it_ran(*in.ctx)},
                {"batch", cat(in.batch)},
                {"classes", cat(r.class_names.at(0), "=0, ", r.class_names.at(1), "=1")},
                {"loss", fixed("%.6f", e.loss)},
                {"accuracy", fixed("%.6f", e.accuracy)}};
  r.timings = {{cat("evaluation of ", e.count, " photos"), human_duration(in.seconds)},
               {"images/s", fixed("%.1f", e.count / std::max(in.seconds, 1e-9))},
               {cat("thumbnails and Grad-CAM of ", r.mistakes.size(), " photos"),
                human_duration(photo_seconds)},
               {"skipped (unreadable) images", cat(e.skipped)}};
  r.model_summary = model_summary_text(setup);
  return r;
}

}  // namespace catdog
