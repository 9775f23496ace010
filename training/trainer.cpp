#include "training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/duration.h"             // human_duration
#include "core/device.h"               // device_name, device memory stats and limit
#include "core/error.h"                // CATDOG_CHECK, cat, fail
#include "core/one_line.h"             // one_line: names with newlines stay on their line
#include "engine/feature_cache.h"      // the frozen base's outputs, computed once
#include "engine/sgd.h"                // SGD with momentum
#include "engine/step_memory.h"        // what a phase-2 step holds, by accounting
#include "engine/train_step.h"         // end_in_logits, train_step
#include "training/fine_tune.h"        // --trainable-from, the second phase
#include "kernels/preprocess.h"        // parse_preprocess: --preprocess
#include "training/batch_source.h"     // PipelineBatches, CachedBatches
#include "training/batches.h"          // forward_dataset, evaluate_*, upload_vector
#include "training/checkpoint.h"       // Progress, save_checkpoint, restore_checkpoint
#include "training/data_parallel.h"    // mpirun -np N: sharded extraction, summed gradients
#include "training/model_setup.h"      // build_training_model, load_trained_model
#include "training/run_context.h"      // make_exec_context
#include "training/nccl_ranks.h"       // local_gpu
#include "training/run_files.h"        // history.csv, curves.png, train.log
#include "training/run_report.h"       // report.html
#include "training/tensorboard.h"      // events.out.tfevents.*
#include "training/trace_file.h"       // --trace FILE.json
#include "core/profiling.h"            // ProfileRange: spans on the trace and Nsight timelines
#include "training/settings.h"         // check_training_settings, check_image_size
#include "weights/atomic_file.h"       // remove_stale_temporaries
#include "weights/keras_h5.h"          // save_keras_model

namespace fs = std::filesystem;

namespace catdog {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_options(const TrainOptions& o) {
  CATDOG_CHECK(!o.data_dir.empty(), "train needs --data DIR (with train/<class>/ and test/<class>/)");
  check_training_settings({o.epochs, o.batch, o.lr, o.momentum}, SettingSource{});
  check_fine_tune_settings(o.fine_tune_epochs, o.fine_tune_lr, SettingSource{});
  if (o.image_size != 0) check_image_size(o.image_size, SettingSource{});
  CATDOG_CHECK(o.cache_features == "auto" || o.cache_features == "on" || o.cache_features == "off",
               "--cache-features must be auto, on or off, got '", o.cache_features, "'");
  CATDOG_CHECK(fs::is_directory(o.data_dir), "--data ", o.data_dir, " is not a directory");
  CATDOG_CHECK(fs::is_directory(fs::path(o.data_dir) / "train"), "--data ", o.data_dir,
               " has no train/ folder (expected train/<class>/ and test/<class>/; "
               "`catdog prepare` makes them)");
}

// --final: the test photos join the training set (same classes), kept in the Dataset's order (by
// label, then path), so the epochs' shuffles are those of one dataset of all the photos.
void add_test_photos_for_the_final_model(Dataset& train_set, const std::string& data_dir) {
  const fs::path test_dir = fs::path(data_dir) / "test";
  CATDOG_CHECK(fs::is_directory(test_dir), "--final trains on train/ and test/ together, and ",
               test_dir.string(), " is not a directory");
  const Dataset test_set = scan_dataset(test_dir.string());
  CATDOG_CHECK(test_set.class_names == train_set.class_names, test_dir.string(),
               " has other classes than train/");
  train_set.images.insert(train_set.images.end(), test_set.images.begin(), test_set.images.end());
  std::stable_sort(train_set.images.begin(), train_set.images.end(),
                   [](const LabeledImage& a, const LabeledImage& b) {
                     return a.label != b.label ? a.label < b.label : a.path < b.path;
                   });
}

// Everything one train() call holds: the options (as restored on resume), the run directory's
// files, the model and its data, where training stands, and what it will return.
struct Run {
  Run(const TrainOptions& options, TrainObserver& observer) : o(options), observer(observer) {}

  // A line of the run: to the observer and into train.log.
  void say(const std::string& text) {
    observer.say(text);
    if (log) log->line(text);
  }
  // Ctrl-C (through the observer), or --stop-after-steps (the tests' stand-in for it) reached.
  int total_epochs() const { return o.epochs + o.fine_tune_epochs; }
  bool stop_wanted() {
    return observer.stop_requested() ||
           (o.stop_after_steps >= 0 && steps_this_call >= o.stop_after_steps);
  }

