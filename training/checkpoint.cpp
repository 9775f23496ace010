#include "training/checkpoint.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "kernels/preprocess.h"
#include "training/settings.h"
#include "weights/keras_h5.h"

using nlohmann::json;

namespace catdog {

namespace {

json history_json(const std::vector<EpochRecord>& history) {
  json rows = json::array();
  for (const EpochRecord& e : history) {
    rows.push_back({e.epoch, e.loss, e.accuracy, std::isfinite(e.val_loss) ? json(e.val_loss) : json(),
                    std::isfinite(e.val_accuracy) ? json(e.val_accuracy) : json(), e.seconds,
                    e.images_per_second, e.wait_fraction, e.phase});
  }
  return rows;
}

// A field of the trainer state, of the type asked for; what is wrong names the file and field.
int64_t integer_field(const json& t, const char* field, const std::string& path) {
  const json& v = t.at(field);
  CATDOG_CHECK(v.is_number_integer() && (!v.is_number_unsigned() ||
                                         v.get<uint64_t>() <= uint64_t{INT64_MAX}),
               path, ": its catdog_state ", field, " ", json_excerpt(v), " is not a whole number");
  return v.get<int64_t>();
}

double number_field(const json& v, const char* field, const std::string& path) {
  CATDOG_CHECK(v.is_number(), path, ": its catdog_state ", field, " ", json_excerpt(v),
               " is not a number");
  return v.get<double>();
}

// A count or a time: finite and not negative.
double amount_field(const json& t, const char* field, const std::string& path) {
  const double v = number_field(t.at(field), field, path);
  CATDOG_CHECK(std::isfinite(v) && v >= 0, path, ": its catdog_state ", field, " ", v,
               " is not a finite amount >= 0");
  return v;
}

std::vector<EpochRecord> history_from_json(const json& rows, const std::string& path) {
  CATDOG_CHECK(rows.is_array() && rows.size() <= static_cast<size_t>(kMaxEpochs), path,
               ": its catdog_state history is not a list of at most ", kMaxEpochs, " epochs");
  std::vector<EpochRecord> history;
  auto number = [&](const json& v) {
    return v.is_null() ? std::nan("") : number_field(v, "history", path);
  };
  for (const json& r : rows) {
    // 9 values; checkpoints from before fine-tuning existed have no phase (8).
    CATDOG_CHECK(r.is_array() && (r.size() == 8 || r.size() == 9), path,
                 ": its catdog_state history row ", history.size() + 1,
                 " is not a list of 8 or 9 values");
    EpochRecord e;
    CATDOG_CHECK(r[0].is_number_integer() && r[0].get<int64_t>() == int64_t(history.size()) + 1,
                 path, ": its catdog_state history row ", history.size() + 1, " is for epoch ",
                 json_excerpt(r[0]));
    e.epoch = r[0].get<int>();
    e.loss = number(r[1]);
    e.accuracy = number(r[2]);
    e.val_loss = number(r[3]);
    e.val_accuracy = number(r[4]);
    e.seconds = number(r[5]);
    e.images_per_second = number(r[6]);
    e.wait_fraction = number(r[7]);
    if (r.size() == 9) {
      CATDOG_CHECK(r[8] == 1 || r[8] == 2, path, ": its catdog_state history row ",
                   history.size() + 1, " has phase ", json_excerpt(r[8]), ", not 1 or 2");
      e.phase = r[8].get<int>();
    }
    history.push_back(e);
  }
  return history;
}

// The progress fields against each other: a history row per epoch done, and the current epoch's
// counts within what its batches can hold.
void check_progress(const Progress& p, int64_t batch, const std::string& path) {
  const std::string where = path + ": its catdog_state ";
  CATDOG_CHECK(p.history.size() == static_cast<size_t>(p.epochs_done), where, "history has ",
               p.history.size(), " epochs, epochs_done says ", p.epochs_done);
  CATDOG_CHECK(p.batches_done >= 0 && p.batches_done <= INT64_MAX / kMaxBatch, where,
               "batches_done ", p.batches_done, " is out of range");
  CATDOG_CHECK(p.seen >= 0 && p.seen <= p.batches_done * batch, where, "seen ", p.seen,
               " images do not fit in ", p.batches_done, " batches of ", batch);
  CATDOG_CHECK(p.correct >= 0 && p.correct <= p.seen, where, "correct ", p.correct,
               " is not in 0..seen (", p.seen, ")");
  CATDOG_CHECK(p.step >= static_cast<uint64_t>(p.batches_done), where, "step ", p.step,
               " is less than batches_done ", p.batches_done);
}

// The pretrained weights file a run started from, as one string however it was spelt.
std::string weights_identity(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path full = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : full.string();
}

std::string velocity_name(const Layer& layer, const Param& p) {
  return layer.name() + "/" + p.name + ":0/momentum";
}

}  // namespace

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
                      {"weights", o.weights.empty() ? "" : weights_identity(o.weights)},
                      {"cache_features", o.cache_features}, {"augment", o.augment},
                      {"final", o.final_fit}, {"phase", p.phase}, {"head_epochs", o.epochs},
                      {"fine_tune_epochs", o.fine_tune_epochs}, {"fine_tune_lr", o.fine_tune_lr},
                      {"trainable_from", o.trainable_from}};
  extras.catdog_state = state.dump();
  extras.training_config = training_config_json(o);
  save_keras_model(path, model, setup.name, extras);
}

