// The per-layer table of a model, as Keras' model.summary() prints it: name (type), output shape
// with the batch as None, parameters, and whether they train. `catdog summary` prints it and
// report.html shows it.
#pragma once

#include <string>

#include "training/model_setup.h"

namespace catdog {

// The whole table, lines ending in '\n', from `Model: "name"` to "Non-trainable params: N".
std::string model_summary_text(ModelSetup& setup);

}  // namespace catdog
