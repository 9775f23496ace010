#include "engine/grad_cam.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "engine/loss.h"
#include "layers/dense.h"

namespace catdog {

namespace {

// Layers that act on each element (or channel) in place of shape: they still belong to the
// convolution before them.
bool is_elementwise(const Layer& layer) {
  const char* kind = layer.class_name();
  return std::strcmp(kind, "BatchNormalization") == 0 || std::strcmp(kind, "ReLU") == 0 ||
         std::strcmp(kind, "LeakyReLU") == 0 || std::strcmp(kind, "Activation") == 0;
}

bool is_spatial(const Sequential& model, size_t i) {
  return model.layer_output_shape(i, 1).size() == 4;
}

std::string spatial_layer_names(const Sequential& model) {
  std::string names;
  for (size_t i = 0; i < model.size(); ++i) {
    if (is_spatial(model, i)) names += (names.empty() ? "" : ", ") + model.layer(i).name();
  }
  return names.empty() ? "none" : names;
}

// For the duration of one Grad-CAM: every layer frozen (so backward writes dx and no parameter
// gradient, and nothing computes in training mode), and a final sigmoid Dense emitting its logit.
// The destructor puts both back, also when the computation throws.
class ExplainMode {
 public:
  explicit ExplainMode(Sequential& model) : model_(model) {
    for (size_t i = 0; i < model.size(); ++i) {
      trainable_.push_back(model.layer(i).trainable());
      model.layer(i).set_trainable(false);
    }
    last_ = dynamic_cast<Dense*>(&model.layer(model.size() - 1));
    if (last_) {
      emitted_logits_ = last_->emit_logits();
      last_->set_emit_logits(true);
    }
  }
  ~ExplainMode() {
    for (size_t i = 0; i < trainable_.size(); ++i) model_.layer(i).set_trainable(trainable_[i]);
    if (last_) last_->set_emit_logits(emitted_logits_);
  }
  ExplainMode(const ExplainMode&) = delete;
  ExplainMode& operator=(const ExplainMode&) = delete;