  TrainOptions o;
  TrainObserver& observer;
  Ranks& ranks = catdog::ranks();  // rank 0 alone prints and writes files
  std::vector<uint8_t> train_decoded, test_decoded;  // over all ranks' shards
  fs::path run_dir;
  std::string model_path, checkpoint_path;
  std::unique_ptr<RunLog> log;
  std::unique_ptr<EventWriter> events;  // TensorBoard's view of the run
  ModelSetup setup;
  Progress progress;
  Dataset train_set, test_set;
  bool validate = false;
  ExecContext ctx;
  std::unique_ptr<SGD> sgd;
  size_t frozen_end = 0;
  size_t cut = 0;  // --trainable-from's layer index (0: none)
  bool use_cache = false;
  PipelineOptions pipe;
  std::unique_ptr<FeatureCache> train_cache, test_cache;
  std::vector<int64_t> test_slots;  // the test images that decoded, and their labels
  std::vector<float> test_labels;
  Tensor labels_device, dlogits;
  Evaluation last_test;          // the latest evaluation of test/, per photo (for report.html)
  bool tested = false;           // last_test holds the current model's
  int64_t steps_this_call = 0;
  TrainResult result;
};

// Training diverged (--lr far too high): the error, which also says that no file was replaced.
std::string diverged(const Run& run, const std::string& what) {
  return cat("training diverged: ", what, " (--lr ", run.o.lr, " too high?); ", run.model_path,
             " and ", run.checkpoint_path, " stay as the last complete epoch left them");
}

// The run directory and its log, the model (fresh, or where the checkpoint left off), the data,
// the device, and whether the frozen base's outputs will be cached.
void open_run(Run& run) {
  TrainOptions& o = run.o;
  check_options(o);
  run.run_dir = o.out_dir;
  std::error_code ec;
  fs::create_directories(run.run_dir, ec);
  CATDOG_CHECK(!ec && fs::is_directory(run.run_dir), "cannot create the run directory ",
               o.out_dir, ": ", ec.message());
  run.model_path = (run.run_dir / (o.final_fit ? "final_model.h5" : "model.h5")).string();
  run.checkpoint_path = (run.run_dir / "checkpoint.h5").string();
  if (run.ranks.is_root()) {
    run.log = std::make_unique<RunLog>((run.run_dir / "train.log").string());
    // A run killed mid-write left its temporary files; nothing will ever commit them.
    int stale = 0;
    for (const char* name : {"model.h5", "final_model.h5", "checkpoint.h5", "history.csv",
                             "curves.png", "report.html"})
      stale += remove_stale_temporaries((run.run_dir / name).string());
    if (stale > 0) run.log->line(cat("removed ", stale, " temporary files of a killed run"));
    run.events = std::make_unique<EventWriter>(run.run_dir.string());
  }
  run.result.model_path = run.model_path;

  if (o.resume) {
    CATDOG_CHECK(fs::exists(run.checkpoint_path), "--resume: there is no checkpoint ",
                 run.checkpoint_path, " (train without --resume first)");
    run.progress = restore_checkpoint(run.checkpoint_path, run.setup, o);
    run.say(cat("Resuming from ", run.checkpoint_path, ": ", run.progress.epochs_done,
                " epochs and ", run.progress.batches_done, " batches done"));
  } else {
    run.setup = build_training_model(o.model, o.weights, o.image_size, o.seed);
    if (!o.preprocess.empty()) run.setup.preprocess = parse_preprocess(o.preprocess);
  }
  Sequential& model = run.setup.model;
  end_in_logits(model);
  if (o.fine_tune_epochs > 0 && o.trainable_from.empty()) {
    o.trainable_from = default_trainable_from(run.setup.base);
    CATDOG_CHECK(!o.trainable_from.empty(), "--fine-tune-epochs: model ", run.setup.name,
                 " has no default cut; name the first layer to train with --trainable-from LAYER");
  }
  if (!o.trainable_from.empty()) {
    run.cut = trainable_from_index(model, o.trainable_from);
    // Phase 1 of a two-phase run keeps the base frozen; a single phase trains from the cut.
    if (o.fine_tune_epochs == 0 || run.progress.phase == 2) train_from(model, run.cut);
  }

  run.train_set = scan_dataset((fs::path(o.data_dir) / "train").string());
  CATDOG_CHECK(run.train_set.class_names.size() == 2, o.data_dir, "/train has ",
               run.train_set.class_names.size(), " classes; a binary classifier needs exactly 2");
  if (o.final_fit) add_test_photos_for_the_final_model(run.train_set, o.data_dir);
  const auto images = static_cast<int64_t>(run.train_set.images.size());
  const int64_t batches = (images + o.batch - 1) / o.batch;
  CATDOG_CHECK(run.progress.batches_done <= batches, run.checkpoint_path,
               ": its catdog_state batches_done ", run.progress.batches_done,
               " is more than the epoch's ", batches, " batches (another dataset?)");
  run.validate = o.validate && !o.final_fit && fs::is_directory(fs::path(o.data_dir) / "test");
  if (run.validate) {
    run.test_set = scan_dataset((fs::path(o.data_dir) / "test").string());
    CATDOG_CHECK(run.test_set.class_names == run.train_set.class_names, o.data_dir,
                 "/test has other classes than train/");
  }

  if (o.max_device_memory) set_device_memory_limit(o.max_device_memory);
  run.ctx = make_exec_context(o.device, o.precision, o.seed,
                              o.device == "cpu" ? 0 : local_gpu(run.ranks));
  run.ctx.conv_algo = parse_conv_algo(o.conv_algo);
  ExecContext& ctx = run.ctx;
  ctx.step = run.progress.step;
  model.to_device(ctx.device);
  for (Param* p : model.trainable_params()) {
    if (p->velocity.defined()) p->velocity = p->velocity.to(ctx.device);
  }
  run.sgd = std::make_unique<SGD>(run.progress.phase == 2 ? o.fine_tune_lr : o.lr, o.momentum);

  run.frozen_end = model.trainable_begin();
  const bool cache_possible = run.frozen_end > 0 && !o.augment;
  CATDOG_CHECK(o.cache_features != "on" || cache_possible, "--cache-features on needs a frozen ",
               "base and no --augment (this model has ", run.frozen_end, " frozen layers",
               o.augment ? ", and --augment is on" : "", ")");
  run.use_cache = cache_possible && o.cache_features != "off";
  // Dropout draws its masks by the whole batch's rows (ExecContext::first_row), which a rank's
  // rows from the cache, a strided shard, are not contiguous in.
  for (size_t i = 0; run.ranks.size() > 1 && run.use_cache && i < model.size(); ++i) {
    CATDOG_CHECK(!model.layer(i).stochastic(), "layer '", model.layer(i).name(), "' (",
                 model.layer(i).class_name(), ") trains from the feature cache on one rank only, not ",
                 run.ranks.size(), " (--cache-features off trains it on ranks; docs/DISTRIBUTED.md)");
  }
  run.result.used_feature_cache = run.use_cache;

  PipelineOptions& pipe = run.pipe;
  pipe.height = pipe.width = run.setup.image_size;
  pipe.batch_size = o.batch;
  pipe.workers = o.workers;
  share_cores_among_local_ranks(run.ranks, pipe.workers);
  pipe.shuffle = false;  // epoch_order shuffles, the same way with or without the cache
  pipe.seed = o.seed;
  pipe.augment = o.augment;
  pipe.resize = parse_resize_mode(o.resize);
  pipe.pinned = ctx.on_gpu();
  RunLog* log = run.log.get();
  pipe.warning = [log](const std::string& warning) {
    if (log) log->line("warning: " + warning);
  };

  run.say(cat("catdog train: model ", run.setup.name, " (", model.param_count(true),
              " trainable, ", model.param_count(false), " frozen parameters), ",
              run.train_set.images.size(), " train / ", run.test_set.images.size(),
              " test images, device ", device_name(ctx.device),
              ctx.on_gpu() ? cat(" (", cuda_device_description(), ", ",
                                 precision_name(ctx.precision), ")")
                           : "",
              ", preprocess ", preprocess_name(run.setup.preprocess),
              ", feature cache ", run.use_cache ? "on" : "off",
              run.ranks.size() > 1 ? cat(", ", run.ranks.size(), " ranks") : ""));
  if (o.fine_tune_epochs > 0) {
    run.say(cat("Fine-tuning: after ", o.epochs, " head epochs, ", o.fine_tune_epochs,
                " epochs train from layer ", o.trainable_from, " on at lr ", o.fine_tune_lr,
                run.progress.phase == 2 ? " (in progress)" : ""));
  }
}

// The feature cache: the frozen part (the base, or in phase 2 the layers below the cut) runs once
// per image, train and test. `part` names it in the run's lines.
void fill_feature_caches(Run& run, const std::string& part) {
  const auto start = Clock::now();
  run.train_cache.reset();  // a cache of the previous phase's cut gives its memory back first
  run.test_cache.reset();
  run.test_slots.clear();
  run.test_labels.clear();
  Sequential& model = run.setup.model;
  const Shape out_shape = model.layer_output_shape(run.frozen_end - 1, 1);
  const Shape feature(out_shape.begin() + 1, out_shape.end());
  const auto fill = [&](const Dataset& set, std::unique_ptr<FeatureCache>& cache,
                        std::vector<uint8_t>& decoded, const char* which) {
    ProfileRange range("cache", "feature cache fill", which);
    const DeviceMemoryStats mem = device_memory_stats();
    const size_t margin = size_t{512} << 20;  // room for the head's buffers
    const size_t budget = mem.limit == 0 ? SIZE_MAX
                                         : (mem.limit > mem.reserved + margin
                                                ? mem.limit - mem.reserved - margin : 0);
    cache = std::make_unique<FeatureCache>(static_cast<int64_t>(set.images.size()), feature,
                                           run.ctx.device, budget);
    std::vector<int64_t> slot_of;  // this rank's shard of the images (all of them on one rank)
    const Dataset shard = shard_of(set, run.ranks.shard(), slot_of);
    run.observer.on_pass_begin(cat(part, " (", which, ")"),
                               static_cast<int64_t>(shard.images.size()));
    std::vector<int64_t> slots;
    const std::string summary = forward_dataset(
        model, run.frozen_end, shard, run.pipe, run.setup.preprocess, run.ctx,
        [&](const std::vector<int64_t>& indices, const Tensor& features) {
          slots.clear();
          for (const int64_t i : indices) slots.push_back(slot_of[static_cast<size_t>(i)]);
          cache->store(slots, features, run.ctx.cuda);
        },
        nullptr,
        [&](int64_t done, double wait_seconds) { run.observer.on_pass_progress(done, wait_seconds); });
    run.observer.on_pass_end();
    decoded = decoded_on_any_rank(*cache, run.ranks);
    const auto decoded_count = std::count(decoded.begin(), decoded.end(), uint8_t{1});
    run.say(cat("Feature cache (", which, ", output of ", model.layer(run.frozen_end - 1).name(),
                "): ", decoded_count, " images, ",
                cache->bytes() < (size_t{10} << 20) ? cat(cache->bytes() >> 10, " KiB")
                                                    : cat(cache->bytes() >> 20, " MiB"),
                " in ", device_name(cache->storage_device()), " memory; ",
                run.ranks.size() > 1 ? "rank 0's share: " : "", summary));
    run.result.skipped_images += static_cast<int64_t>(set.images.size()) - decoded_count;
  };
  fill(run.train_set, run.train_cache, run.train_decoded, "train");
  if (run.validate) {
    fill(run.test_set, run.test_cache, run.test_decoded, "test");
    for (int64_t i = 0; i < run.test_cache->slots_count(); ++i) {
      if (!run.test_decoded[static_cast<size_t>(i)]) continue;
      run.test_slots.push_back(i);
      run.test_labels.push_back(
          static_cast<float>(run.test_set.images[static_cast<size_t>(i)].label));
    }
  }
  const double seconds = seconds_since(start);
  run.result.extract_seconds += seconds;
  run.say(cat(part, " ran once per image in ", human_duration(seconds)));
}

std::unique_ptr<BatchSource> make_batch_source(const Run& run) {
  if (run.use_cache) {
    return std::make_unique<CachedBatches>(run.train_set, *run.train_cache, run.frozen_end,
                                           run.o.batch, run.o.seed, run.result.skipped_images,
                                           run.train_decoded, run.ranks.shard());
  }
  return std::make_unique<PipelineBatches>(run.train_set, run.pipe, run.setup.preprocess,
                                           run.o.batch, run.o.seed, run.ranks.shard());
}

// Trains the rest of epoch `epoch` (all of it, or from where a resumed checkpoint stopped).
// Returns false when a stop was asked for before its last batch; a checkpoint is then written.
bool run_epoch(Run& run, BatchSource& batches, int epoch, Clock::time_point epoch_start) {
  Progress& progress = run.progress;
  const int64_t first = progress.batches_done;
  const int64_t steps = batches.start_epoch(epoch, first);
  run.observer.on_epoch_begin(epoch, run.total_epochs(), steps);
  bool stopped = false;
  const auto train_start = Clock::now();
  TrainBatch batch;
  const auto next_batch = [&] {
    ProfileRange range("batch", "next batch");
    return batches.next(batch, run.ctx);
  };
  for (int64_t step = first; step < steps && next_batch(); ++step) {
    ProfileRange range("step", "step");
    if (range.trace().active()) {
      range.trace().set_args(cat("{\"epoch\":", epoch, ",\"step\":", step + 1, ",\"images\":",
                                 batch.labels.size(), "}"));
    }
    ++run.steps_this_call;
    const ParallelStepResult r =
        data_parallel_step(run.setup.model, batch, run.labels_device, *run.sgd, run.ctx,
                           run.dlogits, run.ranks, run.stop_wanted());
    if (run.events) run.events->scalar("batch/loss", static_cast<int64_t>(run.ctx.step), r.loss);
    if (run.ctx.on_gpu() && step == first) sample_device_memory();  // workspaces are grown now
    if (!std::isfinite(r.loss)) {
      fail(diverged(run, cat("the loss is ", r.loss, " at epoch ", epoch, ", step ", step + 1,
                             " of ", steps, "; nothing of this epoch is saved")));
    }

    const int64_t n = r.images;
    progress.loss_sum += r.loss * static_cast<double>(n);
    progress.correct += r.correct;
    progress.seen += n;
    progress.batches_done = step + 1;
    const double elapsed = progress.train_seconds + seconds_since(train_start);
    const double waited = progress.wait_seconds + batches.wait_seconds();
    run.observer.on_step({step + 1, steps, progress.loss_sum / progress.seen,
                          static_cast<double>(progress.correct) / progress.seen,
                          progress.seen / std::max(elapsed, 1e-9), waited / std::max(elapsed, 1e-9)});
    // One rank: the wish as it stands after this step. Over ranks: the wishes they sent with the
    // step (agreed, so all stop at the same step; Ctrl-C is then seen one step later).
    const bool stop = run.ranks.size() == 1 ? run.stop_wanted() : r.stop;
    if (stop && step + 1 < steps) {
      stopped = true;
      break;
    }
  }
  run.result.skipped_images = batches.skipped();
  progress.train_seconds += seconds_since(train_start);
  progress.wait_seconds += batches.wait_seconds();
  run.observer.on_epoch_end();
  const BatchSource::Report report = batches.epoch_report();
  if (!report.summary.empty()) {
    run.say(run.ranks.size() > 1 && !run.use_cache ? "rank 0's share: " + report.summary
                                                   : report.summary);
  }
  for (const std::string& file : report.skipped_files) {
    if (run.log) run.log->line("skipped: " + file);
  }
  if (!stopped) return true;

  progress.epoch_seconds += seconds_since(epoch_start);
  progress.step = run.ctx.step;
  if (run.ranks.is_root()) save_checkpoint(run.checkpoint_path, run.setup.model, run.setup, run.o, progress);
  run.say(cat("Stopped during epoch ", epoch, " after ", progress.batches_done, " of ", steps,
              " batches; checkpoint written to ", run.checkpoint_path,
              ". Continue with the same command and --resume."));
  return false;
}

// The current model on test/ (kept in run.last_test): through the cache's frozen outputs when
// there is one.
const Evaluation& evaluate_test_set(Run& run) {
  run.last_test =
      run.use_cache ? evaluate_cached_on_ranks(run.setup.model, run.frozen_end, *run.test_cache,
                                               run.test_slots, run.test_labels, run.o.batch,
                                               run.ctx, run.ranks)
                    : evaluate_dataset_on_ranks(run.setup.model, run.test_set, run.pipe,
                                                run.setup.preprocess, run.ctx, run.ranks);
  run.tested = true;
  return run.last_test;
}

// The epoch's record: the training means, and the model's loss and accuracy on test/.
EpochRecord epoch_record(Run& run, int epoch, Clock::time_point epoch_start) {
  const Progress& progress = run.progress;
  EpochRecord record;
  record.epoch = epoch;
  record.phase = progress.phase;
  record.loss = progress.seen ? progress.loss_sum / progress.seen : std::nan("");
  record.accuracy = progress.seen ? static_cast<double>(progress.correct) / progress.seen
                                  : std::nan("");
  record.images_per_second = progress.seen / std::max(progress.train_seconds, 1e-9);
  record.wait_fraction = progress.wait_seconds / std::max(progress.train_seconds, 1e-9);
  record.val_loss = record.val_accuracy = std::nan("");
  if (run.validate) {
    ProfileRange range("eval", "validation");
    const Evaluation& val = evaluate_test_set(run);
    record.val_loss = val.loss;
    record.val_accuracy = val.accuracy;
  }
  record.seconds = progress.epoch_seconds + seconds_since(epoch_start);
  return record;
}

// The epoch's summary line, then everything a killed run needs, each file written atomically:
// history.csv, curves.png, model.h5 and checkpoint.h5.
void end_epoch(Run& run, const EpochRecord& record) {
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "epoch %d/%d%s - %.1fs - loss: %.4f - accuracy: %.4f - val_loss: %.4f - "
                "val_accuracy: %.4f - %.0f img/s - waited for data %.0f%%",
                record.epoch, run.total_epochs(), record.phase == 2 ? " (fine-tuning)" : "",
                record.seconds, record.loss, record.accuracy,
                record.val_loss, record.val_accuracy, record.images_per_second,
                100 * record.wait_fraction);
  run.say(summary);

