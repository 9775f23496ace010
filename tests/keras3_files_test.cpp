// Keras 3's own files: x.weights.h5 (save_weights) and x.keras (model.save, a zip).
//
// Without Keras (these run everywhere): files in the Keras 3 layout written by h5py and zips
// written by Python's zipfile, whose every value the test knows, and bad ones that must be
// refused with a message naming the layer or entry. With Keras 3 (a python given by
// $CATDOG_KERAS3_PYTHON, else ../venv-keras3/bin/python beside the source tree; the tests skip
// with the reason when there is none): tests/fixtures/make_keras3_files.py writes both formats for
// two models with random weights, and Keras' own outputs on the same inputs, which catdog's
// engine and command line must reproduce.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "engine/model_config.h"
#include "tests/support/cli.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "weights/keras_h5.h"
#include "weights/npy.h"
#include "weights/zip_archive.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;
using test::error_message;

// ---------------------------------------------------------------------------------------------
// Hand-built files in the Keras 3 layout.

// The model, as Keras 3 serializes it (module / class_name / config / registered_name).
const char* kKeras3Config = R"({"module": "keras", "class_name": "Sequential", "config": {
  "name": "handmade", "trainable": true, "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
   "config": {"batch_shape": [null, 16, 16, 3], "dtype": "float32", "name": "input_layer"}},
  {"module": "keras.layers", "class_name": "Conv2D", "registered_name": null,
   "config": {"name": "c1", "filters": 4, "kernel_size": [3, 3], "padding": "same",
              "use_bias": false, "activation": "linear",
              "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}},
   "build_config": {"input_shape": [null, 16, 16, 3]}},
  {"module": "keras.layers", "class_name": "BatchNormalization", "registered_name": null,
   "config": {"name": "bn", "axis": -1, "epsilon": 0.001, "center": true, "scale": true}},
  {"module": "keras.layers", "class_name": "LeakyReLU", "registered_name": null,
   "config": {"name": "lr", "negative_slope": 0.1}},
  {"module": "keras.layers", "class_name": "Conv2D", "registered_name": null,
   "config": {"name": "c2", "filters": 3, "kernel_size": [1, 1], "activation": "relu"}},
  {"module": "keras.layers", "class_name": "MaxPooling2D", "registered_name": null,
   "config": {"name": "mp", "pool_size": [2, 2]}},
  {"module": "keras.layers", "class_name": "Flatten", "registered_name": null,
   "config": {"name": "fl"}},
  {"module": "keras.layers", "class_name": "Dense", "registered_name": null,
   "config": {"name": "d", "units": 2, "activation": "linear"}}]}})";

// Writes argv[1] in the Keras 3 layout for kKeras3Config, with the defect argv[2] names. Weight j
// of the layer at index k of `spec` holds i * 0.001 + 10k + j at flat index i.
const char* kWriteKeras3Weights = R"(
import sys, h5py, numpy as np
path, mode = sys.argv[1], sys.argv[2]
spec = [("conv2d", "c1", [(3, 3, 3, 4)]), ("batch_normalization", "bn", [(4,)] * 4),
        ("leaky_re_lu", "lr", []), ("conv2d_1", "c2", [(1, 1, 4, 3), (3,)]),
        ("max_pooling2d", "mp", []), ("flatten", "fl", []), ("dense", "d", [(192, 2), (2,)])]
with h5py.File(path, "w") as f:
    f.create_group("vars").attrs["name"] = "handmade"
    for k, (where, name, shapes) in enumerate(spec):
        if mode == "missing_layer" and where == "dense":
            continue
        v = f.create_group("layers/" + where + "/vars")
        v.attrs["name"] = name
        for j, s in enumerate(shapes):
            if mode == "missing_var" and where == "conv2d_1" and j == 1:
                continue
            if mode == "bad_shape" and where == "dense" and j == 0:
                s = (191, 2)
            n = int(np.prod(s))
            v[str(j)] = (np.arange(n) * 0.001 + 10 * k + j).reshape(s).astype("float32")
    if mode.startswith("extra"):
        v = f.create_group("layers/dense_1/vars")
        v.attrs["name"] = "d2"
        v["0"] = np.ones((2, 1), "float32")
        if mode == "extra_renamed":
            f["layers/conv2d/vars"].attrs["name"] = "other_name"
    if mode == "stray_var":
        f["layers/dense/vars"]["x"] = np.zeros(2, "float32")
    if mode == "nested":
        f.create_group("layers/conv2d/layers/inner/vars")
)";