Progress restore_checkpoint(const std::string& path, ModelSetup& setup, TrainOptions& o) {
  KerasH5 file;
  setup = load_trained_model(path, &file);
  Progress p;
  TrainingSettings settings{o.epochs, 1, 0, 0};
  std::string base, weights;
  double fine_tune_lr = 0;
  int64_t head_epochs = o.epochs, fine_tune_epochs = o.fine_tune_epochs;
  try {
    const json t = parse_json_bounded(file.catdog_state, path + ": its catdog_state").at("trainer");
    const int64_t epochs_done = integer_field(t, "epochs_done", path);
    CATDOG_CHECK(epochs_done >= 0 && epochs_done <= kMaxEpochs, path,
                 ": its catdog_state epochs_done ", epochs_done, " is out of range (0..",
                 kMaxEpochs, ")");
    p.epochs_done = static_cast<int>(epochs_done);
    p.batches_done = integer_field(t, "batches_done", path);
    p.loss_sum = amount_field(t, "loss_sum", path);
    p.correct = integer_field(t, "correct", path);
    p.seen = integer_field(t, "seen", path);
    p.train_seconds = amount_field(t, "train_seconds", path);
    p.wait_seconds = amount_field(t, "wait_seconds", path);
    p.epoch_seconds = amount_field(t, "epoch_seconds", path);
    p.step = t.at("step");
    p.history = history_from_json(t.at("history"), path);
    settings.batch = integer_field(t, "batch", path);
    settings.lr = number_field(t.at("lr"), "lr", path);
    settings.momentum = number_field(t.at("momentum"), "momentum", path);
    base = t.at("model");
    weights = t.value("weights", "");
    // The run continues exactly as it started: same shuffles, batches and optimizer.
    o.seed = t.at("seed");
    o.augment = t.at("augment");
    // Checkpoints from before --final existed hold no "final": they were not final runs.
    CATDOG_CHECK(t.value("final", false) == o.final_fit, "--resume: ", path,
                 t.value("final", false) ? " continues a --final run: add --final"
                                         : " continues a run with validation: leave --final out");
    // Fine-tuning continues as it started; in phase 2 the head's epochs are history.
    const json phase = t.value("phase", json(1));
    CATDOG_CHECK(phase == 1 || phase == 2, path, ": its catdog_state phase ", json_excerpt(phase),
                 " is not 1 or 2");
    p.phase = phase.get<int>();
    o.trainable_from = t.value("trainable_from", o.trainable_from);
    fine_tune_lr = number_field(t.value("fine_tune_lr", json(o.fine_tune_lr)), "fine_tune_lr", path);
    if (p.phase == 2) {
      head_epochs = integer_field(t, "head_epochs", path);
      fine_tune_epochs = integer_field(t, "fine_tune_epochs", path);
    }
  } catch (const json::exception& e) {
    fail(path, ": not a catdog checkpoint (training state missing or damaged: ", e.what(), ")");
  }
  check_training_settings(settings, SettingSource{path});
  check_progress(p, settings.batch, path);
  check_fine_tune_settings(fine_tune_epochs, fine_tune_lr, SettingSource{path});
  CATDOG_CHECK(p.phase == 1 || (fine_tune_epochs >= 1 && head_epochs >= 1), path,
               ": its catdog_state is in phase 2 with head_epochs ", head_epochs,
               " and fine_tune_epochs ", fine_tune_epochs);
  CATDOG_CHECK(p.phase == 1 || head_epochs <= p.epochs_done, path,
               ": its catdog_state head_epochs ", head_epochs, " is more than epochs_done ",
               p.epochs_done, " in phase 2");
  o.fine_tune_lr = static_cast<float>(fine_tune_lr);
  if (p.phase == 2) {
    o.epochs = static_cast<int>(head_epochs);
    o.fine_tune_epochs = std::max(o.fine_tune_epochs, static_cast<int>(fine_tune_epochs));
  }
  CATDOG_CHECK(o.model.empty() || o.model == base, "--resume: ", path, " continues model '", base,
               "', not --model ", o.model, " (leave --model out, or train anew elsewhere)");
  CATDOG_CHECK(o.weights.empty() || weights.empty() || weights_identity(o.weights) == weights,
               "--resume: ", path, " was trained from --weights ", weights, ", not ", o.weights);
  CATDOG_CHECK(o.image_size == 0 || o.image_size == setup.image_size, "--resume: ", path,
               " was trained at --image-size ", setup.image_size, ", not --image-size ",
               o.image_size, " (leave --image-size out, or train anew elsewhere)");
  CATDOG_CHECK(o.preprocess.empty() || parse_preprocess(o.preprocess) == setup.preprocess,
               "--resume: ", path, " was trained with --preprocess ",
               preprocess_name(setup.preprocess), ", not --preprocess ", o.preprocess,
               " (leave --preprocess out, or train anew elsewhere)");
  o.model = base;
  o.batch = static_cast<int>(settings.batch);
  o.lr = static_cast<float>(settings.lr);
  o.momentum = static_cast<float>(settings.momentum);
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

}  // namespace catdog
