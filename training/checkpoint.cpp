#include "training/checkpoint.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "weights/keras_h5.h"

using nlohmann::json;

namespace catdog {

namespace {

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
                      {"cache_features", o.cache_features}, {"augment", o.augment}};
  extras.catdog_state = state.dump();
  extras.training_config = training_config_json(o);
  save_keras_model(path, model, setup.name, extras);
}

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

}  // namespace catdog