class Keras3Layout : public ::testing::Test {
 protected:
  void SetUp() override { CATDOG_REQUIRE_PYTHON("h5py", "numpy"); }

  std::string write(const std::string& mode) {
    const std::string path = test::temp_dir("keras3_layout_" + mode) + "/w.weights.h5";
    const test::PythonResult r = test::run_python(kWriteKeras3Weights, {path, mode});
    EXPECT_EQ(r.exit_code, 0) << "python failed:\n" << r.output;
    return path;
  }

  static Sequential model() {
    ParsedModel parsed = parse_model_config_text(kKeras3Config);
    parsed.model.build(parsed.input_hwc);
    return std::move(parsed.model);
  }

  // Where layer `name` sits in the script's spec.
  static int spec_index(const std::string& name) {
    const std::vector<std::string> order = {"c1", "bn", "lr", "c2", "mp", "fl", "d"};
    return static_cast<int>(std::find(order.begin(), order.end(), name) - order.begin());
  }

  static void expect_written_values(Sequential& m) {
    for (size_t l = 0; l < m.size(); ++l) {
      const int k = spec_index(m.layer(l).name());
      std::vector<Param*> params = m.layer(l).params();
      for (size_t j = 0; j < params.size(); ++j) {
        SCOPED_TRACE(m.layer(l).name() + " " + params[j]->name);
        const std::vector<float> v = params[j]->value.to_vector();
        size_t wrong = 0;
        for (size_t i = 0; i < v.size(); ++i)
          wrong += v[i] != static_cast<float>(i * 0.001 + 10 * k + static_cast<double>(j));
        EXPECT_EQ(wrong, 0u);
      }
    }
  }
};

TEST(Keras3Naming, SnakeCaseAsKerasNamesLayerGroups) {
  // As in files Keras 3.15 wrote (layers/conv2d, layers/leaky_re_lu, layers/max_pooling2d, ...).
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"Conv2D", "conv2d"},
      {"MaxPooling2D", "max_pooling2d"},
      {"BatchNormalization", "batch_normalization"},
      {"LeakyReLU", "leaky_re_lu"},
      {"ReLU", "re_lu"},
      {"GlobalAveragePooling2D", "global_average_pooling2d"},
      {"Dense", "dense"},
      {"Dropout", "dropout"},
      {"Flatten", "flatten"},
      {"Activation", "activation"}};
  for (const auto& [cls, snake] : cases) EXPECT_EQ(keras_snake_case(cls), snake) << cls;
}

TEST_F(Keras3Layout, EveryVarReachesItsLayerByPathAndOrder) {
  const std::string path = write("ok");
  const KerasH5 file = read_keras_h5(path);
  ASSERT_TRUE(file.keras3_layout);
  Sequential m = model();
  load_weights(m, file, path);
  expect_written_values(m);
  // gamma, beta, moving_mean, moving_variance: vars 0 to 3 of layers/batch_normalization.
  const std::vector<Param*> bn = m.layer(1).params();
  ASSERT_EQ(bn.size(), 4u);
  EXPECT_EQ(bn[0]->name, "gamma");
  EXPECT_FLOAT_EQ(bn[0]->value.to_vector()[0], 10.0f);
  EXPECT_FLOAT_EQ(bn[3]->value.to_vector()[0], 13.0f);
}