  Progress next;  // a new epoch: nothing of it trained yet
  next.epochs_done = record.epoch;
  next.step = run.ctx.step;
  next.phase = run.progress.phase;
  next.history = std::move(run.progress.history);
  next.history.push_back(record);
  run.progress = std::move(next);
  if (run.ranks.is_root()) {
    write_history_csv((run.run_dir / "history.csv").string(), run.progress.history);
    for (const auto& [tag, value] : {std::pair<const char*, double>{"epoch/loss", record.loss},
                                     {"epoch/accuracy", record.accuracy},
                                     {"epoch/val_loss", record.val_loss},
                                     {"epoch/val_accuracy", record.val_accuracy}}) {
      if (std::isfinite(value)) run.events->scalar(tag, record.epoch, value);  // NaN: not validated
    }
    std::string why;
    if (!draw_curves((run.run_dir / "curves.png").string(), run.progress.history, &why)) {
      run.log->line("curves.png not drawn: " + why);
    }
  }
  Sequential& model = run.setup.model;
  for (size_t i = model.trainable_begin(); i < model.size(); ++i) {
    for (const Param* p : model.layer(i).params()) {
      const std::vector<float> values = p->value.to_vector();
      if (!std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); })) {
        fail(diverged(run, cat("layer '", model.layer(i).name(), "' weight '", p->name,
                               "' is not finite after epoch ", record.epoch)));
      }
    }
  }
  if (!run.ranks.is_root()) return;
  ProfileRange range("io", "save model.h5 and checkpoint.h5");
  SaveExtras extras;
  extras.catdog_state = model_state_json(run.setup);
  TrainOptions compiled = run.o;  // what the current phase's compile() was given
  compiled.lr = run.sgd->learning_rate();
  extras.training_config = training_config_json(compiled);
  save_keras_model(run.model_path, run.setup.model, run.setup.name, extras);
  save_checkpoint(run.checkpoint_path, run.setup.model, run.setup, run.o, run.progress);
}

