// load_weights (by order, as Keras' legacy loader) and save_keras_model, on models made of a
// stand-in layer defined here: only the parameter shapes and names matter to the weights code, so
// these tests do not depend on the real layers' math.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/random.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "tests/support/vgg16_reference.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

// A layer with the given parameters (name, shape); shape-preserving; counts weights_changed().
class StandIn : public Layer {
 public:
  StandIn(std::string name, std::vector<std::pair<std::string, Shape>> params)
      : Layer(std::move(name)) {
    for (auto& [pname, shape] : params) {
      params_.emplace_back();
      params_.back().name = pname;
      params_.back().value = Tensor::zeros(shape);
    }
  }
  const char* class_name() const override { return "StandIn"; }
  Shape output_shape(const Shape& input) const override { return input; }
  std::vector<Param*> params() override {
    std::vector<Param*> out;
    for (Param& p : params_) out.push_back(&p);
    return out;
  }
  void weights_changed() override { ++changes; }
  nlohmann::json keras_config() const override {
    return {{"class_name", "StandIn"}, {"config", {{"name", name()}, {"trainable", trainable()}}}};
  }
  int changes = 0;

 protected:
  void forward_cpu(const Tensor& x, Tensor& y, ExecContext&) override { y.copy_from(x); }
  void backward_cpu(const Tensor&, const Tensor&, const Tensor&, Tensor*, ExecContext&) override {}

 private:
  std::vector<Param> params_;
};

StandIn& stand_in(Sequential& model, size_t i) { return dynamic_cast<StandIn&>(model.layer(i)); }

// VGG16 "notop" as stand-ins: 13 convolutions (kernel HWIO, bias) and 5 pools without weights.
Sequential vgg16_shaped(int first_in_channels = 3) {
  Sequential model;
  int block = 1;
  for (const test::Vgg16Conv& c : test::kVgg16Convs) {
    int in = c.in == 3 ? first_in_channels : c.in;
    model.add(std::make_unique<StandIn>(
        c.name, std::vector<std::pair<std::string, Shape>>{{"kernel", {3, 3, in, c.out}},
                                                           {"bias", {c.out}}}));
    if (std::string(c.name) == "block" + std::to_string(block) + "_conv" +
                                   std::to_string(block <= 2 ? 2 : 3)) {
      model.add(std::make_unique<StandIn>("block" + std::to_string(block++) + "_pool",
                                          std::vector<std::pair<std::string, Shape>>{}));
    }
  }
  model.build({32, 32, 3});
  return model;
}

// A small hand-written weights file (no Python needed): layers with and without weights.
KerasH5 small_file() {
  KerasH5 f;
  f.layers = {{"input_1", {}, ""},
              {"conv", {{"conv/kernel:0", {1, 1, 2, 2}, {1, 2, 3, 4}}, {"conv/bias:0", {2}, {5, 6}}}, ""},
              {"pool", {}, ""},
              {"bn", {{"bn/gamma:0", {2}, {7, 8}}, {"bn/beta:0", {2}, {9, 10}},
                      {"bn/moving_mean:0", {2}, {11, 12}}, {"bn/moving_variance:0", {2}, {13, 14}}}, ""},
              {"head", {{"head/kernel:0", {2, 1}, {15, 16}}}, ""}};
  return f;
}

Sequential small_model(const std::vector<std::string>& names, Shape conv_kernel = {1, 1, 2, 2}) {
  using P = std::vector<std::pair<std::string, Shape>>;
  Sequential m;
  m.add(std::make_unique<StandIn>(names[0], P{{"kernel", conv_kernel}, {"bias", {2}}}));
  m.add(std::make_unique<StandIn>("pooling", P{}));
  m.add(std::make_unique<StandIn>(
      names[1], P{{"gamma", {2}}, {"beta", {2}}, {"moving_mean", {2}}, {"moving_variance", {2}}}));
  if (names.size() > 2) m.add(std::make_unique<StandIn>(names[2], P{{"kernel", {2, 1}}}));
  m.build({4, 4, 2});
  return m;
}

