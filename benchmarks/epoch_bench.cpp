// Whole epochs end to end, through the trainer library (training/trainer.h, what `catdog train` runs):
// JPEG decode -> resize -> pinned batch -> GPU -> frozen base (or the feature cache) -> head step,
// plus validation on test/ after each epoch, checkpoints and run files, as a user would see it.
//
//   Epoch/vgg16/<precision>/cache_on    the frozen base runs once per image (train + test), then
//                                       epochs cost only the head
//   Epoch/vgg16/<precision>/cache_off   every epoch decodes and runs the whole network
//   Epoch/tiny-darknet/cpu/cache_on     the CPU twin on a tiny dataset: the CI smoke run that
//                                       proves the whole path works without a GPU
//
// Each benchmark is one train() call (one iteration, timed by hand). Counters:
//   total_s           the whole call: model load, cache fill, every epoch, validation, run files
//   extract_s         time the frozen base took to fill the cache (0 without the cache)
//   epoch1_s          the first epoch (with the cache: the head only; the fill is in extract_s)
//   later_epoch_s     mean of epochs 2..N (0 when N = 1)
//   train_images_per_s  training images per second of the last epoch's training (no validation)
//   wait_pct          share of that training time spent waiting for decoded data
//   val_accuracy      of the last epoch (about 1.0 on the learnable synthetic set)
//
// Flags of our own, after Google Benchmark's:
//   --data=DIR      a dataset with train/<class>/ and test/<class>/ (`catdog synth --out DIR
//                   --count 25000` writes the 25,000-image set of issue 7). Without it a tiny
//                   synthetic set (--synth images) is written under the build tree.
//   --synth=N       images of that tiny set (default 48)
//   --epochs=N      epochs per train() call (default 2)
//   --precisions=a,b  GPU precisions to run (default fp32,bf16)
//   --cache=on,off  which cache modes to run on the GPU (default on,off)
// Smoke run (a few seconds, GPU parts skipped with the reason):
//   ./epoch_bench --benchmark_min_time=0.01
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "training/trainer.h"
#include "benchmarks/bench_support.h"
#include "data/synth.h"
#include "weights/keras_h5.h"

namespace fs = std::filesystem;