// report.html of the model as it stands (training/run_report.h): from the last evaluation of
// test/, or a fresh one when this call trained nothing (a --resume of a finished run).
void write_report(Run& run) {
  if (run.validate && !run.tested) evaluate_test_set(run);
  run.result.history = run.progress.history;
  if (!run.ranks.is_root()) return;
  TrainReportInput in;
  in.options = &run.o;
  in.setup = &run.setup;
  in.class_names = run.train_set.class_names;
  in.test_set = &run.test_set;
  in.last_test = run.validate ? &run.last_test : nullptr;
  in.result = &run.result;
  in.ctx = &run.ctx;
  const std::string path = (run.run_dir / "report.html").string();
  write_report_html(path, train_report(in));
  run.say(cat("Report written to ", path));
}

// Phase 2: the layers from the cut on train too, with the small learning rate and fresh momentum
// (Keras recompiles, which makes a new optimizer), and the cache moves to the cut.
void begin_fine_tuning(Run& run) {
  Sequential& model = run.setup.model;
  double head_seconds = 0;
  for (const EpochRecord& e : run.progress.history) head_seconds += e.seconds;
  train_from(model, run.cut);
  for (Param* p : model.all_params()) p->velocity = Tensor();
  run.sgd = std::make_unique<SGD>(run.o.fine_tune_lr, run.o.momentum);
  run.progress.phase = 2;
  const size_t cut = model.trainable_begin();  // the first layer with trainable weights
  run.frozen_end = cut;
  run.use_cache = run.use_cache && run.frozen_end > 0;
  const StepMemory step = step_memory(model, run.o.batch, run.use_cache ? run.frozen_end : 0);
  run.say(cat("Phase 1 (head) took ", human_duration(head_seconds), "; phase 2 (fine-tuning) ",
              "trains layers ", run.o.trainable_from, " on (", model.param_count(true),
              " trainable, ", model.param_count(false), " frozen parameters) at lr ",
              run.o.fine_tune_lr, " with fresh momentum; a step holds ", step.total() >> 20,
              " MiB by accounting (activations ", step.activations >> 20, " MiB)"));
  if (run.use_cache) fill_feature_caches(run, "Layers below the cut");
}

}  // namespace