TEST_F(Keras3Layout, BadFilesAreRefusedNamingTheLayer) {
  const auto load_error = [&](const std::string& mode) {
    const std::string path = write(mode);
    Sequential m = model();
    return error_message([&] { load_weights(m, read_keras_h5(path), path); });
  };
  std::string e = load_error("bad_shape");
  EXPECT_NE(e.find("layer 'd'"), std::string::npos) << e;
  EXPECT_NE(e.find("(192, 2)"), std::string::npos) << e;
  EXPECT_NE(e.find("(191, 2)"), std::string::npos) << e;
  e = load_error("missing_var");
  EXPECT_NE(e.find("layer 'c2' needs 2 weights"), std::string::npos) << e;
  e = load_error("missing_layer");
  EXPECT_NE(e.find("no weights for layer 'd'"), std::string::npos) << e;
  EXPECT_NE(e.find("layers/dense/vars"), std::string::npos) << e;
  e = load_error("extra_renamed");
  EXPECT_NE(e.find("layers/dense_1 ('d2')"), std::string::npos) << e;
  {
    const std::string path = write("stray_var");
    const std::string e = error_message([&] { read_keras_h5(path); });
    EXPECT_NE(e.find("layers/dense/vars holds 3 entries"), std::string::npos) << e;
  }
  {
    const std::string path = write("nested");
    const std::string e = error_message([&] { read_keras_h5(path); });
    EXPECT_NE(e.find("layers/conv2d: a nested model"), std::string::npos) << e;
  }
}

TEST_F(Keras3Layout, ExtraFileLayersAreIgnoredForACutShortModelWithTheSameNames) {
  const std::string path = write("extra");
  Sequential m = model();
  load_weights(m, read_keras_h5(path), path);
  expect_written_values(m);
}

TEST_F(Keras3Layout, UseBiasFalseTakesOneVarAndABiasedLayerRefusesIt) {
  // c1 is use_bias false: the file's one var is its kernel. The same file for a model whose c1 has
  // a bias must be refused, not read with a missing bias.
  const std::string path = write("ok");
  std::string config = kKeras3Config;
  config.replace(config.find("\"use_bias\": false"), 17, "\"use_bias\": true");
  ParsedModel parsed = parse_model_config_text(config);
  parsed.model.build(parsed.input_hwc);
  const std::string e =
      error_message([&] { load_weights(parsed.model, read_keras_h5(path), path); });
  EXPECT_NE(e.find("layer 'c1' needs 2 weights"), std::string::npos) << e;
}

// ---------------------------------------------------------------------------------------------
// The zip reader, on archives written by Python's zipfile.

const char* kWriteZips = R"(
import os, sys, zipfile
d = sys.argv[1]
blob = bytes((i * 7919 + (i >> 9)) % 251 for i in range(300000))
text = b'{"hello": "zip"}' * 100
open(os.path.join(d, "blob.bin"), "wb").write(blob)
for name, method in (("stored.zip", zipfile.ZIP_STORED), ("deflated.zip", zipfile.ZIP_DEFLATED)):
    with zipfile.ZipFile(os.path.join(d, name), "w", method) as z:
        z.writestr("config.json", text)
        z.writestr("sub/blob.bin", blob)