TEST(LoadWeights, AssignsByOrderIncludingNonTrainableStatistics) {
  Sequential m = small_model({"c", "b", "h"});  // names differ from the file's: order decides
  load_weights(m, small_file(), "small.h5");
  EXPECT_EQ(m.layer(0).params()[0]->value.to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(m.layer(0).params()[1]->value.to_vector(), (std::vector<float>{5, 6}));
  EXPECT_EQ(m.layer(2).params()[3]->value.to_vector(), (std::vector<float>{13, 14}));
  EXPECT_EQ(m.layer(3).params()[0]->value.to_vector(), (std::vector<float>{15, 16}));
  EXPECT_EQ(m.layer(3).params()[0]->value.shape(), (Shape{2, 1}));
  EXPECT_EQ(stand_in(m, 0).changes, 2);  // once at build (to_device), once for the load
  EXPECT_EQ(stand_in(m, 1).changes, 1);  // no weights: not reloaded
}

TEST(LoadWeights, LayerEndLoadsOnlyThePrefix) {
  // Layers [0, 2) hold one weighted layer; the file's other two are the part after the cut.
  Sequential m = small_model({"conv", "bn", "head"});
  load_weights(m, small_file(), "small.h5", 2);
  EXPECT_EQ(m.layer(0).params()[0]->value.to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(m.layer(2).params()[0]->value.to_vector(), (std::vector<float>{0, 0}));
}

TEST(LoadWeights, ExtraFileLayersOnlyForACutShortModelWithTheSameNames) {
  Sequential cut = small_model({"conv", "bn"});  // the file's model cut before "head"
  load_weights(cut, small_file(), "small.h5");
  EXPECT_EQ(cut.layer(2).params()[0]->value.to_vector(), (std::vector<float>{7, 8}));

  Sequential other = small_model({"conv", "not_bn"});
  std::string e = test::error_message([&] { load_weights(other, small_file(), "small.h5"); });
  EXPECT_NE(e.find("small.h5 has 3 layers with weights, the model needs 2"), std::string::npos) << e;
  EXPECT_EQ(other.layer(0).params()[0]->value.to_vector(), (std::vector<float>{0, 0, 0, 0}))
      << "a failed load must leave the model as it was";
}

TEST(LoadWeights, FewerFileLayersIsAnError) {
  Sequential m = small_model({"c", "b", "h"});
  KerasH5 f = small_file();
  f.layers.pop_back();
  std::string e = test::error_message([&] { load_weights(m, f, "short.h5"); });
  EXPECT_NE(e.find("short.h5 has 2 layers with weights, the model needs 3"), std::string::npos) << e;
}

TEST(LoadWeights, WrongShapeNamesLayerWeightAndBothShapes) {
  Sequential m = small_model({"c", "b", "h"}, {1, 1, 2, 3});
  // The bias comes after the kernel, so it is the kernel that must be reported.
  std::string e = test::error_message([&] { load_weights(m, small_file(), "small.h5"); });
  EXPECT_NE(e.find("layer 'c' weight 'conv/kernel:0' (kernel): the model expects (1, 1, 2, 3), "
                   "the file has (1, 1, 2, 2)"), std::string::npos) << e;
}

TEST(LoadWeights, Vgg16FileIntoVgg16ShapedModel) {
  CATDOG_MAKE_VGG16_H5(path, test::temp_dir("load_weights_vgg16"), 5, false);
  KerasH5 file = read_keras_h5(path);
  Sequential model = vgg16_shaped();
  load_weights(model, file, path);
  // Spot checks against the generator spec (t = 2c kernel, 2c + 1 bias).
  size_t conv = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    auto params = model.layer(i).params();
    if (params.empty()) continue;
    std::vector<float> k = params[0]->value.to_vector(), b = params[1]->value.to_vector();
    double limit = std::sqrt(6.0 / (9.0 * test::kVgg16Convs[conv].in));
    EXPECT_EQ(k[k.size() - 1], uniform_symmetric(5, 2 * conv, k.size() - 1, limit));
    EXPECT_EQ(b[0], uniform_symmetric(5, 2 * conv + 1, 0, 0.05));
    ++conv;
  }
  EXPECT_EQ(conv, 13u);

  // A VGG16 whose first convolution takes 4 channels: the error names it and both shapes.
  Sequential four = vgg16_shaped(4);
  std::string e = test::error_message([&] { load_weights(four, file, path); });
  EXPECT_NE(e.find("layer 'block1_conv1' weight 'block1_conv1_W_1:0' (kernel): the model expects "
                   "(3, 3, 4, 64), the file has (3, 3, 3, 64)"), std::string::npos) << e;
}

TEST(LoadWeights, TinyDarknetFileIntoVgg16ShapedModelNamesLayerAndShapes) {
  CATDOG_REQUIRE_SHARED(path, "weights/tiny_darknet_imagenet.h5");
  Sequential model = vgg16_shaped();
  std::string e = test::error_message([&] { load_weights(model, read_keras_h5(path), path); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("layer 'block1_conv1' needs 2 weights [kernel (3, 3, 3, 64), bias (64,)], "
                   "the file's layer 'conv2d_1' has 1 [conv2d_1/kernel:0 (3, 3, 3, 16)]"),
            std::string::npos) << e;
}

TEST(SaveKerasModel, RoundTripAndKerasLayout) {
  Sequential model = small_model({"conv", "bn", "head"});
  load_weights(model, small_file(), "small.h5");
  model.layer(2).set_trainable(false);
  std::string dir = test::temp_dir("save_keras_model");
  SaveExtras extras;
  extras.training_config = R"({"loss": "binary_crossentropy"})";
  extras.catdog_state = R"({"epoch": 4})";
  extras.optimizer_weights = {{"SGD/m/head/kernel:0", {2, 1}, {0.5f, 0.25f}}};
  save_keras_model(dir + "/model.h5", model, "stand_ins", extras);

  KerasH5 back = read_keras_h5(dir + "/model.h5");
  EXPECT_EQ(back.keras_version, "2.15.0");
  EXPECT_EQ(back.backend, "tensorflow");
  EXPECT_EQ(back.training_config, extras.training_config);
  EXPECT_EQ(back.catdog_state, extras.catdog_state);
  ASSERT_EQ(back.optimizer_weights.size(), 1u);
  EXPECT_EQ(back.optimizer_weights[0].values, (std::vector<float>{0.5f, 0.25f}));
  nlohmann::json config = nlohmann::json::parse(back.model_config);
  EXPECT_EQ(config["class_name"], "Sequential");
  EXPECT_EQ(config["config"]["name"], "stand_ins");
  ASSERT_EQ(back.layers.size(), 4u);  // Keras' model.layers: no InputLayer
  EXPECT_EQ(back.layers[1].name, "pooling");
  EXPECT_TRUE(back.layers[1].weights.empty());
  ASSERT_EQ(back.layers[2].weights.size(), 4u);
  EXPECT_EQ(back.layers[2].weights[3].name, "bn/moving_variance:0");
  EXPECT_EQ(back.layers[2].weights[3].values, (std::vector<float>{13, 14}));

  // Load the saved weights into a fresh model: everything comes back.
  Sequential fresh = small_model({"conv", "bn", "head"});
  load_weights(fresh, back, dir + "/model.h5");
  for (size_t i = 0; i < model.size(); ++i)
    for (size_t j = 0; j < model.layer(i).params().size(); ++j)
      EXPECT_EQ(fresh.layer(i).params()[j]->value.to_vector(),
                model.layer(i).params()[j]->value.to_vector());

  if (!test::python_unavailable_reason({"h5py"}).empty()) return;
  CATDOG_RUN_PYTHON(r, R"(
import sys, json, h5py
with h5py.File(sys.argv[1], 'r') as f:
    cfg = json.loads(f.attrs['model_config'])
    layers = cfg['config']['layers']
    assert [l['class_name'] for l in layers] == ['InputLayer', 'StandIn', 'StandIn', 'StandIn', 'StandIn'], layers
    assert layers[0]['config']['batch_input_shape'] == [None, 4, 4, 2]
    assert layers[3]['config']['trainable'] is False
    w = f['model_weights']
    assert [n.decode() for n in w.attrs['layer_names']] == ['conv', 'pooling', 'bn', 'head']
    assert [n.decode() for n in w['head'].attrs['weight_names']] == ['head/kernel:0']
    assert list(w['head/head/kernel:0'][:, 0]) == [15.0, 16.0]
print('ok')
)", {dir + "/model.h5"});
}

TEST(LoadKerasModel, WeightsOnlyFileIsRefusedWithAHint) {
  std::string path = test::temp_dir("load_keras_model_weights_only") + "/w.h5";
  write_keras_h5(path, small_file());
  std::string e = test::error_message([&] { load_keras_model(path); });
  EXPECT_NE(e.find(path + " has no model_config; it is a weights file: use --weights"),
            std::string::npos) << e;
}

}  // namespace
}  // namespace catdog