void TextObserver::say(const std::string& line) { out_ << one_line(line) << "\n" << std::flush; }

TrainResult train(const TrainOptions& options, TrainObserver& observer) {
  TraceFile trace(ranks().is_root() ? options.trace_path : "");
  RootObserver root_observer(observer, ranks());
  Run run(options, root_observer);
  open_run(run);
  const auto finish_trace = [&] {
    const std::string line = trace.finish();
    if (!line.empty()) run.say(line);
  };
  if (run.use_cache) {
    fill_feature_caches(run, run.progress.phase == 2 ? "Layers below the cut" : "Frozen base");
  }
  std::unique_ptr<BatchSource> batches = make_batch_source(run);
  for (int epoch = run.progress.epochs_done + 1; epoch <= run.total_epochs(); ++epoch) {
    if (epoch > run.o.epochs && run.progress.phase == 1) {
      begin_fine_tuning(run);
      batches = make_batch_source(run);
    }
    const auto epoch_start = Clock::now();
    if (!run_epoch(run, *batches, epoch, epoch_start)) {  // stopped mid-epoch, checkpointed
      run.result.interrupted = true;
      run.result.history = run.progress.history;
      finish_trace();
      return run.result;
    }
    end_epoch(run, epoch_record(run, epoch, epoch_start));
    if (any_rank(run.ranks, run.stop_wanted(), "the stop request") &&
        epoch < run.total_epochs()) {
      run.say(cat("Stopped after epoch ", epoch, "; checkpoint written to ", run.checkpoint_path,
                  ". Continue with the same command and --resume."));
      run.result.interrupted = true;
      break;
    }
  }
  if (run.ctx.on_gpu()) {
    sample_device_memory();
    const DeviceMemoryStats mem = device_memory_stats();
    run.say(cat("Peak device memory: ", mem.peak >> 20, " MiB in catdog's buffers; ",
                mem.gpu_used_peak >> 20, " MiB of the GPU's ", mem.gpu_total >> 20,
                " MiB in use (cudaMemGetInfo: with the CUDA context, cuDNN and cuBLAS)"));
  }
  run.result.history = run.progress.history;
  if (!run.result.interrupted) run.say(cat("Model saved to ", run.model_path));
  if (!run.result.history.empty()) write_report(run);
  finish_trace();
  return run.result;
}

TrainResult train(const TrainOptions& options, std::ostream& out) {
  TextObserver observer(out);
  return train(options, observer);
}

}  // namespace catdog