with zipfile.ZipFile(os.path.join(d, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("model.weights.h5", bytes(64 << 20))
with zipfile.ZipFile(os.path.join(d, "dup.zip"), "w") as z:
    z.writestr("config.json", b"{}")
    z.writestr("config.json", b"[]")
with zipfile.ZipFile(os.path.join(d, "weird.zip"), "w") as z:
    z.writestr("../config.json", b"{}")
    z.writestr("/model.weights.h5", b"x")
)";

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class ZipReader : public ::testing::Test {
 protected:
  void SetUp() override {
    CATDOG_REQUIRE_PYTHON("zipfile");
    dir_ = test::temp_dir("keras3_zips");
    CATDOG_RUN_PYTHON(r, kWriteZips, {dir_});
    (void)r;
  }
  std::string dir_;
};

TEST_F(ZipReader, StoredAndDeflatedEntriesComeBackByteForByte) {
  const std::string blob = file_bytes(dir_ + "/blob.bin");
  std::string text;
  for (int i = 0; i < 100; ++i) text += "{\"hello\": \"zip\"}";
  for (const char* name : {"stored.zip", "deflated.zip"}) {
    SCOPED_TRACE(name);
    const ZipArchive zip(dir_ + "/" + name);
    ASSERT_EQ(zip.entries().size(), 2u);
    ASSERT_NE(zip.find("sub/blob.bin"), nullptr);
    EXPECT_EQ(zip.find("blob.bin"), nullptr);
    EXPECT_EQ(zip.read(*zip.find("config.json"), 1 << 20), text);
    EXPECT_EQ(zip.read(*zip.find("sub/blob.bin"), 1 << 20), blob);
    const std::string out = dir_ + "/extracted.bin";
    zip.extract_to(*zip.find("sub/blob.bin"), out, 1 << 20);
    EXPECT_EQ(file_bytes(out), blob);
    const std::string e = error_message([&] { zip.read(*zip.find("sub/blob.bin"), 1000); });
    EXPECT_NE(e.find("declares 300000 bytes, more than the 1000"), std::string::npos) << e;
  }
}

TEST_F(ZipReader, DamagedArchivesAreRefusedInOneLine) {
  const std::string stored = file_bytes(dir_ + "/stored.zip");
  const std::string cut = dir_ + "/cut.zip";
  write_bytes(cut, stored.substr(0, stored.size() - 5));
  std::string e = error_message([&] { ZipArchive z(cut); });
  EXPECT_NE(e.find("no zip end-of-central-directory record"), std::string::npos) << e;

  // The central directory and end record kept, the data of the second entry cut away.
  const size_t first_directory = stored.find("PK\x01\x02");
  ASSERT_NE(first_directory, std::string::npos);
  std::string short_data = stored.substr(0, 2000) + stored.substr(first_directory);
  write_bytes(cut, short_data);
  e = error_message([&] {
    ZipArchive z(cut);
    z.read(*z.find("sub/blob.bin"), 1 << 20);
  });
  EXPECT_NE(e.find("zip"), std::string::npos) << e;
  EXPECT_NE(e.find(cut), std::string::npos) << e;

  std::string flipped = stored;
  const size_t at = flipped.find("{\"hello\"");
  flipped[at + 3] ^= 1;
  write_bytes(cut, flipped);
  e = error_message([&] {
    ZipArchive z(cut);
    z.read(*z.find("config.json"), 1 << 20);
  });
  EXPECT_NE(e.find("zip entry 'config.json': CRC-32 mismatch"), std::string::npos) << e;

  e = error_message([&] { ZipArchive z(dir_ + "/dup.zip"); });
  EXPECT_NE(e.find("holds 'config.json' twice"), std::string::npos) << e;
}

TEST_F(ZipReader, AnInflationBombIsRefusedBeforeInflating) {
  const ZipArchive zip(dir_ + "/bomb.zip");
  const ZipEntry& entry = *zip.find("model.weights.h5");
  EXPECT_LT(entry.compressed_size * 64 + (1 << 20), entry.size);
  const std::string e = error_message([&] { zip.read(entry, uint64_t{1} << 32); });
  EXPECT_NE(e.find("more than 64 times: refused before inflating"), std::string::npos) << e;
}

TEST_F(ZipReader, EntriesAreOnlyFoundByTheirExactName) {
  const ZipArchive zip(dir_ + "/weird.zip");
  EXPECT_EQ(zip.find("config.json"), nullptr);
  EXPECT_EQ(zip.find("model.weights.h5"), nullptr);
  const std::string e = error_message([&] { read_keras_h5(dir_ + "/weird.zip"); });
  EXPECT_NE(e.find("without config.json"), std::string::npos) << e;
}

// A .keras made by hand: kKeras3Config, metadata.json and the Keras 3 weights file above.
TEST_F(Keras3Layout, AHandMadeKerasArchiveLoadsAsAModel) {
  const std::string weights = write("ok");
  const std::string dir = fs::path(weights).parent_path().string();
  const std::string archive = dir + "/handmade.keras";
  write_bytes(dir + "/config.json", kKeras3Config);
  CATDOG_RUN_PYTHON(r, R"(
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("metadata.json", '{"keras_version": "3.99.0", "date_saved": "today"}')
    z.write(sys.argv[2], "config.json")
    z.write(sys.argv[3], "model.weights.h5")
)",
                    {archive, dir + "/config.json", weights});
  (void)r;
  LoadedModel loaded = load_keras_model(archive);
  EXPECT_EQ(loaded.file.keras_version, "3.99.0");
  EXPECT_EQ(loaded.parsed.name, "handmade");
  expect_written_values(loaded.parsed.model);

  const test::CliResult summary = test::run_catdog({"summary", "--model", archive}, dir);
  EXPECT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("bn (BatchNormalization)"), std::string::npos) << summary.out;

  // The same archive cut short: one error line naming it, no crash.
  write_bytes(dir + "/cut.keras", file_bytes(archive).substr(0, 3000));
  const test::CliResult cut = test::run_catdog({"summary", "--model", dir + "/cut.keras"}, dir);
  EXPECT_NE(cut.exit_code, 0);
  EXPECT_NE(cut.err.find("cut.keras"), std::string::npos) << cut.err;
  EXPECT_EQ(std::count(cut.err.begin(), cut.err.end(), '\n'), 1) << cut.err;
}

