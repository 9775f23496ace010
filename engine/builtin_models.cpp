#include "engine/builtin_models.h"

#include "core/error.h"

namespace catdog {

using nlohmann::json;

namespace {

json input_layer(int size) {
  return {{"class_name", "InputLayer"},
          {"config", {{"name", "input_1"}, {"batch_input_shape", {nullptr, size, size, 3}}}}};
}

json conv(const std::string& name, int filters, int kernel, const std::string& activation,
          bool use_bias, const std::string& initializer = "glorot_uniform") {
  return {{"class_name", "Conv2D"},
          {"config",
           {{"name", name}, {"filters", filters}, {"kernel_size", {kernel, kernel}},
            {"strides", {1, 1}}, {"padding", "same"}, {"activation", activation},
            {"use_bias", use_bias}, {"kernel_initializer", initializer}}}};
}

json max_pool(const std::string& name, const std::string& padding) {
  return {{"class_name", "MaxPooling2D"},
          {"config",
           {{"name", name}, {"pool_size", {2, 2}}, {"strides", {2, 2}}, {"padding", padding}}}};
}

json dense(const std::string& name, int units, const std::string& activation,
           const std::string& initializer) {
  return {{"class_name", "Dense"},
          {"config",
           {{"name", name}, {"units", units}, {"activation", activation},
            {"kernel_initializer", initializer}}}};
}

json dropout(const std::string& name, double rate) {
  return {{"class_name", "Dropout"}, {"config", {{"name", name}, {"rate", rate}}}};
}

json model(const std::string& name, json layers) {
  return {{"class_name", "Sequential"}, {"config", {{"name", name}, {"layers", layers}}}};
}

// VGG16 without its top, with Keras' layer names: 5 blocks of 3x3 'same' relu convolutions
// (64, 128, 256, 512, 512 filters; 2, 2, 3, 3, 3 of them), each closed by a 2x2 max pool.
json vgg16() {
  json layers = json::array({input_layer(224)});
  const int filters[5] = {64, 128, 256, 512, 512};
  const int convs[5] = {2, 2, 3, 3, 3};
  for (int b = 0; b < 5; ++b) {
    const std::string block = "block" + std::to_string(b + 1);
    for (int c = 0; c < convs[b]; ++c) {
      layers.push_back(conv(block + "_conv" + std::to_string(c + 1), filters[b], 3, "relu", true));
    }
    layers.push_back(max_pool(block + "_pool", "valid"));
  }
  return model("vgg16", layers);
}

// Tiny Darknet (the Darknet reference "tiny" ImageNet classifier) cut after leaky_re_lu_15: each
// unit is Conv2D (no bias) + BatchNormalization + LeakyReLU(0.1); 'M' marks a 2x2 'same' pool.
// At 224x224 its output is 14x14x128 = 25088 features, the size of VGG16's 7x7x512.
json tiny_darknet() {
  struct Unit { int filters, kernel; bool pool_after; };
  const Unit units[15] = {{16, 3, true},   {32, 3, true},   {16, 1, false}, {128, 3, false},
                          {16, 1, false},  {128, 3, true},  {32, 1, false}, {256, 3, false},
                          {32, 1, false},  {256, 3, true},  {64, 1, false}, {512, 3, false},
                          {64, 1, false},  {512, 3, false}, {128, 1, false}};
  json layers = json::array({input_layer(224)});
  int pools = 0;
  for (int i = 0; i < 15; ++i) {
    const std::string n = std::to_string(i + 1);
    layers.push_back(conv("conv2d_" + n, units[i].filters, units[i].kernel, "linear", false));
    layers.push_back({{"class_name", "BatchNormalization"},
                      {"config", {{"name", "batch_normalization_" + n}, {"epsilon", 1e-3}}}});
    layers.push_back({{"class_name", "LeakyReLU"},
                      {"config", {{"name", "leaky_re_lu_" + n}, {"alpha", 0.10000000149011612}}}});
    if (units[i].pool_after) layers.push_back(max_pool("max_pooling2d_" + std::to_string(++pools), "same"));
  }
  return model("tiny_darknet", layers);
}

// The tutorial's from-scratch baselines: `blocks` blocks of Conv 3x3 'same' he_uniform relu
// (32, 64, 128 filters) + MaxPool 2x2, then Flatten, Dense(128, relu), Dense(1, sigmoid); with
// dropout, 0.2 after each block and 0.5 after Dense(128). Input 200x200, as in the tutorial.
json vgg_baseline(int blocks, bool with_dropout) {
  const std::string name = "vgg" + std::to_string(blocks) + (with_dropout ? "-dropout" : "");
  json layers = json::array({input_layer(200)});
  for (int b = 0; b < blocks; ++b) {
    const std::string n = std::to_string(b + 1);
    layers.push_back(conv("conv2d_" + n, 32 << b, 3, "relu", true, "he_uniform"));
    layers.push_back(max_pool("max_pooling2d_" + n, "valid"));
    if (with_dropout) layers.push_back(dropout("dropout_" + n, 0.2));
  }
  layers.push_back({{"class_name", "Flatten"}, {"config", {{"name", "flatten"}}}});
  layers.push_back(dense("dense", 128, "relu", "he_uniform"));
  if (with_dropout) layers.push_back(dropout("dropout_head", 0.5));
  layers.push_back(dense("dense_1", 1, "sigmoid", "glorot_uniform"));
  return model(name, layers);
}

}  // namespace

std::vector<std::string> builtin_model_names() {
  return {"vgg16", "tiny-darknet", "vgg1", "vgg2", "vgg3", "vgg3-dropout"};
}

bool is_builtin_model(const std::string& name) {
  for (const auto& n : builtin_model_names()) {
    if (n == name) return true;
  }
  return false;
}

json builtin_model_config(const std::string& name) {
  if (name == "vgg16") return vgg16();
  if (name == "tiny-darknet") return tiny_darknet();
  if (name == "vgg1") return vgg_baseline(1, false);
  if (name == "vgg2") return vgg_baseline(2, false);
  if (name == "vgg3") return vgg_baseline(3, false);
  if (name == "vgg3-dropout") return vgg_baseline(3, true);
  std::string known;
  for (const auto& n : builtin_model_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown model '", name, "' (built-in models: ", known, ")");
}

std::string pretrained_preprocessing(const std::string& name) {
  if (name == "vgg16") return "caffe";         // Keras vgg16.preprocess_input
  if (name == "tiny-darknet") return "scale";  // RGB / 255
  return "scale";                              // the tutorial's baselines rescale by 1/255
}

json transfer_head_layers() {
  return json::array({{{"class_name", "Flatten"}, {"config", {{"name", "flatten"}}}},
                      dense("dense", 128, "relu", "he_uniform"),
                      dense("dense_1", 1, "sigmoid", "glorot_uniform")});
}

json transfer_model_config(const std::string& base) {
  CATDOG_CHECK(base == "vgg16" || base == "tiny-darknet", "model '", base,
               "' has no pretrained weights to transfer from (use vgg16 or tiny-darknet)");
  json config = builtin_model_config(base);
  json& layers = config["config"]["layers"];
  for (json& layer : layers) {
    if (layer["class_name"] != "InputLayer") layer["config"]["trainable"] = false;
  }
  for (const json& layer : transfer_head_layers()) layers.push_back(layer);
  config["config"]["name"] = base + "_transfer";
  return config;
}

}  // namespace catdog
