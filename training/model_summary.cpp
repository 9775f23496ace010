#include "training/model_summary.h"

#include <cstdio>

namespace catdog {

std::string model_summary_text(ModelSetup& setup) {
  Sequential& model = setup.model;
  std::string out;
  char line[160];
  out += "Model: \"" + setup.name + "\"\n";
  out += std::string(86, '_') + "\n";
  std::snprintf(line, sizeof line, "%-34s %-26s %12s  %s\n", "Layer (type)", "Output Shape",
                "Param #", "Trainable");
  out += line + std::string(86, '=') + "\n";
  // Shapes as Keras prints them: the batch dimension is None.
  const auto keras_shape = [](Shape shape) {
    shape[0] = 1;
    std::string text = to_string(shape);
    return text.replace(1, 1, "None");
  };
  std::snprintf(line, sizeof line, "%-34s %-26s %12s  %s\n", "input_1 (InputLayer)",
                keras_shape({1, setup.image_size, setup.image_size, 3}).c_str(), "0", "");
  out += line;
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    const std::string shape = keras_shape(model.layer_output_shape(i, 1));
    const std::string label = layer.name() + " (" + layer.class_name() + ")";
    std::snprintf(line, sizeof line, "%-34s %-26s %12lld  %s\n", label.c_str(), shape.c_str(),
                  static_cast<long long>(layer.param_count()),
                  layer.param_count() == 0 ? "" : (layer.trainable() ? "yes" : "frozen"));
    out += line;
  }
  out += std::string(86, '=') + "\n";
  const auto group = [](int64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
    return s;
  };
  const int64_t trainable = model.param_count(true), frozen = model.param_count(false);
  out += "Total params: " + group(trainable + frozen) + "\n";
  out += "Trainable params: " + group(trainable) + "\n";
  out += "Non-trainable params: " + group(frozen) + "\n";
  return out;
}

}  // namespace catdog