 private:
  Sequential& model_;
  std::vector<bool> trainable_;
  Dense* last_ = nullptr;
  bool emitted_logits_ = false;
};

void require_logit_output(const Sequential& model) {
  const auto* last = dynamic_cast<const Dense*>(&model.layer(model.size() - 1));
  CATDOG_CHECK(last && last->config().units == 1 &&
                   (last->config().activation == Activation::sigmoid ||
                    last->config().activation == Activation::linear),
               "Grad-CAM needs a model that ends in Dense(1, sigmoid); its last layer is ",
               model.layer(model.size() - 1).name(), " (", model.layer(model.size() - 1).class_name(),
               ")");
}

// The heat map from A and dz/dA, both (hw, C): weights, weighted sum, ReLU, scaled to max 1.
void combine_channels(GradCamResult& cam) {
  const int64_t positions = cam.height * cam.width, c = cam.channels;
  cam.channel_weights.assign(static_cast<size_t>(c), 0.0f);
  for (int64_t k = 0; k < c; ++k) {
    double sum = 0;
    for (int64_t p = 0; p < positions; ++p) sum += cam.gradient[static_cast<size_t>(p * c + k)];
    cam.channel_weights[static_cast<size_t>(k)] = static_cast<float>(sum / static_cast<double>(positions));
  }
  cam.heat.assign(static_cast<size_t>(positions), 0.0f);
  float peak = 0;
  for (int64_t p = 0; p < positions; ++p) {
    double sum = 0;
    for (int64_t k = 0; k < c; ++k) {
      sum += static_cast<double>(cam.channel_weights[static_cast<size_t>(k)]) *
             cam.activations[static_cast<size_t>(p * c + k)];
    }
    const float value = static_cast<float>(std::max(sum, 0.0));
    cam.heat[static_cast<size_t>(p)] = value;
    peak = std::max(peak, value);
  }
  if (peak > 0) {
    for (float& v : cam.heat) v /= peak;
  }
}

}  // namespace

size_t grad_cam_default_layer(const Sequential& model) {
  size_t last_conv = model.size();
  for (size_t i = 0; i < model.size(); ++i) {
    if (std::strcmp(model.layer(i).class_name(), "Conv2D") == 0) last_conv = i;
  }
  CATDOG_CHECK(last_conv < model.size(), "Grad-CAM needs a Conv2D layer, and the model has none");
  size_t target = last_conv;
  while (target + 1 < model.size() && is_elementwise(model.layer(target + 1)) &&
         is_spatial(model, target + 1)) {
    ++target;
  }
  return target;
}

size_t grad_cam_layer_named(const Sequential& model, const std::string& name) {
  for (size_t i = 0; i < model.size(); ++i) {
    if (model.layer(i).name() != name) continue;
    CATDOG_CHECK(is_spatial(model, i) && i + 1 < model.size(), "Grad-CAM layer ", name,
                 ": its output ", to_string(model.layer_output_shape(i, 1)),
                 " is not a (1, h, w, C) map inside the model (layers that are: ",
                 spatial_layer_names(model), ")");
    return i;
  }
  fail("the model has no layer named '", name, "' (layers with a spatial output: ",
       spatial_layer_names(model), ")");
}

GradCamResult grad_cam(Sequential& model, const Tensor& image, size_t layer, ExecContext& ctx) {
  CATDOG_CHECK(model.built(), "Grad-CAM: the model is not built");
  CATDOG_CHECK(layer + 1 < model.size(), "Grad-CAM layer index ", layer, " of a model with ",
               model.size(), " layers (it must be followed by the rest of the model)");
  const Shape in = model.input_shape();
  CATDOG_CHECK(image.shape() == Shape({1, in[0], in[1], in[2]}), "Grad-CAM: image of shape ",
               to_string(image.shape()), " for a model with input ", to_string(in),
               " (one image at a time)");
  const Shape a_shape = model.layer_output_shape(layer, 1);
  CATDOG_CHECK(a_shape.size() == 4, "Grad-CAM layer ", model.layer(layer).name(), ": output ",
               to_string(a_shape), " is not a (1, h, w, C) map");
  require_logit_output(model);

  ExplainMode explain(model);
  ExecContext run = ctx;
  run.training = false;
  // Up to the target: forward only, as the frozen base runs (ping-pong buffers, ctx's precision).
  const Tensor activations = model.forward(image, run, 0, layer + 1).clone(run.cuda);

  // After it: every layer's input and output kept, in fp32, for the backward pass.
  run.precision = Precision::fp32;
  const size_t n = model.size();
  std::vector<Tensor> inputs(n), outputs(n);
  Tensor current = activations;
  for (size_t i = layer + 1; i < n; ++i) {
    Layer& l = model.layer(i);
    inputs[i] = current;
    if (!l.is_view()) outputs[i] = Tensor(l.output_shape(current.shape()), DType::f32, run.device);
    l.forward(current, outputs[i], run);
    current = outputs[i];
  }
  GradCamResult cam;
  cam.layer = model.layer(layer).name();
  cam.logit = current.to_vector(run.cuda).at(0);
  cam.probability = sigmoid(cam.logit);

  // dz/dz = 1, back through the layers after the target, to dz/dA.
  Tensor dy = Tensor(current.shape(), DType::f32, run.device);
  dy.fill(1.0f, run.cuda);
  for (size_t i = n; i-- > layer + 1;) {
    Tensor dx;
    if (!model.layer(i).is_view()) dx = Tensor(inputs[i].shape(), DType::f32, run.device);
    model.layer(i).backward(inputs[i], outputs[i], dy, &dx, run);
    dy = dx;
  }
  cam.height = a_shape[1];
  cam.width = a_shape[2];
  cam.channels = a_shape[3];
  cam.activations = activations.to_vector(run.cuda);
  cam.gradient = dy.to_vector(run.cuda);
  combine_channels(cam);
  return cam;
}

std::vector<float> grad_cam_upsample(const GradCamResult& cam, int out_h, int out_w) {
  CATDOG_CHECK(cam.height > 0 && cam.width > 0 &&
                   cam.heat.size() == static_cast<size_t>(cam.height * cam.width),
               "Grad-CAM map of ", cam.heat.size(), " values for ", cam.height, "x", cam.width);
  CATDOG_CHECK(out_h > 0 && out_w > 0, "Grad-CAM upsampling to ", out_h, "x", out_w);
  // One axis: the two source indices around output index o and the weight of the second.
  struct Tap { int64_t lo, hi; float t; };
  auto taps = [](int64_t in, int out) {
    std::vector<Tap> result(static_cast<size_t>(out));
    for (int o = 0; o < out; ++o) {
      const double s = std::clamp((o + 0.5) * static_cast<double>(in) / out - 0.5, 0.0,
                                  static_cast<double>(in - 1));
      const int64_t lo = static_cast<int64_t>(std::floor(s));
      result[static_cast<size_t>(o)] = {lo, std::min(lo + 1, in - 1), static_cast<float>(s - lo)};
    }
    return result;
  };
  const std::vector<Tap> ys = taps(cam.height, out_h), xs = taps(cam.width, out_w);
  std::vector<float> out(static_cast<size_t>(out_h) * static_cast<size_t>(out_w));
  auto at = [&](int64_t y, int64_t x) { return cam.heat[static_cast<size_t>(y * cam.width + x)]; };
  for (int y = 0; y < out_h; ++y) {
    const Tap& ty = ys[static_cast<size_t>(y)];
    for (int x = 0; x < out_w; ++x) {
      const Tap& tx = xs[static_cast<size_t>(x)];
      const float top = at(ty.lo, tx.lo) + tx.t * (at(ty.lo, tx.hi) - at(ty.lo, tx.lo));
      const float bottom = at(ty.hi, tx.lo) + tx.t * (at(ty.hi, tx.hi) - at(ty.hi, tx.lo));
      out[static_cast<size_t>(y) * static_cast<size_t>(out_w) + static_cast<size_t>(x)] =
          top + ty.t * (bottom - top);
    }
  }
  return out;
}

void jet_color(float t, float rgb[3]) {
  t = std::clamp(t, 0.0f, 1.0f);
  // Each channel is a trapezoid over t, centred at 3/4 (red), 1/2 (green) and 1/4 (blue).
  const float centres[3] = {0.75f, 0.5f, 0.25f};
  for (int k = 0; k < 3; ++k) rgb[k] = std::clamp(1.5f - std::fabs(4.0f * (t - centres[k])), 0.0f, 1.0f);
}

std::vector<uint8_t> grad_cam_overlay(const uint8_t* rgb, int height, int width,
                                      const GradCamResult& cam) {
  const std::vector<float> heat = grad_cam_upsample(cam, height, width);
  std::vector<uint8_t> out(heat.size() * 3);
  const float a = kGradCamOverlayAlpha;
  for (size_t p = 0; p < heat.size(); ++p) {
    float color[3];
    jet_color(heat[p], color);
    for (int k = 0; k < 3; ++k) {
      const float v = (1.0f - a) * rgb[p * 3 + k] + a * 255.0f * color[k];
      out[p * 3 + k] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 255.0f)));
    }
  }
  return out;
}

}  // namespace catdog
