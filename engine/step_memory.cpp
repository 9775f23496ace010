#include "engine/step_memory.h"

#include <algorithm>

#include "core/error.h"

namespace catdog {

namespace {

int64_t floats(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

StepMemory step_memory(const Sequential& model, int64_t batch, size_t begin) {
  CATDOG_CHECK(begin < model.size(), "step_memory: layer ", begin, " of ", model.size());
  const size_t tb = std::max(model.trainable_begin(), begin);
  const auto input_of = [&](size_t i) {
    if (i > 0) return model.layer_output_shape(i - 1, batch);
    const Shape& hwc = model.input_shape();
    return Shape{batch, hwc[0], hwc[1], hwc[2]};
  };
  StepMemory m;
  int64_t largest_frozen = 0, largest_dx = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    for (const Param* p : layer.params()) {
      const int64_t bytes = 4 * p->value.numel();
      m.weights += bytes;
      if (layer.trainable() && p->trainable && i >= tb) m.gradients += bytes, m.velocities += bytes;
    }
    if (i < begin || layer.is_view()) continue;
    const int64_t out = 4 * floats(model.layer_output_shape(i, batch));
    if (i < tb) largest_frozen = std::max(largest_frozen, out);
    if (i >= tb) m.activations += out;
    if (i > tb) largest_dx = std::max(largest_dx, 4 * floats(input_of(i)));
  }
  m.input = 4 * floats(input_of(begin));
  m.input_gradients = 2 * largest_dx;
  m.frozen_buffers = 2 * largest_frozen;
  return m;
}

}  // namespace catdog
