#include "kernels/preprocess.h"

#include "core/error.h"
#include "kernels/cpu/cpu_support.h"

namespace catdog {

Preprocess parse_preprocess(const std::string& name) {
  if (name == "caffe") return Preprocess::caffe;
  if (name == "tutorial") return Preprocess::tutorial;
  if (name == "scale") return Preprocess::scale;
  if (name == "none") return Preprocess::none;
  fail("unknown preprocessing '", name, "' (expected caffe, tutorial, scale or none)");
}

const char* preprocess_name(Preprocess mode) {
  switch (mode) {
    case Preprocess::caffe: return "caffe";
    case Preprocess::tutorial: return "tutorial";
    case Preprocess::scale: return "scale";
    case Preprocess::none: return "none";
  }
  return "?";
}

void cpu::preprocess(const uint8_t* in, int64_t pixels, Preprocess mode, void* out_data,
                     DType out_dtype, Stream) {
  cpu::require_f32(out_dtype, "preprocess");
  float* out = static_cast<float*>(out_data);
  switch (mode) {
    case Preprocess::caffe:
      // Output channel 0 is blue: read the input's channel 2.
      for (int64_t p = 0; p < pixels; ++p) {
        out[3 * p + 0] = static_cast<float>(in[3 * p + 2]) - 103.939f;
        out[3 * p + 1] = static_cast<float>(in[3 * p + 1]) - 116.779f;
        out[3 * p + 2] = static_cast<float>(in[3 * p + 0]) - 123.68f;
      }
      return;
    case Preprocess::tutorial:
      for (int64_t p = 0; p < pixels; ++p) {
        out[3 * p + 0] = static_cast<float>(in[3 * p + 0]) - 123.68f;
        out[3 * p + 1] = static_cast<float>(in[3 * p + 1]) - 116.779f;
        out[3 * p + 2] = static_cast<float>(in[3 * p + 2]) - 103.939f;
      }
      return;
    case Preprocess::scale:
      // Divide (not multiply by 1/255) so the values equal Keras' x / 255.0 in float32.
      for (int64_t i = 0; i < 3 * pixels; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
      return;
    case Preprocess::none:
      for (int64_t i = 0; i < 3 * pixels; ++i) out[i] = static_cast<float>(in[i]);
      return;
  }
}

}  // namespace catdog
