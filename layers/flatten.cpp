#include "layers/flatten.h"

#include <limits>

#include "core/error.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

Shape Flatten::output_shape(const Shape& input) const {
  CATDOG_CHECK(input.size() >= 2, "Flatten layer ", name_, ": expected (N, ...) input, got ",
               to_string(input));
  // A shape from a file can be anything: a product that wrapped could look like a valid width.
  const int64_t features =
      checked_numel(Shape(input.begin() + 1, input.end()), std::numeric_limits<int64_t>::max());
  CATDOG_CHECK(features >= 0, "Flatten layer ", name_, ": input of shape ", to_string(input),
               " has more features than 64 bits count");
  return {input[0], features};
}

nlohmann::json Flatten::keras_config() const {
  return keras_layer_json("Flatten", *this, {{"data_format", "channels_last"}});
}

// NHWC rows are already in Keras' flatten order, so both directions are views of the same bytes
// (on either device).
void Flatten::forward_any_device(const Tensor& x, Tensor& y, ExecContext&) {
  y = x.view(output_shape(x.shape()));
}

void Flatten::backward_any_device(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                                  ExecContext&) {
  CATDOG_CHECK(dy.shape() == output_shape(x.shape()), "Flatten layer ", name_,
               ": gradient of shape ", to_string(dy.shape()), " for an input of shape ",
               to_string(x.shape()));
  if (dx) *dx = dy.view(x.shape());
}

}  // namespace catdog
