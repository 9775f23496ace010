#include "layers/flatten.h"

#include "core/error.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

Shape Flatten::output_shape(const Shape& input) const {
  CATDOG_CHECK(input.size() >= 2, "Flatten layer ", name_, ": expected (N, ...) input, got ",
               to_string(input));
  int64_t features = 1;
  for (size_t i = 1; i < input.size(); ++i) features *= input[i];
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