namespace catdog::bench {
namespace {

struct EpochBenchFlags {
  std::string data;
  int synth = 48;
  int epochs = 2;
  std::vector<std::string> precisions = {"fp32", "bf16"};
  std::vector<std::string> cache_modes = {"on", "off"};
};
EpochBenchFlags g_flags;

// Where the benchmark writes its weights files, tiny dataset and run directories.
fs::path work_dir() {
  const fs::path dir = fs::temp_directory_path() / "catdog-epoch-bench";
  fs::create_directories(dir);
  return dir;
}

// A weights file for a built-in base, in the Keras save_weights layout that `--weights` reads:
// VGG16 with the reference generator's values, Tiny Darknet with its initializers. Timings do
// not depend on the values; written once per process.
std::string weights_file(const std::string& base) {
  const fs::path path = work_dir() / (base + "_bench_weights.h5");
  static std::vector<std::string> written;
  for (const std::string& w : written) {
    if (w == path.string()) return w;
  }
  Sequential model = parse_model_config(builtin_model_config(base)).model;
  model.build({224, 224, 3});
  if (base == "vgg16") {
    fill_vgg16_reference_weights(model, 1);
  } else {
    model.initialize(1);
  }
  KerasH5 contents;
  contents.layers = stored_layers_of(model);
  write_keras_h5(path.string(), contents);
  written.push_back(path.string());
  return path.string();
}

// --data, or a tiny synthetic set written once under the temp dir.
std::string dataset_dir() {
  if (!g_flags.data.empty()) return g_flags.data;
  const fs::path dir = work_dir() / ("synth-" + std::to_string(g_flags.synth));
  if (!fs::exists(dir / "train")) {
    SynthOptions options;
    options.images_per_class = std::max(2, g_flags.synth / 2);
    options.test_fraction = 0.25;
    write_synthetic_dataset(dir.string(), options);
  }
  return dir.string();
}

void BM_Epoch(benchmark::State& state, const std::string& model, const std::string& device,
              const std::string& precision, const std::string& cache) {
  if (device == "cuda" && !require_gpu(state)) return;
  TrainOptions o;
  o.data_dir = dataset_dir();
  o.model = model;
  o.weights = weights_file(model);
  o.epochs = g_flags.epochs;
  o.device = device;
  o.precision = precision;
  o.cache_features = cache;
  o.out_dir = (work_dir() / ("run-" + model + "-" + precision + "-" + cache)).string();
  fs::remove_all(o.out_dir);  // a fresh run, never a resume
  std::ostringstream progress;
  TrainResult result;
  for (auto _ : state) {
    const double seconds = seconds_of([&] { result = train(o, progress); });
    state.SetIterationTime(seconds);
    state.counters["total_s"] = seconds;
  }
  const std::vector<EpochRecord>& h = result.history;
  if (h.empty()) {
    state.SkipWithError("train() returned no epochs");
    return;
  }
  double later = 0;  // epochs 2..N: with the cache, the steady state
  for (size_t i = 1; i < h.size(); ++i) later += h[i].seconds;
  state.counters["extract_s"] = result.extract_seconds;
  state.counters["epoch1_s"] = h.front().seconds;
  state.counters["later_epoch_s"] = h.size() > 1 ? later / static_cast<double>(h.size() - 1) : 0;
  // Of the last epoch's training part (validation excluded).
  state.counters["train_images_per_s"] = h.back().images_per_second;
  state.counters["wait_pct"] = 100.0 * h.back().wait_fraction;
  state.counters["val_accuracy"] = h.back().val_accuracy;
  state.counters["skipped_images"] = static_cast<double>(result.skipped_images);
  state.SetLabel(cat(h.size(), " epochs, cache ", result.used_feature_cache ? "on" : "off", ", ",
                     o.data_dir));
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// Our flags (Google Benchmark has removed its own from argv). Returns false on an unknown one.
bool parse_flags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* name) -> const char* {
      const size_t n = std::strlen(name);
      return arg.compare(0, n, name) == 0 ? argv[i] + n : nullptr;
    };
    if (const char* v = value("--data=")) {
      g_flags.data = v;
    } else if (const char* v = value("--synth=")) {
      g_flags.synth = std::stoi(v);
    } else if (const char* v = value("--epochs=")) {
      g_flags.epochs = std::stoi(v);
    } else if (const char* v = value("--precisions=")) {
      g_flags.precisions = split_commas(v);
    } else if (const char* v = value("--cache=")) {
      g_flags.cache_modes = split_commas(v);
    } else {
      std::fprintf(stderr, "epoch_bench: unknown flag '%s' (see the top of epoch_bench.cpp)\n",
                   argv[i]);
      return false;
    }
  }
  return true;
}

void register_benchmarks() {
  const auto add = [](const std::string& name, std::string model, std::string device,
                      std::string precision, std::string cache) {
    benchmark::RegisterBenchmark(name.c_str(),
                                 [=](benchmark::State& state) {
                                   guarded(state, [&] {
                                     BM_Epoch(state, model, device, precision, cache);
                                   });
                                 })
        ->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
  };
  for (const std::string& precision : g_flags.precisions) {
    for (const std::string& cache : g_flags.cache_modes) {
      add("Epoch/vgg16/" + precision + "/cache_" + cache, "vgg16", "cuda", precision, cache);
    }
  }
  add("Epoch/tiny-darknet/cpu/cache_on", "tiny-darknet", "cpu", "fp32", "on");
}

}  // namespace
}  // namespace catdog::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!catdog::bench::parse_flags(argc, argv)) return 1;
  catdog::bench::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
