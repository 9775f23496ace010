// Grad-CAM (engine/grad_cam.h) against an independent computation: the gradient of the logit with
// respect to the target layer's activations by central differences (the rest of the model run
// forward from a perturbed copy), and the map made from it by a naive loop written here. Also:
// the gradient stops at the layer (no parameter gradient is written), the default layer, the
// overlay against a naive bilinear + jet blend, its PNG round trip, and `catdog explain`.
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/random.h"
#include "data/decode.h"
#include "data/decoders.h"
#include "data/encode_png.h"
#include "data/photo_batch.h"
#include "engine/builtin_models.h"
#include "engine/grad_cam.h"
#include "engine/model_config.h"
#include "engine/train_step.h"
#include "layers/dense.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "training/model_setup.h"
#include "training/run_context.h"

namespace catdog {
namespace {

using nlohmann::json;

json conv(const std::string& name, int filters, const std::string& activation, bool trainable) {
  return {{"class_name", "Conv2D"},
          {"config", {{"name", name}, {"filters", filters}, {"kernel_size", {3, 3}},
                      {"padding", "same"}, {"activation", activation}, {"trainable", trainable}}}};
}

// VGG-like at 8x8x3: conv relu, conv (the target), pool, then the transfer head with 16 units.
// The target is linear: a ReLU's zeros would tie in the pool's windows, where a central
// difference says half of what the (one-sided) gradient is.
Sequential small_model(uint64_t seed) {
  json layers = json::array();
  layers.push_back(conv("c1", 4, "relu", false));
  layers.push_back(conv("c2", 6, "linear", false));
  layers.push_back({{"class_name", "MaxPooling2D"},
                    {"config", {{"name", "p2"}, {"pool_size", {2, 2}}, {"strides", {2, 2}}}}});
  layers.push_back({{"class_name", "Flatten"}, {"config", {{"name", "flatten"}}}});
  layers.push_back({{"class_name", "Dense"},
                    {"config", {{"name", "dense"}, {"units", 16}, {"activation", "relu"}}}});
  layers.push_back({{"class_name", "Dense"},
                    {"config", {{"name", "dense_1"}, {"units", 1}, {"activation", "sigmoid"}}}});
  ParsedModel parsed = parse_model_config(
      {{"class_name", "Sequential"}, {"config", {{"name", "small"}, {"layers", layers}}}});
  parsed.model.build({8, 8, 3});
  parsed.model.initialize(seed);
  // Non-zero biases, so that the ReLUs and the logit are not centred on 0.
  for (Param* p : parsed.model.all_params()) {
    if (p->name != "bias") continue;
    float* b = p->value.f32();
    for (int64_t i = 0; i < p->value.numel(); ++i) b[i] = uniform_symmetric(seed + 7, 0, i, 0.3);
  }
  return std::move(parsed.model);
}

// dz/dA by central differences at `coords` of A (the output of layer `target`): z is the logit
// of the model run from layer target + 1 on a perturbed copy of A.
std::vector<double> numeric_gradient(Sequential& model, size_t target, const Tensor& a,
                                     const std::vector<int64_t>& coords, double step) {
  end_in_logits(model);  // the forward below then gives z, not sigmoid(z)
  ExecContext ctx;
  std::vector<double> grad;
  for (int64_t i : coords) {
    Tensor probe = a.clone();
    const float v = a.f32()[i];
    probe.f32()[i] = static_cast<float>(v + step);
    const double up = model.forward(probe, ctx, target + 1).to_vector().at(0);
    probe.f32()[i] = static_cast<float>(v - step);
    const double down = model.forward(probe, ctx, target + 1).to_vector().at(0);
    grad.push_back((up - down) / (2 * step));
  }
  return grad;
}

struct NaiveCam {
  std::vector<double> weights, raw, heat;
};

// The paper's recipe in plain loops: w_c = mean over positions of dz/dA; raw = sum_c w_c A;
// heat = ReLU(raw) / max.
NaiveCam naive_cam(const std::vector<float>& a, const std::vector<double>& grad, int64_t positions,
                   int64_t channels) {
  NaiveCam cam;
  cam.weights.assign(static_cast<size_t>(channels), 0.0);
  for (int64_t p = 0; p < positions; ++p) {
    for (int64_t c = 0; c < channels; ++c) cam.weights[c] += grad[p * channels + c] / positions;
  }
  double peak = 0;
  for (int64_t p = 0; p < positions; ++p) {
    double s = 0;
    for (int64_t c = 0; c < channels; ++c) s += cam.weights[c] * a[p * channels + c];
    cam.raw.push_back(s);
    peak = std::max(peak, s);
  }
  for (double r : cam.raw) cam.heat.push_back(peak > 0 ? std::max(r, 0.0) / peak : 0.0);
  return cam;
}

template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    d = std::max(d, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return d;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

TEST(GradCam, SmallModelMatchesCentralDifferences) {
  Sequential model = small_model(11);
  const Tensor x = test::random_tensor({1, 8, 8, 3}, 21);
  const size_t target = grad_cam_default_layer(model);
  ASSERT_EQ(model.layer(target).name(), "c2");
  ExecContext ctx;
  // The model's last layer still applies its sigmoid here: Grad-CAM must take the logit itself.
  const GradCamResult cam = grad_cam(model, x, target, ctx);
  EXPECT_FALSE(static_cast<Dense&>(model.layer(model.size() - 1)).emit_logits());
  ASSERT_EQ(cam.layer, "c2");
  ASSERT_EQ(cam.height, 8);
  ASSERT_EQ(cam.width, 8);
  ASSERT_EQ(cam.channels, 6);

  const Tensor a = model.forward(x, ctx, 0, target + 1).clone();
  EXPECT_EQ(max_abs_diff(cam.activations, a.to_vector()), 0.0);
  std::vector<int64_t> all(static_cast<size_t>(a.numel()));
  for (int64_t i = 0; i < a.numel(); ++i) all[i] = i;
  const std::vector<double> numeric = numeric_gradient(model, target, a, all, 1e-3);
  const double logit = model.forward(a, ctx, target + 1).to_vector().at(0);
  EXPECT_NEAR(cam.logit, logit, 1e-5);
  EXPECT_NEAR(cam.probability, 1.0 / (1.0 + std::exp(-logit)), 1e-6);

  const double gradient_error = max_abs_diff(cam.gradient, numeric);
  const NaiveCam naive = naive_cam(cam.activations, numeric, 64, 6);
  const double weight_error = max_abs_diff(cam.channel_weights, naive.weights);
  const double heat_error = max_abs_diff(cam.heat, naive.heat);
  std::cout << "small model: logit " << cam.logit << ", max |dz/dA| " << max_abs(numeric)
            << "; max abs difference from central differences: gradient " << gradient_error
            << ", channel weights " << weight_error << ", heat " << heat_error << "\n";
  EXPECT_GT(max_abs(numeric), 0.01);
  EXPECT_LT(gradient_error, 2e-3 * max_abs(numeric));
  EXPECT_LT(weight_error, 2e-3 * max_abs(naive.weights));
  EXPECT_LT(heat_error, 2e-3);
  // The map has places that count against the logit (so the ReLU matters) and is scaled to 1.
  EXPECT_LT(*std::min_element(naive.raw.begin(), naive.raw.end()), -0.05 * max_abs(naive.raw));
  EXPECT_FLOAT_EQ(*std::max_element(cam.heat.begin(), cam.heat.end()), 1.0f);
}

TEST(GradCam, WritesNoParameterGradientAndRestoresTheModel) {
  Sequential model = small_model(12);
  // The worst case: every layer trainable, every gradient a poisoned tensor.
  for (size_t i = 0; i < model.size(); ++i) model.layer(i).set_trainable(true);
  std::vector<std::vector<float>> values;
  for (Param* p : model.all_params()) {
    p->grad = Tensor(p->value.shape());
    p->grad.fill(std::nanf(""));
    values.push_back(p->value.to_vector());
  }
  ExecContext ctx;
  ctx.training = true;
  const GradCamResult cam = grad_cam(model, test::random_tensor({1, 8, 8, 3}, 22), 1, ctx);
  EXPECT_EQ(cam.layer, "c2");
  size_t k = 0;
  for (Param* p : model.all_params()) {
    for (float g : p->grad.to_vector()) ASSERT_TRUE(std::isnan(g)) << p->name << " was written";
    EXPECT_EQ(p->value.to_vector(), values[k++]) << p->name;
  }
  for (size_t i = 0; i < model.size(); ++i) EXPECT_TRUE(model.layer(i).trainable()) << i;
  EXPECT_TRUE(ctx.training);  // the caller's context is the caller's
}

TEST(GradCam, DefaultLayerIsTheLastConvolutionsOutput) {
  ParsedModel vgg = parse_model_config(transfer_model_config("vgg16"));
  vgg.model.build({32, 32, 3});
  EXPECT_EQ(vgg.model.layer(grad_cam_default_layer(vgg.model)).name(), "block5_conv3");
  ParsedModel darknet = parse_model_config(transfer_model_config("tiny-darknet"));
  darknet.model.build({32, 32, 3});
  EXPECT_EQ(darknet.model.layer(grad_cam_default_layer(darknet.model)).name(), "leaky_re_lu_15");
  ParsedModel base = parse_model_config(builtin_model_config("tiny-darknet"));
  base.model.build({32, 32, 3});
  EXPECT_EQ(base.model.layer(grad_cam_default_layer(base.model)).name(), "leaky_re_lu_15");

  json head = transfer_head_layers();
  ParsedModel no_conv = parse_model_config(
      {{"class_name", "Sequential"}, {"config", {{"name", "head"}, {"layers", head}}}});
  no_conv.model.build({2, 2, 3});
  EXPECT_NE(test::error_message([&] { grad_cam_default_layer(no_conv.model); }).find("Conv2D"),
            std::string::npos);
}

TEST(GradCam, LayerByNameRefusesWhatIsNotAMap) {
  Sequential model = small_model(13);
  EXPECT_EQ(grad_cam_layer_named(model, "p2"), 2u);
  const std::string unknown = test::error_message([&] { grad_cam_layer_named(model, "c9"); });
  EXPECT_NE(unknown.find("'c9'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("c1, c2, p2"), std::string::npos) << unknown;
  const std::string dense = test::error_message([&] { grad_cam_layer_named(model, "dense"); });
  EXPECT_NE(dense.find("dense"), std::string::npos) << dense;
  EXPECT_NE(dense.find("(1, 16)"), std::string::npos) << dense;
}

// Tiny Darknet's ImageNet weights under a random head, on a shared photo at 96x96: at the
// default layer (the head alone runs backward) and at leaky_re_lu_13 (backward through conv14,
// BatchNormalization, LeakyReLU, conv15, ...), against central differences at 200 random
// activations each.
TEST(GradCam, TinyDarknetOnASharedPhotoMatchesCentralDifferences) {
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  CATDOG_REQUIRE_SHARED(photo, "data/catsdogs/test/dogs/dog.4201.jpg");
  ModelSetup setup = build_training_model("tiny-darknet", weights, 96, 3);
  Sequential& model = setup.model;
  ExecContext ctx;
  Tensor staging, input;
  make_model_input(load_pixels({photo}, 96, nullptr, nullptr), setup.preprocess, ctx, staging,
                   input);
  for (const std::string name : {"leaky_re_lu_15", "leaky_re_lu_13"}) {
    const size_t target = name == "leaky_re_lu_15" ? grad_cam_default_layer(model)
                                                   : grad_cam_layer_named(model, name);
    ASSERT_EQ(model.layer(target).name(), name);
    static_cast<Dense&>(model.layer(model.size() - 1)).set_emit_logits(false);
    const GradCamResult cam = grad_cam(model, input, target, ctx);
    ASSERT_EQ(cam.height, 6);
    const Tensor a = model.forward(input, ctx, 0, target + 1).clone();
    std::vector<int64_t> coords;
    for (int k = 0; k < 200; ++k) {
      coords.push_back(static_cast<int64_t>(uniform01(17, k, 0) * static_cast<double>(a.numel())));
    }
    const std::vector<double> numeric = numeric_gradient(model, target, a, coords, 1e-2);
    std::vector<double> analytic;
    for (int64_t i : coords) analytic.push_back(cam.gradient[static_cast<size_t>(i)]);
    const double error = max_abs_diff(analytic, numeric);
    std::cout << name << ": logit " << cam.logit << ", max |dz/dA| at 200 points "
              << max_abs(numeric) << ", max abs difference " << error << "\n";
    EXPECT_GT(max_abs(numeric), 0.0);
    // The logit is ~20 here, so float32 rounding in the forward passes puts ~5e-4 of noise on
    // each difference quotient (measured: at most 0.3e-3 / 1.5e-3 of 0.05 / 0.37).
    EXPECT_LT(error, 2e-2 * max_abs(numeric));
    const NaiveCam naive = naive_cam(cam.activations, {cam.gradient.begin(), cam.gradient.end()},
                                     cam.height * cam.width, cam.channels);
    EXPECT_LT(max_abs_diff(cam.heat, naive.heat), 1e-5);
    EXPECT_FLOAT_EQ(*std::max_element(cam.heat.begin(), cam.heat.end()), 1.0f);
  }
}

// Jet by its control points (MATLAB's): dark blue, blue, cyan, yellow, red, dark red.
void naive_jet(double t, double rgb[3]) {
  const double at[6] = {0, 0.125, 0.375, 0.625, 0.875, 1};
  const double colors[6][3] = {{0, 0, 0.5}, {0, 0, 1}, {0, 1, 1}, {1, 1, 0}, {1, 0, 0}, {0.5, 0, 0}};
  int k = 0;
  while (k < 4 && t > at[k + 1]) ++k;
  const double u = (t - at[k]) / (at[k + 1] - at[k]);
  for (int c = 0; c < 3; ++c) rgb[c] = colors[k][c] + u * (colors[k + 1][c] - colors[k][c]);
}

TEST(GradCam, OverlayIsBilinearHeatInJetOverThePhoto) {
  GradCamResult cam;
  cam.height = 2;
  cam.width = 3;
  cam.heat = {0.0f, 0.5f, 1.0f, 0.25f, 0.8f, 0.1f};
  const int h = 5, w = 7;
  std::vector<uint8_t> photo(h * w * 3);
  for (size_t i = 0; i < photo.size(); ++i) photo[i] = static_cast<uint8_t>((i * 37) % 256);
  const std::vector<uint8_t> overlay = grad_cam_overlay(photo.data(), h, w, cam);
  ASSERT_EQ(overlay.size(), photo.size());
  for (const auto& [y, x] : std::vector<std::pair<int, int>>{{0, 0}, {2, 3}, {4, 6}, {1, 5}, {3, 1}}) {
    // Half-pixel centres, clamped: source = (o + 0.5) * in / out - 0.5.
    const double sy = std::clamp((y + 0.5) * 2 / 5 - 0.5, 0.0, 1.0);
    const double sx = std::clamp((x + 0.5) * 3 / 7 - 0.5, 0.0, 2.0);
    const int y0 = static_cast<int>(sy), x0 = static_cast<int>(sx);
    const int y1 = std::min(y0 + 1, 1), x1 = std::min(x0 + 1, 2);
    const double fy = sy - y0, fx = sx - x0;
    auto heat = [&](int r, int c) { return static_cast<double>(cam.heat[r * 3 + c]); };
    const double t = (1 - fy) * ((1 - fx) * heat(y0, x0) + fx * heat(y0, x1)) +
                     fy * ((1 - fx) * heat(y1, x0) + fx * heat(y1, x1));
    double color[3];
    naive_jet(t, color);
    for (int c = 0; c < 3; ++c) {
      const size_t i = static_cast<size_t>((y * w + x) * 3 + c);
      const double expected = 0.55 * photo[i] + 0.45 * 255 * color[c];
      EXPECT_NEAR(overlay[i], expected, 0.51) << "pixel " << y << "," << x << " channel " << c;
    }
  }
  // The PNG holds exactly these pixels.
  const std::vector<uint8_t> png = encode_png(overlay.data(), w, h);
  Image back;
  detail::decode_png(png.data(), png.size(), "overlay.png", DecodeOptions{}, back);
  EXPECT_EQ(back.width, w);
  EXPECT_EQ(back.height, h);
  EXPECT_EQ(back.rgb, overlay);
}

TEST(GradCam, AllZeroHeatStaysZeroInTheOverlayAsDarkBlue) {
  GradCamResult cam;
  cam.height = cam.width = 1;
  cam.heat = {0.0f};
  const std::vector<uint8_t> photo = {100, 100, 100};
  const std::vector<uint8_t> overlay = grad_cam_overlay(photo.data(), 1, 1, cam);
  EXPECT_EQ(overlay, (std::vector<uint8_t>{55, 55, static_cast<uint8_t>(std::lround(55 + 0.45 * 127.5))}));
}

class GradCamCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string data =
        test::write_small_dataset(test::temp_dir("grad_cam_cli_data"), 8, 48);
    run_dir_ = new std::string(test::temp_dir("grad_cam_cli_run"));
    TrainOptions o = test::small_run(data, *run_dir_);
    o.epochs = 1;
    std::ostringstream progress;
    train(o, progress);
    photo_ = new std::string(data + "/test/dogs/" + first_file(data + "/test/dogs"));
  }
  static void TearDownTestSuite() {
    delete run_dir_;
    delete photo_;
  }
  static std::string first_file(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names.at(0);
  }
  static std::string* run_dir_;
  static std::string* photo_;
};
std::string* GradCamCli::run_dir_ = nullptr;
std::string* GradCamCli::photo_ = nullptr;

TEST_F(GradCamCli, WritesAnOverlayPerGoodPhotoAndNamesTheBadOne) {
  const std::string work = test::temp_dir("grad_cam_cli");
  const std::string bad = work + "/broken.jpg";
  std::ofstream(bad) << "not a photo";
  const std::string out = work + "/maps";
  const test::CliResult r = test::run_catdog(
      {"explain", "--model", *run_dir_ + "/model.h5", *photo_, bad, "--out", out, "--device", "cpu"},
      work);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string stem = std::filesystem::path(*photo_).stem();
  const std::string png_path = out + "/" + stem + "_gradcam.png";
  EXPECT_NE(r.out.find(*photo_ + "\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-> " + png_path), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("broken.jpg"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped 1 of 2"), std::string::npos) << r.err;
  const Image overlay = decode_image_file(png_path);
  EXPECT_EQ(overlay.width, 32);
  EXPECT_EQ(overlay.height, 32);
}

TEST_F(GradCamCli, NothingExplainedOrAnUnknownLayerIsAnError) {
  const std::string work = test::temp_dir("grad_cam_cli_errors");
  const std::string bad = work + "/broken.jpg";
  std::ofstream(bad) << "not a photo";
  const std::string model = *run_dir_ + "/model.h5";
  const test::CliResult none =
      test::run_catdog({"explain", "--model", model, bad, "--out", work + "/m", "--device", "cpu"}, work);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("skipped 1 of 1"), std::string::npos) << none.err;
  const test::CliResult layer = test::run_catdog(
      {"explain", "--model", model, *photo_, "--out", work + "/m", "--layer", "conv9", "--device", "cpu"},
      work);
  EXPECT_EQ(layer.exit_code, 1);
  EXPECT_NE(layer.err.find("model.h5"), std::string::npos) << layer.err;
  EXPECT_NE(layer.err.find("'conv9'"), std::string::npos) << layer.err;
  EXPECT_EQ(std::count(layer.err.begin(), layer.err.end(), '\n'), 1) << layer.err;
}

}  // namespace
}  // namespace catdog
