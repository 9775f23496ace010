// Pixel preprocessing: uint8 RGB images -> the float input a model was trained on.
//
//   caffe     Keras vgg16.preprocess_input: RGB -> BGR, minus the ImageNet mean per channel
//             (B 103.939, G 116.779, R 123.68), no scaling. For the ImageNet VGG16 weights.
//   tutorial  RGB kept in order, minus [123.68, 116.779, 103.939] (the tutorial's
//             ImageDataGenerator featurewise mean), no flip.
//   scale     x / 255 (Tiny Darknet, the from-scratch baselines).
//   none      the values as float.
#pragma once

#include <cstdint>
#include <string>

namespace catdog {

enum class Preprocess : uint8_t { caffe, tutorial, scale, none };

Preprocess parse_preprocess(const std::string& name);  // "caffe", "tutorial", "scale", "none"
const char* preprocess_name(Preprocess mode);

// in: uint8 (N, H, W, 3) RGB with pixels = N*H*W; out: float32 (N, H, W, 3).
void preprocess_cpu(const uint8_t* in, int64_t pixels, Preprocess mode, float* out);

}  // namespace catdog
