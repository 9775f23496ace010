#include "training/fine_tune.h"

#include <cstring>

#include "core/error.h"
#include "core/one_line.h"

namespace catdog {

std::string default_trainable_from(const std::string& base) {
  if (base == "vgg16") return "block5_conv1";
  if (base == "tiny-darknet") return "conv2d_14";
  return "";
}

size_t trainable_from_index(Sequential& model, const std::string& name) {
  std::string convs;
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    if (layer.name() == name) return i;
    if (std::strcmp(layer.class_name(), "Conv2D") == 0) convs += (convs.empty() ? "" : ", ") + layer.name();
  }
  fail("--trainable-from: the model has no layer '", one_line(name), "'",
       convs.empty() ? std::string() : cat(" (its Conv2D layers: ", convs, ")"));
}

void train_from(Sequential& model, size_t cut) {
  for (size_t i = 0; i < model.size(); ++i) model.layer(i).set_trainable(i >= cut);
}

}  // namespace catdog
