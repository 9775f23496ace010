#include "apps/commands.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/progress.h"
#include "training/batches.h"
#include "training/model_setup.h"
#include "training/model_summary.h"
#include "training/run_context.h"
#include "training/run_report.h"
#include "training/trainer.h"
#include "data/photo_batch.h"
#include "data/synth.h"
#include "engine/builtin_models.h"
#include "core/error.h"
#include "engine/loss.h"
#include "engine/model_config.h"
#include "engine/train_step.h"
#include "layers/dense.h"
#include "weights/keras_h5.h"
#include "weights/npy.h"
#include "core/one_line.h"

namespace fs = std::filesystem;

namespace catdog {

namespace {

// predict and evaluate read one probability per image (of the second class): the model must end
// in Dense(1, sigmoid); anything else (Dense(2)) would print numbers that mean nothing.
void require_one_probability(Sequential& model, const std::string& model_path) {
  try {
    end_in_logits(model);
  } catch (const Error& e) {
    fail(model_path, ": ", e.what());
  }
}

}  // namespace

int run_evaluate(const EvaluateOptions& o, std::ostream& out) {
  ModelSetup setup = load_trained_model(o.model_path);
  require_one_probability(setup.model, o.model_path);
  const Dataset dataset = scan_dataset(o.data_dir);
  CATDOG_CHECK(dataset.class_names.size() == 2, o.data_dir, " has ", dataset.class_names.size(),
               " class folders; the binary classifier is evaluated on exactly 2");
  ExecContext ctx = make_exec_context(o.device, "fp32", 1);
  setup.model.to_device(ctx.device);
  PipelineOptions pipe;
  pipe.height = pipe.width = setup.image_size;
  pipe.batch_size = o.batch;
  pipe.workers = o.workers;
  pipe.pinned = ctx.on_gpu();
  ProgressBar bar(out, "evaluate", static_cast<int64_t>(dataset.images.size()),
                  is_terminal(out));
  const Evaluation e = evaluate_dataset(
      setup.model, dataset, pipe, setup.preprocess, ctx, [&](int64_t done, double wait_seconds) {
        const double elapsed = std::max(bar.elapsed_seconds(), 1e-9);
        bar.update(done, throughput_metrics(done / elapsed, wait_seconds / elapsed));
      });
  bar.finish();
  out << "images: " << e.count << " (" << dataset.class_names[0] << "=0, "
      << dataset.class_names[1] << "=1)\n";
  out << "correct: " << e.correct << "\n";
  out << e.summary << "\n";
  char line[128];
  std::snprintf(line, sizeof line, "loss: %.6f\naccuracy: %.6f\n", e.loss, e.accuracy);
  out << line;
  if (!o.report.empty()) {
    EvaluateReportInput in;
    in.model_path = o.model_path;
    in.data_dir = o.data_dir;
    in.setup = &setup;
    in.dataset = &dataset;
    in.evaluation = &e;
    in.seconds = bar.elapsed_seconds();
    in.batch = o.batch;
    in.ctx = &ctx;
    write_report_html(o.report, evaluate_report(in));
    out << "Report written to " << o.report << "\n";
  }
  return e.count > 0 ? 0 : 1;
}

int run_predict(const PredictOptions& o, std::ostream& out) {
  CATDOG_CHECK(!o.images.empty(), "predict needs at least one IMAGE");
  ModelSetup setup = load_trained_model(o.model_path);
  require_one_probability(setup.model, o.model_path);
  ExecContext ctx = make_exec_context(o.device, "fp32", 1);
  setup.model.to_device(ctx.device);
  const std::vector<std::string> class_names = output_class_names(setup);
  int64_t bad_count = 0;
  Tensor staging, input;
  std::unique_ptr<ProgressBar> bar;
  if (o.progress_bar && o.images.size() > static_cast<size_t>(o.batch)) {
    bar = std::make_unique<ProgressBar>(out, "predict", static_cast<int64_t>(o.images.size()), true);
  }
  for (size_t start = 0; start < o.images.size(); start += static_cast<size_t>(o.batch)) {
    const size_t stop = std::min(o.images.size(), start + static_cast<size_t>(o.batch));
    const std::vector<std::string> chunk(o.images.begin() + start, o.images.begin() + stop);
    std::vector<std::string> kept, bad;
    const Tensor pixels = load_pixels(chunk, setup.image_size, &kept, &bad);
    if (bar) bar->clear();
    for (const std::string& why : bad) std::cerr << "warning: " << one_line(why) << "\n";
    bad_count += static_cast<int64_t>(bad.size());
    if (!kept.empty()) {
      make_model_input(pixels, setup.preprocess, ctx, staging, input);
      const std::vector<float> logits = setup.model.forward(input, ctx).to_vector();
      for (size_t i = 0; i < kept.size(); ++i) {
        const float p = sigmoid(logits[i]);
        char line[64];
        std::snprintf(line, sizeof line, "\t%.6f\t", p);
        out << one_line(kept[i]) << line << class_names[p >= 0.5f ? 1 : 0] << "\n";
      }
    }
    if (bar) {
      const double elapsed = std::max(bar->elapsed_seconds(), 1e-9);
      bar->update(static_cast<int64_t>(stop), throughput_metrics(stop / elapsed, 0));
    }
  }
  if (bar) bar->finish();
  if (bad_count) std::cerr << "skipped " << bad_count << " of " << o.images.size() << " images\n";
  return bad_count == static_cast<int64_t>(o.images.size()) ? 1 : 0;
}

Sequential load_extract_model(const ExtractOptions& o, const Shape& input_hwc) {
  const auto ends_with = [&](const char* suffix) {
    const size_t n = std::char_traits<char>::length(suffix);
    return o.model.size() > n && o.model.compare(o.model.size() - n, n, suffix) == 0;
  };
  const bool config_file = ends_with(".json");
  const bool keras_archive = ends_with(".keras");  // Keras 3: config.json and, by default, weights
  CATDOG_CHECK(config_file || keras_archive || o.model == "vgg16" || o.model == "tiny-darknet",
               "extract --model must be vgg16, tiny-darknet, a model_config .json or a Keras 3 "
               ".keras, got '", o.model, "'");
  CATDOG_CHECK(!(config_file || keras_archive) || !o.preprocess.empty(), "extract --model ",
               o.model, ": a model file needs --preprocess caffe|tutorial|scale");
  const std::string weights = o.weights.empty() && keras_archive ? o.model : o.weights;
  CATDOG_CHECK(!weights.empty(), "extract needs --weights FILE.h5");
  const KerasH5 file = read_keras_h5(weights);
  const std::string config_text =
      keras_archive ? (weights == o.model ? file : read_keras_h5(o.model)).model_config
      : config_file ? read_text_file(o.model)
                    : std::string();
  ParsedModel parsed = config_text.empty()
                           ? parse_model_config(builtin_model_config(o.model), o.stop_after)
                           : parse_model_config_text(config_text, o.stop_after);
  Sequential& model = parsed.model;
  model.build(input_hwc);
  load_weights(model, file, o.weights);
  // Extraction trains nothing: the whole model is the frozen part. Only frozen layers run in
  // --precision tf32|fp16|bf16 (a trainable one computes in strict fp32), so without this the
  // reduced precisions would silently compute in fp32.
  model.freeze_before(model.size());
  return std::move(parsed.model);
}

int run_extract(const ExtractOptions& o, std::ostream& out) {
  CATDOG_CHECK(!o.output.empty(), "extract needs --output FEATURES.npy");
  CATDOG_CHECK(o.images.empty() != o.inputs.empty(),
               "extract needs either IMAGE... or --inputs INPUTS.npy (not both)");
  // --inputs: a batch already preprocessed (by a peer framework, say), at any image size.
  Tensor given;
  if (!o.inputs.empty()) {
    given = read_npy(o.inputs);
    CATDOG_CHECK(given.dtype() == DType::f32 && given.rank() == 4 && given.dim(3) == 3,
                 "extract --inputs ", o.inputs, ": expected a float32 (N, H, W, 3) batch, got ",
                 to_string(given.shape()));
  }
  const int64_t count = given.defined() ? given.dim(0) : static_cast<int64_t>(o.images.size());
  Sequential model = given.defined()
                         ? load_extract_model(o, {given.dim(1), given.dim(2), 3})
                         : load_extract_model(o);
  ExecContext ctx = make_exec_context(o.device, o.precision, 1);
  ctx.conv_algo = parse_conv_algo(o.conv_algo);
  model.to_device(ctx.device);
  const Preprocess preprocess =
      parse_preprocess(o.preprocess.empty() ? pretrained_preprocessing(o.model) : o.preprocess);
  const Shape feature = model.layer_output_shape(model.size() - 1, count);
  Tensor features(feature);
  Tensor staging, input;
  ProgressBar bar(out, "extract", count, is_terminal(out));
  for (int64_t start = 0; start < count; start += o.batch) {
    const int64_t stop = std::min<int64_t>(count, start + o.batch);
    if (given.defined()) {
      input = given.slice_rows(start, stop).to(ctx.device);
    } else {
      const Tensor pixels = load_pixels({o.images.begin() + start, o.images.begin() + stop}, 224,
                                        nullptr, nullptr);
      make_model_input(pixels, preprocess, ctx, staging, input);
    }
    features.slice_rows(start, stop).copy_from(model.forward(input, ctx));
    char rate[32];
    std::snprintf(rate, sizeof rate, " - %.0f img/s",
                  static_cast<double>(stop) / std::max(bar.elapsed_seconds(), 1e-9));
    bar.update(stop, rate);
  }
  bar.finish();
  write_npy(o.output, features);
  out << "wrote " << o.output << ": " << to_string(features.shape()) << " float32 (NHWC), "
      << o.model << " " << (o.stop_after.empty() ? "frozen base" : o.stop_after) << " output\n";
  return 0;
}

int run_summary(const std::string& name, std::ostream& out) {
  ModelSetup setup = describe_model(name);
  out << model_summary_text(setup);
  return 0;
}

int run_demo(const DemoOptions& o, std::ostream& out) {
  const fs::path run_dir(o.out_dir);
  const fs::path data_dir = run_dir / "data";
  out << "catdog demo: no dataset or weights needed. Making " << 2 * o.images_per_class
      << " synthetic two-class images in " << data_dir.string() << " ...\n" << std::flush;
  SynthOptions synth;
  synth.images_per_class = o.images_per_class;
  synth.seed = o.seed;
  synth.min_width = 96;
  synth.max_width = 160;
  synth.min_height = 96;
  synth.max_height = 160;
  synth.test_fraction = 0.25;
  write_synthetic_dataset(data_dir.string(), synth);

  TrainOptions train_options;
  train_options.data_dir = data_dir.string();
  train_options.model = "vgg1";
  train_options.image_size = 64;
  train_options.epochs = o.epochs;
  train_options.batch = 32;
  train_options.lr = 0.01f;
  train_options.device = "cpu";
  train_options.seed = o.seed;
  train_options.out_dir = run_dir.string();
  out << "Training the tutorial's one-block VGG (vgg1) from scratch on the CPU at 64x64 ...\n";
  ConsoleObserver observer(out);
  const TrainResult result = train(train_options, observer);

  out << "\nA few predictions on held-out images (probability of 'dogs'):\n";
  PredictOptions predict;
  predict.model_path = result.model_path;
  predict.device = "cpu";
  for (const char* cls : {"cats", "dogs"}) {
    int taken = 0;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(data_dir / "test" / cls)) {
      files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      if (taken++ < 3) predict.images.push_back(f);
    }
  }
  run_predict(predict, out);
  out << "\nThe run directory " << run_dir.string()
      << " holds model.h5, history.csv, curves.png and train.log.\n"
      << "\nThe real job (needs the internet once, and a GPU to be quick):\n"
      << "  scripts/fetch-assets.sh\n"
      << "  build/catdog train --data assets/catsdogs --model vgg16 \\\n"
      << "      --weights assets/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 --out runs/vgg16\n"
      << "Without downloads, transfer learning from the Tiny Darknet stand-in on the shared photos:\n"
      << "  build/catdog train --data ../shared/data/catsdogs --model tiny-darknet \\\n"
      << "      --weights ../shared/weights/tiny_darknet_imagenet.h5 --device cpu\n";
  return 0;
}

}  // namespace catdog
