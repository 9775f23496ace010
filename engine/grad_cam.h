// Grad-CAM (Selvaraju et al. 2017): where in the photo the classifier looked.
//
// Take A, the output of a convolution layer (h, w, C), and the gradient of the model's output
// logit z (before the final sigmoid) with respect to it. Each channel's weight is the mean of
// its gradient over the h x w positions,
//   w_c = (1 / hw) sum_ij dz/dA_ijc,
// and the map is the ReLU of the weighted sum of the channels, scaled so that its maximum is 1:
//   heat_ij = ReLU(sum_c w_c A_ijc) / max.
// Positions whose features push the logit up (towards the second class, "dogs") light up.
//
// The gradient stops at A: the layers up to and including the target run forward only (as the
// frozen base does, keeping no activations); only the layers after it run backward, and none of
// them writes a parameter gradient (their Param::grad stay as they were), whatever their
// trainable flags say.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "engine/sequential.h"

namespace catdog {

struct GradCamResult {
  std::string layer;        // name of the layer whose output it was computed at
  float logit = 0;          // the model's output logit (before the final sigmoid)
  float probability = 0;    // sigmoid(logit): probability of the second class
  int64_t height = 0, width = 0;  // that layer's spatial size
  std::vector<float> heat;  // (height, width) row-major: ReLU(sum_c w_c * A_c), divided by its max (all 0 when max is 0)
  // What the map is made of, for tests and for readers who want more than the picture:
  int64_t channels = 0;
  std::vector<float> activations;      // A (height, width, channels), the layer's output
  std::vector<float> gradient;         // dz/dA (height, width, channels)
  std::vector<float> channel_weights;  // w_c (channels): the mean of the gradient per channel
};

// Index of the default target: the last layer of the base whose output is still spatial (4-D)
// and which belongs to the last convolution (the Conv2D itself when its activation is inside it,
// as VGG16's block5_conv3; the conv's following BatchNormalization/activation layers, as in Tiny
// Darknet's leaky_re_lu_15). Throws catdog::Error when the model has no Conv2D.
size_t grad_cam_default_layer(const Sequential& model);

// The index of the layer called `name`; throws catdog::Error listing the model's spatial layers
// when there is none of that name, or when its output is not (1, h, w, C).
size_t grad_cam_layer_named(const Sequential& model, const std::string& name);

// image: (1, H, W, 3) preprocessed input on ctx's device; the model must end in Dense(1, sigmoid)
// (or Dense(1) linear, whose output is the logit already). Runs the model forward up to `layer`
// without keeping activations (in ctx's precision), then the rest with them in fp32, then
// backward from dz = 1 to that layer's output only. The model's trainable flags and its last
// layer's emit_logits setting are restored before it returns (or throws).
GradCamResult grad_cam(Sequential& model, const Tensor& image, size_t layer, ExecContext& ctx);

// The heat map (height, width) upsampled bilinearly to (out_h, out_w), at half-pixel centres
// (source x = (x + 0.5) * width / out_w - 0.5, clamped at the edges), row-major.
std::vector<float> grad_cam_upsample(const GradCamResult& cam, int out_h, int out_w);

// The jet colormap: 0 -> dark blue, 0.5 -> green, 1 -> dark red. t is clamped to [0, 1]; rgb in
// [0, 1].
void jet_color(float t, float rgb[3]);

// How much of the colormap an overlay pixel takes (the rest is the photo).
constexpr float kGradCamOverlayAlpha = 0.45f;

// rgb: (height, width, 3) uint8 of the photo as fed to the model (after resize). Heat upsampled
// bilinearly to that size, the jet colormap blended over the photo:
//   out = round((1 - alpha) * photo + alpha * 255 * jet(heat)).
// Returns (height, width, 3) uint8.
std::vector<uint8_t> grad_cam_overlay(const uint8_t* rgb, int height, int width,
                                      const GradCamResult& cam);

}  // namespace catdog