// ---------------------------------------------------------------------------------------------
// Files real Keras 3 wrote, and Keras' own outputs.

std::string keras3_python() {
  if (const char* env = std::getenv("CATDOG_KERAS3_PYTHON"); env && *env) return env;
  return (fs::path(CATDOG_SOURCE_DIR).parent_path() / "venv-keras3/bin/python").string();
}

class RealKeras3 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string python = keras3_python();
    if (::access(python.c_str(), X_OK) != 0) {
      why_skipped_ = "no python with Keras 3 at " + python +
                     " (set CATDOG_KERAS3_PYTHON; pip install keras tensorflow-cpu pillow)";
      return;
    }
    // Written once per fixture script and interpreter, and shared by the test processes (ctest
    // runs each test in its own): made in a fresh directory, then renamed into place.
    const std::string script =
        file_bytes(std::string(CATDOG_SOURCE_DIR) + "/tests/fixtures/make_keras3_files.py");
    dir_ = test::test_tmp_root() + "/keras3_real-" +
           std::to_string(std::hash<std::string>{}(script + python));
    if (fs::exists(dir_ + "/keras_version.txt")) return;
    const std::string fresh = test::temp_dir("keras3_real_fresh");
    const test::PythonResult r = test::run_python_with(python, script, {fresh});
    if (r.exit_code != 0) {
      why_skipped_ = python + " could not write the Keras 3 files: " + r.output;
      return;
    }
    std::error_code ec;
    fs::rename(fresh, dir_, ec);  // fails when another process got there first: use its files
    if (ec) fs::remove_all(fresh, ec);
  }
  void SetUp() override {
    if (!why_skipped_.empty()) GTEST_SKIP() << why_skipped_;
    work_ = test::temp_dir("keras3_real_cli");  // this test's catdog runs and outputs
  }
  static std::string at(const std::string& name) { return dir_ + "/" + name; }
  static std::vector<float> npy(const std::string& name) { return read_npy(at(name)).to_vector(); }

  static inline std::string dir_, why_skipped_;
  std::string work_;
};

const char* const kModels[] = {"vgg_like", "darknet_like"};

TEST_F(RealKeras3, WeightsFileGivesKerasOutputs) {
  const Tensor inputs = read_npy(at("inputs.npy"));
  for (const std::string name : kModels) {
    SCOPED_TRACE(name);
    ParsedModel parsed = parse_model_config_text(file_bytes(at(name + ".config.json")));
    parsed.model.build(parsed.input_hwc);
    const std::string weights = at(name + ".weights.h5");
    load_weights(parsed.model, read_keras_h5(weights), weights);
    ExecContext ctx;
    const std::vector<float> ours = parsed.model.forward(inputs, ctx).to_vector();
    const double error = test::max_relative_error(ours, npy(name + ".predict.npy"));
    EXPECT_LT(error, 1e-4);
    std::cout << name << ".weights.h5: max relative difference from Keras " << error << "\n";
  }
}

