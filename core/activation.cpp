#include "core/activation.h"

#include "core/error.h"

namespace catdog {

Activation parse_activation(const std::string& name, const std::string& layer) {
  if (name == "linear" || name.empty()) return Activation::linear;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  fail("layer ", layer, ": unsupported activation '", name, "' (supported: linear, relu, sigmoid)");
}

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::linear: return "linear";
    case Activation::relu: return "relu";
    case Activation::sigmoid: return "sigmoid";
    case Activation::leaky_relu: return "leaky_relu";
  }
  return "?";
}

}  // namespace catdog
