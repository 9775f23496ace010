#include "training/trainer.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "training/batches.h"
#include "training/model_setup.h"
#include "training/progress.h"
#include "training/run_context.h"
#include "training/run_files.h"
#include "data/log.h"
#include "core/device.h"
#include "core/error.h"
#include "engine/loss.h"
#include "core/random.h"
#include "engine/sgd.h"
#include "layers/dense.h"
#include "weights/keras_h5.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace catdog {

namespace {

std::atomic<bool> g_stop_requested{false};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_options(const TrainOptions& o) {
  CATDOG_CHECK(!o.data_dir.empty(), "train needs --data DIR (with train/<class>/ and test/<class>/)");
  CATDOG_CHECK(o.epochs >= 1 && o.epochs <= 100000, "--epochs must be at least 1, got ", o.epochs);
  CATDOG_CHECK(o.batch >= 1 && o.batch <= 65536, "--batch must be in 1..65536, got ", o.batch);
  CATDOG_CHECK(std::isfinite(o.lr) && o.lr > 0, "--lr must be positive, got ", o.lr);
  CATDOG_CHECK(std::isfinite(o.momentum) && o.momentum >= 0 && o.momentum < 1,
               "--momentum must be in [0, 1), got ", o.momentum);
  CATDOG_CHECK(o.cache_features == "auto" || o.cache_features == "on" || o.cache_features == "off",
               "--cache-features must be auto, on or off, got '", o.cache_features, "'");
  CATDOG_CHECK(fs::is_directory(o.data_dir), "--data ", o.data_dir, " is not a directory");
  CATDOG_CHECK(fs::is_directory(fs::path(o.data_dir) / "train"), "--data ", o.data_dir,
               " has no train/ folder (expected train/<class>/ and test/<class>/; "
               "`catdog prepare` makes them)");
}

// The last layer must be Dense(1, sigmoid): it then emits logits, and the loss applies the sigmoid
// fused with the cross-entropy (engine/loss.h).
void use_logits(Sequential& model) {
  auto* last = dynamic_cast<Dense*>(&model.layer(model.size() - 1));
  CATDOG_CHECK(last && last->config().units == 1 &&
                   last->config().activation == Activation::sigmoid,
               "the model must end in Dense(1, sigmoid) for binary cross-entropy; its last layer is ",
               model.layer(model.size() - 1).name());
  last->set_emit_logits(true);
}

// What a checkpoint remembers besides weights: where training stands, to the step.
struct Progress {
  int epochs_done = 0;        // complete epochs
  int64_t batches_done = 0;   // batches of the current epoch already trained
  double loss_sum = 0;        // over the current epoch's images so far
  int64_t correct = 0, seen = 0;
  double train_seconds = 0, wait_seconds = 0, epoch_seconds = 0;
  uint64_t step = 0;          // global optimizer step (seeds dropout)
  std::vector<EpochRecord> history;
};

json history_json(const std::vector<EpochRecord>& history) {
  json rows = json::array();
  for (const EpochRecord& e : history) {
    rows.push_back({e.epoch, e.loss, e.accuracy, std::isfinite(e.val_loss) ? json(e.val_loss) : json(),
                    std::isfinite(e.val_accuracy) ? json(e.val_accuracy) : json(), e.seconds,
                    e.images_per_second, e.wait_fraction});
  }
  return rows;
}

std::vector<EpochRecord> history_from_json(const json& rows) {
  std::vector<EpochRecord> history;
  auto number = [](const json& v) { return v.is_number() ? v.get<double>() : std::nan(""); };
  for (const json& r : rows) {
    EpochRecord e;
    e.epoch = r.at(0).get<int>();
    e.loss = number(r.at(1));
    e.accuracy = number(r.at(2));
    e.val_loss = number(r.at(3));
    e.val_accuracy = number(r.at(4));
    e.seconds = number(r.at(5));
    e.images_per_second = number(r.at(6));
    e.wait_fraction = number(r.at(7));
    history.push_back(e);
  }
  return history;
}

std::string velocity_name(const Layer& layer, const Param& p) {
  return layer.name() + "/" + p.name + ":0/momentum";
}

// Keras' training_config: what model.compile() was given, so keras.models.load_model(compile=True)
// rebuilds the loss, metric and optimizer.
std::string training_config_json(const TrainOptions& o) {
  return json{{"loss", "binary_crossentropy"},
              {"metrics", {"accuracy"}},
              {"weighted_metrics", nullptr},
              {"loss_weights", nullptr},
              {"optimizer_config",
               {{"class_name", "SGD"},
                {"config", {{"name", "SGD"}, {"learning_rate", o.lr}, {"momentum", o.momentum},
                            {"nesterov", false}}}}}}
      .dump();
}

// checkpoint.h5: the model (Keras full-model layout, so it is also a loadable model), the SGD
// velocities as optimizer_weights, and the training state in catdog_state. Written atomically.
void save_checkpoint(const std::string& path, Sequential& model, const ModelSetup& setup,
                     const TrainOptions& o, const Progress& p) {
  SaveExtras extras;
  for (size_t i = 0; i < model.size(); ++i) {
    Layer& layer = model.layer(i);
    if (!layer.trainable()) continue;
    for (Param* param : layer.params()) {
      if (!param->trainable || !param->velocity.defined()) continue;
      extras.optimizer_weights.push_back(
          {velocity_name(layer, *param), param->velocity.shape(), param->velocity.to_vector()});
    }
  }
  json state = json::parse(model_state_json(setup));
  state["trainer"] = {{"epochs_done", p.epochs_done}, {"batches_done", p.batches_done},
                      {"loss_sum", p.loss_sum}, {"correct", p.correct}, {"seen", p.seen},
                      {"train_seconds", p.train_seconds}, {"wait_seconds", p.wait_seconds},
                      {"epoch_seconds", p.epoch_seconds}, {"step", p.step},
                      {"history", history_json(p.history)}, {"seed", o.seed}, {"batch", o.batch},
                      {"lr", o.lr}, {"momentum", o.momentum}, {"model", setup.base},
                      {"cache_features", o.cache_features}, {"augment", o.augment}};
  extras.catdog_state = state.dump();
  extras.training_config = training_config_json(o);
  save_keras_model(path, model, setup.name, extras);
}

// Restore from checkpoint.h5: weights through the model loader, then velocities and progress.
Progress restore_checkpoint(const std::string& path, ModelSetup& setup, TrainOptions& o) {
  KerasH5 file;
  setup = load_trained_model(path, &file);
  Progress p;
  json t;
  try {
    t = json::parse(file.catdog_state).at("trainer");
    p.epochs_done = t.at("epochs_done");
    p.batches_done = t.at("batches_done");
    p.loss_sum = t.at("loss_sum");
    p.correct = t.at("correct");
    p.seen = t.at("seen");
    p.train_seconds = t.at("train_seconds");
    p.wait_seconds = t.at("wait_seconds");
    p.epoch_seconds = t.at("epoch_seconds");
    p.step = t.at("step");
    p.history = history_from_json(t.at("history"));
    // The run continues exactly as it started: same shuffles, batches and optimizer.
    o.seed = t.at("seed");
    o.batch = t.at("batch");
    o.lr = t.at("lr");
    o.momentum = t.at("momentum");
    o.augment = t.at("augment");
  } catch (const json::exception& e) {
    fail(path, ": not a catdog checkpoint (training state missing or damaged: ", e.what(), ")");
  }
  for (size_t i = 0; i < setup.model.size(); ++i) {
    Layer& layer = setup.model.layer(i);
    for (Param* param : layer.params()) {
      const std::string name = velocity_name(layer, *param);
      for (const StoredWeight& w : file.optimizer_weights) {
        if (w.name != name) continue;
        CATDOG_CHECK(w.shape == param->value.shape(), path, ": velocity ", name, " has shape ",
                     to_string(w.shape), ", the parameter ", to_string(param->value.shape()));
        param->velocity = Tensor::from_vector(w.shape, w.values);
      }
    }
  }
  return p;
}

}  // namespace