TEST_F(RealKeras3, KerasArchiveGivesKerasOutputs) {
  const Tensor inputs = read_npy(at("inputs.npy"));
  for (const std::string name : kModels) {
    SCOPED_TRACE(name);
    LoadedModel loaded = load_keras_model(at(name + ".keras"));
    EXPECT_EQ(loaded.file.keras_version, file_bytes(at("keras_version.txt")));
    ExecContext ctx;
    const std::vector<float> ours = loaded.parsed.model.forward(inputs, ctx).to_vector();
    const double error = test::max_relative_error(ours, npy(name + ".predict.npy"));
    EXPECT_LT(error, 1e-4);
    std::cout << name << ".keras: max relative difference from Keras " << error << "\n";
  }
}

TEST_F(RealKeras3, PredictOnPhotosGivesKerasProbabilities) {
  for (const std::string name : kModels) {
    SCOPED_TRACE(name);
    std::vector<std::string> args = {"predict", "--model", at(name + ".keras"), "--device", "cpu"};
    for (int k = 0; k < 4; ++k) args.push_back(at("photo_" + std::to_string(k) + ".png"));
    const test::CliResult r = test::run_catdog(args, work_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<float> keras = npy(name + ".predict.npy");
    std::istringstream lines(r.out);
    std::string path, klass;
    float p = 0;
    for (int k = 0; k < 4; ++k) {
      ASSERT_TRUE(bool(lines >> path >> p >> klass)) << r.out;
      EXPECT_NEAR(p, keras[k], 2e-6 + 1e-4 * keras[k]) << path;
    }
  }
}

TEST_F(RealKeras3, ExtractWithAWeightsFileOrAnArchiveGivesKerasFeatures) {
  for (const std::string name : kModels) {
    // Architecture from model.to_json() and weights from x.weights.h5; then both from x.keras.
    const std::vector<std::vector<std::string>> sources = {
        {"--model", at(name + ".config.json"), "--weights", at(name + ".weights.h5")},
        {"--model", at(name + ".keras")}};
    for (const std::vector<std::string>& source : sources) {
      SCOPED_TRACE(source[1]);
      const std::string out = work_ + "/" + name + ".features.npy";
      std::vector<std::string> args = {"extract"};
      args.insert(args.end(), source.begin(), source.end());
      for (const std::string& a : {std::string("--preprocess"), std::string("scale"),
                                   std::string("--stop-after"), file_bytes(at(name + ".features_layer")),
                                   std::string("--device"), std::string("cpu"), std::string("--output"),
                                   out, at("big_0.png"), at("big_1.png")})
        args.push_back(a);
      const test::CliResult r = test::run_catdog(args, work_);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const double error =
          test::max_relative_error(read_npy(out).to_vector(), npy(name + ".features.npy"));
      EXPECT_LT(error, 1e-4);
      std::cout << source[1] << " extract: max relative difference from Keras " << error << "\n";
    }
  }
}

// keras.applications.VGG16(include_top=False) as Keras 3 saves it, into catdog's built-in base.
TEST_F(RealKeras3, Vgg16ApplicationWeightsGiveKerasFeatures) {
  const std::string out = work_ + "/vgg16.features.npy";
  const test::CliResult r = test::run_catdog(
      {"extract", "--model", "vgg16", "--weights", at("vgg16.weights.h5"), "--device", "cpu",
       "--output", out, at("big_0.png"), at("big_1.png")},
      work_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double error = test::max_relative_error(read_npy(out).to_vector(), npy("vgg16.features.npy"));
  EXPECT_LT(error, 1e-4);
  std::cout << "vgg16.weights.h5 extract: max relative difference from Keras " << error << "\n";
}

}  // namespace
}  // namespace catdog
