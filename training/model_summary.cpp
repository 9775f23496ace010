#include "training/model_summary.h"

#include <algorithm>
#include <string>
#include <vector>

namespace catdog {

std::string model_summary_text(ModelSetup& setup) {
  Sequential& model = setup.model;
  // Shapes as Keras prints them: the batch dimension is None.
  const auto keras_shape = [](Shape shape) {
    shape[0] = 1;
    std::string text = to_string(shape);
    return text.replace(1, 1, "None");
  };
  struct Row {
    std::string label, shape, params, trainable;
  };
  std::vector<Row> rows = {{"Layer (type)", "Output Shape", "Param #", "Trainable"},
                           {"input_1 (InputLayer)",
                            keras_shape({1, setup.image_size, setup.image_size, 3}), "0", ""}};
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    rows.push_back({layer.name() + " (" + layer.class_name() + ")",
                    keras_shape(model.layer_output_shape(i, 1)),
                    std::to_string(layer.param_count()),
                    layer.param_count() == 0 ? "" : (layer.trainable() ? "yes" : "frozen")});
  }
  // Keras' widths, widened to the longest label and shape so that every column stays in line
  // (Tiny Darknet's "batch_normalization_15 (BatchNormalization)" is 44 characters).
  size_t label_width = 34, shape_width = 26;
  for (const Row& row : rows) {
    label_width = std::max(label_width, row.label.size());
    shape_width = std::max(shape_width, row.shape.size());
  }
  const size_t rule = label_width + shape_width + 26;
  const auto cell = [](const std::string& text, size_t width, bool right) {
    const std::string pad(width - std::min(width, text.size()), ' ');
    return right ? pad + text : text + pad;
  };
  std::string out = "Model: \"" + setup.name + "\"\n" + std::string(rule, '_') + "\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    std::string line = cell(row.label, label_width, false) + " " +
                       cell(row.shape, shape_width, false) + " " + cell(row.params, 12, true) +
                       "  " + row.trainable;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) out += std::string(rule, '=') + "\n";
  }
  out += std::string(rule, '=') + "\n";
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
