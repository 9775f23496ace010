#include "training/model_setup.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/builtin_models.h"
#include "core/error.h"
#include "core/json_text.h"
#include "engine/model_config.h"
#include "training/settings.h"
#include "weights/keras_h5.h"

namespace catdog {

using nlohmann::json;

namespace {

int default_image_size(const std::string& base) {
  return (base == "vgg16" || base == "tiny-darknet") ? 224 : 200;
}

// Build for a square input and report a too-small image as the user's mistake, with the layer.
void build_for(Sequential& model, int image_size, const std::string& what) {
  check_image_size(image_size, SettingSource{});
  try {
    model.build({image_size, image_size, 3});
    (void)model.layer_output_shape(model.size() - 1, 1);
  } catch (const Error& e) {
    fail(what, " cannot take ", image_size, "x", image_size, " images: ", e.what());
  }
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  CATDOG_CHECK(in.good(), "cannot read ", path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> output_class_names(const ModelSetup& setup) {
  if (!setup.base.empty()) return {"cats", "dogs"};
  return {"0", "1"};
}

std::string model_state_json(const ModelSetup& setup) {
  return json{{"base", setup.base},
              {"preprocess", preprocess_name(setup.preprocess)},
              {"image_size", setup.image_size}}
      .dump();
}

ModelSetup build_training_model(const std::string& model, const std::string& weights,
                                int image_size, uint64_t seed) {
  ModelSetup setup;
  setup.base = model;
  setup.image_size = image_size > 0 ? image_size : default_image_size(model);
  setup.preprocess = parse_preprocess(pretrained_preprocessing(model));
  const bool pretrained = model == "vgg16" || model == "tiny-darknet";
  if (pretrained) {
    CATDOG_CHECK(!weights.empty(), "--model ", model, " needs --weights FILE.h5 (its pretrained ",
                 "ImageNet weights; scripts/fetch-assets.sh downloads VGG16's)");
    KerasH5 file = read_keras_h5(weights);
    ParsedModel parsed = parse_model_config(transfer_model_config(model));
    setup.name = parsed.name;
    setup.model = std::move(parsed.model);
    build_for(setup.model, setup.image_size, "model " + model);
    setup.model.initialize(seed);
    const size_t base_layers = setup.model.size() - transfer_head_layers().size();
    load_weights(setup.model, file, weights, base_layers);
    return setup;
  }
  CATDOG_CHECK(weights.empty(), "--weights is only for pretrained bases (vgg16, tiny-darknet); ",
               model, " trains from scratch");
  ParsedModel parsed = parse_model_config(builtin_model_config(model));
  setup.name = parsed.name;
  setup.model = std::move(parsed.model);
  build_for(setup.model, setup.image_size, "model " + model);
  setup.model.initialize(seed);
  return setup;
}

ModelSetup load_trained_model(const std::string& path, KerasH5* file) {
  LoadedModel loaded = load_keras_model(path);
  ModelSetup setup;
  setup.name = loaded.parsed.name;
  setup.model = std::move(loaded.parsed.model);
  json state = json::object();
  if (!loaded.file.catdog_state.empty()) {
    state = parse_json_bounded(loaded.file.catdog_state, path + ": its catdog_state");
  }
  // A hand-edited or damaged file may hold any JSON here (found by fuzz/fuzz_keras_h5).
  CATDOG_CHECK(state.is_object(), path, ": its catdog_state attribute is not a JSON object");
  const Shape& hwc = setup.model.built() ? setup.model.input_shape() : loaded.parsed.input_hwc;
  try {
    setup.base = state.value("base", "");
    setup.preprocess = parse_preprocess(state.value("preprocess", "scale"));
    const json size = state.value("image_size", json(hwc.empty() ? 224 : hwc[0]));
    CATDOG_CHECK(size.is_number_integer(), path, ": its catdog_state image_size ", json_excerpt(size),
                 " is not a whole number");
    check_image_size(size.get<int64_t>(), SettingSource{path});
    setup.image_size = size.get<int>();
    CATDOG_CHECK(!setup.model.built() || hwc[0] == setup.image_size, path,
                 ": its catdog_state image_size ", setup.image_size, " is not the model's input ",
                 to_string(hwc));
  } catch (const json::exception& e) {
    fail(path, ": its catdog_state attribute has a field of the wrong type: ", e.what());
  }
  if (!setup.model.built()) build_for(setup.model, setup.image_size, path);
  if (file) *file = std::move(loaded.file);
  return setup;
}

ModelSetup describe_model(const std::string& name_or_file) {
  if (is_builtin_model(name_or_file)) {
    ModelSetup setup;
    setup.base = name_or_file;
    setup.image_size = default_image_size(name_or_file);
    setup.preprocess = parse_preprocess(pretrained_preprocessing(name_or_file));
    ParsedModel parsed = (name_or_file == "vgg16" || name_or_file == "tiny-darknet")
                             ? parse_model_config(transfer_model_config(name_or_file))
                             : parse_model_config(builtin_model_config(name_or_file));
    setup.name = parsed.name;
    setup.model = std::move(parsed.model);
    build_for(setup.model, setup.image_size, "model " + name_or_file);
    return setup;
  }
  CATDOG_CHECK(std::filesystem::exists(name_or_file), "'", name_or_file,
               "' is neither a built-in model nor a file");
  if (name_or_file.size() > 5 && name_or_file.substr(name_or_file.size() - 5) == ".json") {
    ModelSetup setup;
    ParsedModel parsed = parse_model_config_text(read_text_file(name_or_file));
    setup.name = parsed.name;
    setup.model = std::move(parsed.model);
    const int64_t side = parsed.input_hwc.empty() ? 224 : parsed.input_hwc[0];
    check_image_size(side, SettingSource{name_or_file});
    setup.image_size = static_cast<int>(side);
    build_for(setup.model, setup.image_size, name_or_file);
    return setup;
  }
  return load_trained_model(name_or_file);
}

}  // namespace catdog
