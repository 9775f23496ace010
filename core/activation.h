// The activations a Conv2D or Dense layer fuses into its output (Keras' `activation` field), and
// the elementwise activation layers compute, as a small enum the kernels and the layers share.
// leaky_relu has a slope `alpha` for x < 0, passed beside the enum (LeakyReLU layers only; Keras'
// `activation` field cannot name it).
#pragma once

#include <cstdint>
#include <string>

namespace catdog {

enum class Activation : uint8_t { linear, relu, sigmoid, leaky_relu };
// "linear" (or ""), "relu", "sigmoid"; anything else throws catdog::Error naming the layer.
Activation parse_activation(const std::string& name, const std::string& layer);
const char* activation_name(Activation activation);

}  // namespace catdog
