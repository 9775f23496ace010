// catdog: the command-line program. Each subcommand is a function in apps/ (trainer.h for
// `train`, commands.h for the rest); this file only parses arguments and turns errors into one
// clear line and a non-zero exit.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/commands.h"
#include "apps/progress.h"
#include "training/distributed.h"
#include "training/trainer.h"
#include "data/dataset.h"
#include "data/synth.h"
#include "core/error.h"
#include "core/one_line.h"
#include "kernels/cpu/blas_kernels.h"

namespace {

// More decode threads than this only costs memory (each holds a decoded photo); 100000 used to
// fail thread creation.
constexpr int kMaxWorkers = 256;

// "6G", "512M", "1073741824" -> bytes.
size_t parse_bytes(const std::string& text) {
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    catdog::fail("--max-device-memory: '", text, "' is not a size (e.g. 6G, 512M)");
  }
  const std::string unit = text.substr(pos);
  double scale = 1;
  if (unit == "K" || unit == "KiB" || unit == "k") scale = 1024.0;
  else if (unit == "M" || unit == "MiB") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB") scale = 1024.0 * 1024 * 1024;
  else if (!unit.empty()) catdog::fail("--max-device-memory: unknown unit '", unit, "' (K, M, G)");
  CATDOG_CHECK(std::isfinite(value) && value > 0, "--max-device-memory must be a positive size, got '",
               text, "'");
  // 1 PiB: far beyond any GPU, and far below what a size_t holds (so the cast is defined).
  CATDOG_CHECK(value * scale <= 1024.0 * 1024 * 1024 * 1024 * 1024, "--max-device-memory '", text,
               "' is larger than any GPU (at most 1048576G)");
  return static_cast<size_t>(value * scale);
}

// Set by the first Ctrl-C; the trainer's observer polls it after every step, then checkpoints and
// returns. A second Ctrl-C quits.
std::atomic<bool> g_stop_requested{false};

