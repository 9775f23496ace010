// Fuzzes the Keras model_config parser (engine/model_config.h) and the layer registry behind it:
// JSON text -> Sequential. When the config gives an input shape, the model is also built (every
// layer's output shape and parameters) and written back with to_model_config.
//
// Asserts: a catdog::Error is the only acceptable failure; a built model's config parses again
// into the same number of layers with the same parameter count. Crashes, leaks, undefined
// behaviour (an overflowing shape) and any other exception (a raw nlohmann::json error) are
// findings.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/model_config.h"

namespace {

int64_t total_params(const catdog::ParsedModel& parsed) {
  return parsed.model.param_count(true) + parsed.model.param_count(false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    catdog::ParsedModel parsed = catdog::parse_model_config_text(text);
    if (parsed.input_hwc.empty()) return 0;
    parsed.model.build(parsed.input_hwc);
    catdog::ParsedModel again =
        catdog::parse_model_config_text(catdog::to_model_config(parsed.model, parsed.name).dump());
    again.model.build(again.input_hwc);
    if (again.model.size() != parsed.model.size() || total_params(again) != total_params(parsed))
      std::abort();
  } catch (const catdog::Error&) {
    // A refused config: the expected outcome for most inputs.
  }
  return 0;
}
