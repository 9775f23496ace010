// The activations a Conv2D or Dense layer fuses into its output (Keras' `activation` field), as a
// small enum the kernels and the layers share.
#pragma once

#include <cstdint>
#include <string>

namespace catdog {

enum class Activation : uint8_t { linear, relu, sigmoid };
// "linear" (or ""), "relu", "sigmoid"; anything else throws catdog::Error naming the layer.
Activation parse_activation(const std::string& name, const std::string& layer);
const char* activation_name(Activation activation);

}  // namespace catdog