void on_sigint(int) {
  g_stop_requested = true;
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace

int main(int argc, char** argv) {
  catdog::cpu::restart_with_vector_blas_kernels(argv);  // before any thread or file exists
  CLI::App app{"catdog: cats vs dogs by transfer learning, on a from-scratch C++/CUDA engine"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");

  catdog::TrainOptions train;
  std::string max_memory;
  auto* train_cmd = app.add_subcommand("train", "Train a model; writes model.h5, history.csv, curves.png, report.html, checkpoints");
  train_cmd->add_option("--data", train.data_dir, "Dataset folder with train/<class>/ and test/<class>/")->required();
  train_cmd->add_option("--model", train.model, "vgg16 | tiny-darknet | vgg1 | vgg2 | vgg3 | vgg3-dropout")->capture_default_str();
  train_cmd->add_option("--weights", train.weights, "Pretrained base weights (Keras .h5, Keras 3 .weights.h5 or .keras), for vgg16 / tiny-darknet");
  train_cmd->add_option("--epochs", train.epochs, "Epochs")->capture_default_str();
  train_cmd->add_option("--batch", train.batch, "Batch size")->capture_default_str();
  train_cmd->add_option("--lr", train.lr, "SGD learning rate")->capture_default_str();
  train_cmd->add_option("--momentum", train.momentum, "SGD momentum")->capture_default_str();
  train_cmd->add_option("--image-size", train.image_size, "Square input side (default: the model's)");
  train_cmd->add_option("--device", train.device, "auto | cpu | cuda")->capture_default_str();
  train_cmd->add_option("--precision", train.precision, "fp32 | tf32 | fp16 | bf16 (the frozen base; the CPU: fp32, or bf16 with AVX512_BF16)")->capture_default_str();
  train_cmd->add_option("--conv-algo", train.conv_algo, "auto | im2col | winograd2 | winograd4 | direct: the CPU convolution (auto: per layer shape)")->capture_default_str();
  train_cmd->add_option("--seed", train.seed, "Seed for initialisation, shuffles, dropout, augmentation")->capture_default_str();
  train_cmd->add_flag("--augment", train.augment, "Horizontal flips and 10% shifts (from-scratch models)");
  train_cmd->add_option("--cache-features", train.cache_features, "auto | on | off: run the frozen base once per image")->capture_default_str();
  train_cmd->add_option("--out", train.out_dir, "Run directory")->capture_default_str();
  train_cmd->add_flag("--resume", train.resume, "Continue from RUN_DIR/checkpoint.h5");
  train_cmd->add_option("--workers", train.workers, "Decode threads (0: one per core)")->capture_default_str()->check(CLI::Range(0, kMaxWorkers));
  train_cmd->add_option("--preprocess", train.preprocess, "caffe | tutorial | scale (default: the model's; caffe matches the pretrained weights, tutorial is the Keras tutorial's RGB mean centring)")->check(CLI::IsMember({"caffe", "tutorial", "scale"}));
  train_cmd->add_option("--resize", train.resize, "nearest (Keras) | bilinear | area")->capture_default_str();
  train_cmd->add_option("--max-device-memory", max_memory, "Cap GPU memory, e.g. 6G (a GTX 1660 Ti)");
  train_cmd->add_flag("--final", train.final_fit, "Train on train/ and test/ together, no validation; saves final_model.h5 (the tutorial's last step)");
  train_cmd->add_option("--trainable-from", train.trainable_from, "Train the base from LAYER on (e.g. block5_conv1); with --fine-tune-epochs, in phase 2 only (default: vgg16 block5_conv1, tiny-darknet conv2d_14)");
  train_cmd->add_option("--fine-tune-epochs", train.fine_tune_epochs, "Phase 2: after --epochs head epochs, N more that also train the base from --trainable-from")->capture_default_str();
  train_cmd->add_option("--fine-tune-lr", train.fine_tune_lr, "SGD learning rate of phase 2 (keras.io's transfer-learning guide: 1e-5)")->capture_default_str();
  train_cmd->add_option("--trace", train.trace_path, "Write the run's timeline to FILE.json (Chrome Trace Event Format: Perfetto, chrome://tracing)");
  train_cmd->add_option("--stop-after-steps", train.stop_after_steps, "Stop (with a checkpoint) after N steps")->group("");

  catdog::EvaluateOptions evaluate;
  auto* evaluate_cmd = app.add_subcommand("evaluate", "Loss and accuracy of a trained model on a folder of class folders");
  evaluate_cmd->add_option("--model", evaluate.model_path, "RUN_DIR/model.h5, or a Keras 3 .keras")->required();
  evaluate_cmd->add_option("--data", evaluate.data_dir, "CLASS_DIR (e.g. DIR/test)")->required();
  evaluate_cmd->add_option("--device", evaluate.device, "auto | cpu | cuda")->capture_default_str();
  evaluate_cmd->add_option("--batch", evaluate.batch, "Batch size")->capture_default_str();
  evaluate_cmd->add_option("--workers", evaluate.workers, "Decode threads (0: one per core)")->check(CLI::Range(0, kMaxWorkers));
  evaluate_cmd->add_option("--report", evaluate.report, "Also write a report.html here (curves, confusion matrix, the worst mistakes)");

  catdog::PredictOptions predict;
  auto* predict_cmd = app.add_subcommand("predict", "Print path, probability of the second class, and label per image");
  predict_cmd->add_option("--model", predict.model_path, "RUN_DIR/model.h5, or a Keras 3 .keras")->required();
  predict_cmd->add_option("--device", predict.device, "auto | cpu | cuda")->capture_default_str();
  predict_cmd->add_option("images", predict.images, "IMAGE...")->required();

  catdog::ExplainOptions explain;
  auto* explain_cmd = app.add_subcommand("explain", "Grad-CAM: write a heat-map overlay PNG per image of where the model looked");
  explain_cmd->add_option("--model", explain.model_path, "RUN_DIR/model.h5")->required();
  explain_cmd->add_option("--out", explain.out_dir, "Folder for the <stem>_gradcam.png files")->required();
  explain_cmd->add_option("--device", explain.device, "auto | cpu | cuda")->capture_default_str();
  explain_cmd->add_option("--layer", explain.layer, "Layer to explain at (default: the last convolution's output)");
  explain_cmd->add_option("images", explain.images, "IMAGE...")->required();

  catdog::ExtractOptions extract;
  auto* extract_cmd = app.add_subcommand("extract", "Write the frozen base's output for images as an NHWC float32 .npy");
  extract_cmd->add_option("--model", extract.model, "vgg16 | tiny-darknet | MODEL_CONFIG.json (e.g. the full Tiny Darknet classifier) | a Keras 3 MODEL.keras")->capture_default_str();
  extract_cmd->add_option("--preprocess", extract.preprocess, "caffe | tutorial | scale (default: the built-in model's; required with a .json)");
  extract_cmd->add_option("--weights", extract.weights, "Keras .h5 or Keras 3 .weights.h5 / .keras weights (a .keras --model has its own)");
  extract_cmd->add_option("--output", extract.output, "FEATURES.npy")->required();
  extract_cmd->add_option("--device", extract.device, "auto | cpu | cuda")->capture_default_str();
  extract_cmd->add_option("--precision", extract.precision, "fp32 | tf32 | fp16 | bf16")->capture_default_str();
  extract_cmd->add_option("--conv-algo", extract.conv_algo, "auto | im2col | winograd2 | winograd4 | direct: the CPU convolution (auto: per layer shape)")->capture_default_str();
  extract_cmd->add_option("--stop-after", extract.stop_after, "Layer to stop after (default: the whole base)");
  extract_cmd->add_option("--inputs", extract.inputs, "Instead of images: a preprocessed (N, H, W, 3) float32 INPUTS.npy, at any size");
  extract_cmd->add_option("images", extract.images, "IMAGE...");

  std::string prepare_from, prepare_to;
  double test_fraction = 0.25;
  uint64_t prepare_seed = 1;
  auto* prepare_cmd = app.add_subcommand("prepare", "Split a Kaggle train folder (or class folders) into train/ and test/");
  prepare_cmd->add_option("--from", prepare_from, "KAGGLE_TRAIN_DIR (cat.N.jpg, dog.N.jpg) or class folders")->required();
  prepare_cmd->add_option("--to", prepare_to, "DATASET_DIR to create")->required();
  prepare_cmd->add_option("--test-fraction", test_fraction, "Share of images held out")->capture_default_str();
  prepare_cmd->add_option("--seed", prepare_seed, "Split seed")->capture_default_str();

  std::string summary_model;
  auto* summary_cmd = app.add_subcommand("summary", "Per-layer table with parameter counts, like Keras model.summary()");
  summary_cmd->add_option("--model", summary_model, "A built-in name, a model.h5, a Keras 3 .keras or a model_config .json")->required();

  catdog::ProfileOptions profile;
  auto* profile_cmd = app.add_subcommand("profile", "Per-layer time, GFLOP/s, bytes moved and % of the measured peak of a forward and backward pass");
  profile_cmd->add_option("--model", profile.model, "vgg16 | tiny-darknet | vgg1 | vgg2 | vgg3 | vgg3-dropout | MODEL_CONFIG.json | model.h5")->capture_default_str();
  profile_cmd->add_option("--weights", profile.weights, "Pretrained base weights (default: random; the time is the same)");
  profile_cmd->add_option("--device", profile.device, "auto | cpu | cuda")->capture_default_str();
  profile_cmd->add_option("--precision", profile.precision, "fp32 | tf32 | fp16 | bf16 (the frozen base; the CPU: fp32, or bf16 with AVX512_BF16)")->capture_default_str();
  profile_cmd->add_option("--conv-algo", profile.conv_algo, "auto | im2col | winograd2 | winograd4 | direct: the CPU convolution (auto: per layer shape)")->capture_default_str();
  profile_cmd->add_option("--batch", profile.batch, "Batch size")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  profile_cmd->add_option("--image-size", profile.image_size, "Square input side (default: the model's)");
  profile_cmd->add_option("--repeat", profile.repeat, "Timed passes (the median is shown)")->capture_default_str()->check(CLI::Range(1, 1000));
  profile_cmd->add_option("--trace", profile.trace_path, "Also write the passes' timeline to FILE.json (Chrome Trace Event Format)");

  catdog::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand("demo", "Train a small model on generated images: no dataset or weights needed");
  demo_cmd->add_option("--out", demo.out_dir, "Run directory")->capture_default_str();
  demo_cmd->add_option("--epochs", demo.epochs, "Epochs")->capture_default_str();

  std::string synth_out;
  int synth_count = 1000;
  uint64_t synth_seed = 1;
  auto* synth_cmd = app.add_subcommand("synth", "Write a synthetic two-class JPEG dataset (Kaggle-like sizes) for benchmarks");
  synth_cmd->add_option("--out", synth_out, "Dataset folder to create (train/ and test/)")->required();
  synth_cmd->add_option("--count", synth_count, "Images in all (at least 2: one per class)")->capture_default_str()->check(CLI::Range(2, 100000000));
  synth_cmd->add_option("--seed", synth_seed, "Seed")->capture_default_str();

  // A misspelt command gets its own message (CLI11 would only say that one is required).
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::cerr << "catdog: error: unknown command '" << argv[1] << "' (commands: " << names
                << "; catdog --help shows the usage)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --help-all
    std::cerr << "catdog: error: " << catdog::one_line(e.what()) << " (catdog "
              << (argc > 1 && argv[1][0] != '-' ? std::string(argv[1]) + " " : "")
              << "--help shows the usage)\n";
    return 2;
  }

  try {
    if (*train_cmd) {
      if (!max_memory.empty()) train.max_device_memory = parse_bytes(max_memory);
      // Resuming without --model continues the checkpoint's; with one, it must be the same.
      if (train.resume && train_cmd->count("--model") == 0) train.model.clear();
      std::signal(SIGINT, on_sigint);
      catdog::ConsoleObserver observer(std::cout, &g_stop_requested);
      const catdog::TrainResult result = catdog::train(train, observer);
      catdog::finish_ranks(0);  // mpirun: every rank got here
      return result.interrupted ? 130 : 0;
    }
    if (*evaluate_cmd) return catdog::run_evaluate(evaluate, std::cout);
    if (*predict_cmd) {
      predict.progress_bar = catdog::is_terminal(std::cout);
      return catdog::run_predict(predict, std::cout);
    }
    if (*explain_cmd) return catdog::run_explain(explain, std::cout);
    if (*extract_cmd) return catdog::run_extract(extract, std::cout);
    if (*summary_cmd) return catdog::run_summary(summary_model, std::cout);
    if (*demo_cmd) return catdog::run_demo(demo, std::cout);
    if (*profile_cmd) return catdog::run_profile(profile, std::cout);
    if (*prepare_cmd) {
      const catdog::PrepareReport report =
          catdog::prepare_dataset(prepare_from, prepare_to, test_fraction, prepare_seed);
      std::cout << "prepared " << prepare_to << ": " << report.train << " train, " << report.test
                << " test images (" << (report.hard_linked ? "hard links" : "copies") << ")\n";
      return 0;
    }
    if (*synth_cmd) {
      catdog::SynthOptions options;
      options.images_per_class = synth_count / 2;
      options.seed = synth_seed;
      options.test_fraction = 0.25;
      catdog::write_synthetic_dataset(synth_out, options);
      std::cout << "wrote " << 2 * options.images_per_class << " synthetic JPEGs to " << synth_out << "\n";
      return 0;
    }
  } catch (const catdog::Error& e) {
    std::cerr << "catdog: error: " << catdog::one_line(e.what()) << "\n";
    catdog::finish_ranks(1);  // the other ranks end now, not at a timeout
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "catdog: error: out of memory\n";
    catdog::finish_ranks(1);  // the other ranks end now, not at a timeout
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "catdog: error: " << catdog::one_line(e.what()) << "\n";
    catdog::finish_ranks(1);  // the other ranks end now, not at a timeout
    return 1;
  }
  return 0;
}