void request_stop() { g_stop_requested = true; }

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  // Fisher-Yates from the end; stream 1000 + epoch keeps shuffles apart from weight streams.
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(
        uniform01(seed, 1000 + static_cast<uint64_t>(epoch), static_cast<uint64_t>(i)) *
        static_cast<double>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(std::min(j, i))]);
  }
  return order;
}

TrainResult train(const TrainOptions& options, std::ostream& out) {
  TrainOptions o = options;
  check_options(o);
  g_stop_requested = false;
  const fs::path run_dir(o.out_dir);
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  CATDOG_CHECK(!ec && fs::is_directory(run_dir), "cannot create the run directory ", o.out_dir,
               ": ", ec.message());
  const std::string model_path = (run_dir / "model.h5").string();
  const std::string checkpoint_path = (run_dir / "checkpoint.h5").string();
  RunLog log((run_dir / "train.log").string());
  auto say = [&](const std::string& text) {
    out << text << "\n" << std::flush;
    log.line(text);
  };
  set_warning_sink([&](const std::string& warning) { log.line("warning: " + warning); });
  struct RestoreSink {
    ~RestoreSink() { set_warning_sink(nullptr); }
  } restore_sink;

  // ---- model: fresh, or where the checkpoint left off ----
  ModelSetup setup;
  Progress progress;
  if (o.resume) {
    CATDOG_CHECK(fs::exists(checkpoint_path), "--resume: there is no checkpoint ",
                 checkpoint_path, " (train without --resume first)");
    progress = restore_checkpoint(checkpoint_path, setup, o);
    say(cat("Resuming from ", checkpoint_path, ": ", progress.epochs_done, " epochs and ",
            progress.batches_done, " batches done"));
  } else {
    setup = build_training_model(o.model, o.weights, o.image_size, o.seed);
  }
  Sequential& model = setup.model;
  use_logits(model);

  // ---- data ----
  const Dataset train_set = scan_dataset((fs::path(o.data_dir) / "train").string());
  CATDOG_CHECK(train_set.class_names.size() == 2, o.data_dir, "/train has ",
               train_set.class_names.size(), " classes; a binary classifier needs exactly 2");
  Dataset test_set;
  const bool validate = o.validate && fs::is_directory(fs::path(o.data_dir) / "test");
  if (validate) test_set = scan_dataset((fs::path(o.data_dir) / "test").string());
  if (validate) {
    CATDOG_CHECK(test_set.class_names == train_set.class_names, o.data_dir,
                 "/test has other classes than train/");
  }

  // ---- device ----
  if (o.max_device_memory) set_device_memory_limit(o.max_device_memory);
  ExecContext ctx = make_exec_context(o.device, o.precision, o.seed);
  ctx.step = progress.step;
  model.to_device(ctx.device);
  for (Param* p : model.trainable_params()) {
    if (p->velocity.defined()) p->velocity = p->velocity.to(ctx.device);
  }
  SGD sgd(o.lr, o.momentum);

  const size_t frozen_end = model.trainable_begin();
  const bool cache_possible = frozen_end > 0 && !o.augment;
  CATDOG_CHECK(o.cache_features != "on" || cache_possible, "--cache-features on needs a frozen ",
               "base and no --augment (this model has ", frozen_end, " frozen layers",
               o.augment ? ", and --augment is on" : "", ")");
  const bool use_cache = cache_possible && o.cache_features != "off";

  PipelineOptions pipe;
  pipe.height = pipe.width = setup.image_size;
  pipe.batch_size = o.batch;
  pipe.workers = o.workers;
  pipe.shuffle = false;  // epoch_order shuffles, the same way with or without the cache
  pipe.seed = o.seed;
  pipe.augment = o.augment;
  pipe.resize = parse_resize_mode(o.resize);
  pipe.pinned = ctx.on_gpu();

  say(cat("catdog train: model ", setup.name, " (", model.param_count(true), " trainable, ",
          model.param_count(false), " frozen parameters), ", train_set.images.size(),
          " train / ", test_set.images.size(), " test images, device ", device_name(ctx.device),
          ctx.on_gpu() ? cat(" (", cuda_device_description(), ", ", precision_name(ctx.precision), ")") : "",
          ", feature cache ", use_cache ? "on" : "off"));

  TrainResult result;
  result.used_feature_cache = use_cache;
  result.model_path = model_path;

  // ---- the feature cache: the frozen base runs once per image ----
  std::unique_ptr<FeatureCache> train_cache, test_cache;
  std::vector<int64_t> test_slots;  // the test images that decoded, and their labels
  std::vector<float> test_labels;
  if (use_cache) {
    const auto start = Clock::now();
    const Shape out_shape = model.layer_output_shape(frozen_end - 1, 1);
    const Shape feature(out_shape.begin() + 1, out_shape.end());
    const auto fill = [&](const Dataset& set, std::unique_ptr<FeatureCache>& cache,
                          const char* which) {
      const DeviceMemoryStats mem = device_memory_stats();
      const size_t margin = size_t{512} << 20;  // room for the head's buffers
      const size_t budget = mem.limit == 0 ? SIZE_MAX
                                           : (mem.limit > mem.reserved + margin
                                                  ? mem.limit - mem.reserved - margin : 0);
      cache = std::make_unique<FeatureCache>(static_cast<int64_t>(set.images.size()), feature,
                                             ctx.device, budget);
      const std::string summary = forward_dataset(
          model, frozen_end, set, pipe, setup.preprocess, ctx,
          [&](const std::vector<int64_t>& indices, const Tensor& features) {
            cache->store(indices, features);
          });
      say(cat("Feature cache (", which, "): ", cache->filled_count(), " images, ",
              cache->bytes() >> 20, " MiB in ", device_name(cache->storage_device()),
              " memory; ", summary));
      result.skipped_images += static_cast<int64_t>(set.images.size()) - cache->filled_count();
    };
    fill(train_set, train_cache, "train");
    if (validate) {
      fill(test_set, test_cache, "test");
      for (int64_t i = 0; i < test_cache->slots_count(); ++i) {
        if (!test_cache->filled(i)) continue;
        test_slots.push_back(i);
        test_labels.push_back(static_cast<float>(test_set.images[static_cast<size_t>(i)].label));
      }
    }
    result.extract_seconds = seconds_since(start);
    say(cat("Frozen base ran once per image in ", result.extract_seconds, " s"));
  }

  // ---- epochs ----
  Tensor staging, input, features, labels_device, dlogits;
  const bool terminal = is_terminal(out);
  int64_t steps_this_call = 0;
  // Ctrl-C, or --stop-after-steps (the tests' stand-in for it) reached.
  const auto stop_wanted = [&] {
    return g_stop_requested || (o.stop_after_steps >= 0 && steps_this_call >= o.stop_after_steps);
  };
  for (int epoch = progress.epochs_done + 1; epoch <= o.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    // This epoch's order, as dataset positions; with the cache, only images that decoded.
    std::vector<int64_t> order = epoch_order(static_cast<int64_t>(train_set.images.size()),
                                             o.seed, epoch);
    if (use_cache) {
      std::vector<int64_t> usable;
      for (int64_t i : order) {
        if (train_cache->filled(i)) usable.push_back(i);
      }
      order.swap(usable);
    }
    const int64_t steps = (static_cast<int64_t>(order.size()) + o.batch - 1) / o.batch;
    EpochProgress bar(out, epoch, o.epochs, steps, terminal);
    const int64_t first = progress.batches_done;
    std::vector<int64_t> rest(order.begin() + std::min<int64_t>(first * o.batch, order.size()),
                              order.end());

    // Uncached: the pipeline decodes the epoch's images in this order.
    std::unique_ptr<BatchPipeline> pipeline;
    Dataset epoch_set;
    if (!use_cache) {
      epoch_set.root = train_set.root;
      epoch_set.class_names = train_set.class_names;
      for (int64_t i : rest) epoch_set.images.push_back(train_set.images[static_cast<size_t>(i)]);
      PipelineOptions epoch_pipe = pipe;
      epoch_pipe.seed = o.seed + static_cast<uint64_t>(epoch) * 7919;  // augmentation draws
      pipeline = std::make_unique<BatchPipeline>(epoch_set, epoch_pipe);
      pipeline->start_epoch(epoch);
    }

    bool stopped = false;
    const auto train_start = Clock::now();
    double wait_this_call = 0;
    Batch batch;
    for (int64_t step = first; step < steps; ++step) {
      ctx.training = true;
      const Tensor* logits = nullptr;
      std::vector<float> labels;
      if (use_cache) {
        const size_t b = static_cast<size_t>((step - first) * o.batch);
        const size_t e = std::min(rest.size(), b + static_cast<size_t>(o.batch));
        const std::vector<int64_t> slots(rest.begin() + b, rest.begin() + e);
        for (int64_t s : slots) {
          labels.push_back(static_cast<float>(train_set.images[static_cast<size_t>(s)].label));
        }
        train_cache->gather(slots, features, ctx);
        logits = &model.forward(features, ctx, frozen_end);
      } else {
        const auto wait_start = Clock::now();
        if (!pipeline->next(batch)) break;
        wait_this_call += seconds_since(wait_start);
        labels = batch.labels.to_vector();
        make_model_input(batch.images, setup.preprocess, ctx, staging, input);
        logits = &model.forward(input, ctx);
      }
      upload_vector(labels, labels_device, ctx);
      dlogits.reuse_as(logits->shape(), DType::f32, ctx.device);
      int64_t correct = 0;
      const double loss = sigmoid_bce_from_logits(*logits, labels_device, &dlogits, &correct, ctx);
      model.backward(dlogits, ctx);
      sgd.step(model.trainable_params(), ctx);
      for (size_t i = frozen_end; i < model.size(); ++i) model.layer(i).weights_changed();
      ++ctx.step;
      ++steps_this_call;

      const auto n = static_cast<int64_t>(labels.size());
      progress.loss_sum += loss * static_cast<double>(n);
      progress.correct += correct;
      progress.seen += n;
      progress.batches_done = step + 1;
      const double elapsed = progress.train_seconds + seconds_since(train_start);
      const double waited = progress.wait_seconds + wait_this_call;
      bar.update(step + 1, progress.loss_sum / progress.seen,
                 static_cast<double>(progress.correct) / progress.seen,
                 progress.seen / std::max(elapsed, 1e-9), waited / std::max(elapsed, 1e-9));
      if (stop_wanted() && step + 1 < steps) {
        stopped = true;
        break;
      }
    }
    if (!use_cache) result.skipped_images = pipeline->epoch_stats().skipped;
    progress.train_seconds += seconds_since(train_start);
    progress.wait_seconds += wait_this_call;
    bar.finish();
    if (!use_cache) {
      say(pipeline->summary_line());
      for (const std::string& file : pipeline->epoch_stats().skipped_files) {
        log.line("skipped: " + file);
      }
    }
    if (stopped) {
      progress.epoch_seconds += seconds_since(epoch_start);
      progress.step = ctx.step;
      save_checkpoint(checkpoint_path, model, setup, o, progress);
      say(cat("Stopped during epoch ", epoch, " after ", progress.batches_done, " of ", steps,
              " batches; checkpoint written to ", checkpoint_path,
              ". Continue with the same command and --resume."));
      result.interrupted = true;
      result.history = progress.history;
      return result;
    }

    EpochRecord record;
    record.epoch = epoch;
    record.loss = progress.seen ? progress.loss_sum / progress.seen : std::nan("");
    record.accuracy = progress.seen ? static_cast<double>(progress.correct) / progress.seen
                                    : std::nan("");
    record.images_per_second = progress.seen / std::max(progress.train_seconds, 1e-9);
    record.wait_fraction = progress.wait_seconds / std::max(progress.train_seconds, 1e-9);
    record.val_loss = record.val_accuracy = std::nan("");
    if (validate) {
      Evaluation val;
      if (use_cache) {
        val = evaluate_cached(model, frozen_end, *test_cache, test_slots, test_labels, o.batch,
                              ctx);
      } else {
        val = evaluate_dataset(model, test_set, pipe, setup.preprocess, ctx);
      }
      record.val_loss = val.loss;
      record.val_accuracy = val.accuracy;
    }
    record.seconds = progress.epoch_seconds + seconds_since(epoch_start);
    progress.history.push_back(record);
    char summary[256];
    std::snprintf(summary, sizeof summary,
                  "epoch %d/%d - %.1fs - loss: %.4f - accuracy: %.4f - val_loss: %.4f - "
                  "val_accuracy: %.4f - %.0f img/s - waited for data %.0f%%",
                  epoch, o.epochs, record.seconds, record.loss, record.accuracy, record.val_loss,
                  record.val_accuracy, record.images_per_second, 100 * record.wait_fraction);
    say(summary);

    // Everything a killed run needs, each file written atomically.
    Progress next;
    next.epochs_done = epoch;
    next.step = ctx.step;
    next.history = std::move(progress.history);
    progress = std::move(next);
    write_history_csv((run_dir / "history.csv").string(), progress.history);
    std::string why;
    if (!draw_curves((run_dir / "curves.png").string(), progress.history, &why)) {
      log.line("curves.png not drawn: " + why);
    }
    SaveExtras extras;
    extras.catdog_state = model_state_json(setup);
    extras.training_config = training_config_json(o);
    save_keras_model(model_path, model, setup.name, extras);
    save_checkpoint(checkpoint_path, model, setup, o, progress);
    if (stop_wanted() && epoch < o.epochs) {
      say(cat("Stopped after epoch ", epoch, "; checkpoint written to ", checkpoint_path,
              ". Continue with the same command and --resume."));
      result.interrupted = true;
      break;
    }
  }
  if (ctx.on_gpu()) {
    say(cat("Peak device memory: ", device_memory_stats().peak >> 20, " MiB"));
  }
  result.history = progress.history;
  if (!result.interrupted) say(cat("Model saved to ", model_path));
  return result;
}

}  // namespace catdog
