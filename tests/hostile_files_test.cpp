// Files a hostile user can hand catdog (issue 16): output paths that are not regular files, deeply
// nested or huge model configs, FIFOs and huge sparse images, and command-line values that used to
// slip through. Each case ends in one clear line (or a skipped image) in bounded time and memory.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/dataset.h"
#include "data/decode.h"
#include "data/encode_jpeg.h"
#include "engine/model_config.h"
#include "tests/support/cli.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "weights/atomic_file.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;
using test::CliResult;

// A one-layer model (a 1x1 convolution) for `extract` and `summary`.
const char* const kTinyConfig = R"({"class_name": "Sequential", "config": {"name": "tiny", "layers": [
  {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 224, 224, 3]}},
  {"class_name": "Conv2D", "config": {"name": "c", "filters": 1, "kernel_size": [1, 1]}}]}})";

// A model_config whose one layer holds `layer_body` (JSON text).
std::string config_with_layer(const std::string& layer_body) {
  return R"({"class_name": "Sequential", "config": {"layers": [)" + layer_body + "]}}";
}

class HostileFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_ = test::temp_dir(std::string("hostile_files_") + info->name());
  }

  CliResult run(const std::vector<std::string>& args, test::ChildLimits limits = {}) {
    limits.timeout_s = 60;  // a hang is a failure, not a stuck test
    return test::run_catdog(args, work_, limits);
  }

  // `max_chars`: a message is short, unless it must name several long paths.
  static void expect_one_clear_line(const CliResult& r, const std::string& needle,
                                    size_t max_chars = 400) {
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_LT(r.exit_code, 128) << "killed by a signal: " << r.err;
    EXPECT_EQ(r.err.rfind("catdog: error: ", 0), 0u) << r.err.substr(0, 400);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err.substr(0, 400);
    EXPECT_LT(r.err.size(), max_chars) << r.err.substr(0, max_chars);
    EXPECT_NE(r.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << r.err;
  }

  // `extract` arguments for the tiny model and one generated JPEG, writing to `output`.
  std::vector<std::string> extract_to(const std::string& output) {
    const std::string config = work_ + "/tiny.json", weights = work_ + "/tiny.h5";
    std::ofstream(config) << kTinyConfig;
    ParsedModel parsed = parse_model_config_text(kTinyConfig);
    parsed.model.build({224, 224, 3});
    save_keras_model(weights, parsed.model, "tiny");
    const std::string data = test::write_small_dataset(work_ + "/data", 2, 48);
    return {"extract", "--model", config, "--preprocess", "scale", "--weights", weights,
            "--device", "cpu", "--output", output, data + "/train/cats/" + first_image(data)};
  }

  // A model trained for one epoch, for `predict`.
  std::string trained_model() {
    const std::string data = test::write_small_dataset(work_ + "/data", 8, 56);
    const CliResult r = run({"train", "--data", data, "--model", "vgg1", "--image-size", "32",
                             "--epochs", "1", "--batch", "8", "--device", "cpu", "--out",
                             work_ + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return work_ + "/run/model.h5";
  }

  static std::string first_image(const std::string& data) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(data + "/train/cats")) {
      names.push_back(e.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names.at(0);
  }

  std::string work_;
};

// --- Output paths: regular files only; through a symlink to its target --------------------------

TEST_F(HostileFiles, ExtractRefusesAFifoOutput) {
  const std::string fifo = work_ + "/features.npy";
  std::vector<std::string> args = extract_to(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  expect_one_clear_line(run(args), fifo);
  EXPECT_TRUE(fs::is_fifo(fifo)) << "the FIFO was replaced";
}

TEST_F(HostileFiles, ExtractWritesThroughASymlinkToItsTarget) {
  const std::string target = work_ + "/real/features.npy", link = work_ + "/link.npy";
  fs::create_directories(work_ + "/real");
  fs::create_symlink("real/features.npy", link);  // relative, dangling until written
  const CliResult r = run(extract_to(link));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(link)) << "the symlink was replaced by a file";
  EXPECT_GT(fs::file_size(target), 0u);
}

TEST_F(HostileFiles, AtomicWriteRefusesDevicesDirectoriesAndFifos) {
  const std::string to_null = work_ + "/null.npy", dir = work_ + "/dir", fifo = work_ + "/fifo";
  fs::create_symlink("/dev/null", to_null);
  fs::create_directories(dir);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const std::string device = test::error_message([&] { atomic_write_file(to_null, "x"); });
  EXPECT_NE(device.find(to_null), std::string::npos) << device;
  EXPECT_NE(device.find("a device"), std::string::npos) << device;
  EXPECT_TRUE(fs::is_symlink(to_null));
  EXPECT_NE(test::error_message([&] { atomic_write_file(dir, "x"); }).find("it is a directory"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] { atomic_write_file(fifo, "x"); }).find("it is a FIFO"),
            std::string::npos);
  EXPECT_TRUE(fs::is_fifo(fifo));
  for (const auto& e : fs::directory_iterator(work_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

// --- Deep and huge JSON ----------------------------------------------------------------------------

TEST_F(HostileFiles, DeeplyNestedModelConfigIsRefusedInOneShortLine) {
  // A million levels inside a layer entry with no config: its message used to dump() it
  // recursively and run out of stack.
  const int depth = 1'000'000;
  const std::string deep = config_with_layer(R"({"class_name": "Dense", "x": )" +
                                             std::string(depth, '[') + std::string(depth, ']') + "}");
  const std::string path = work_ + "/deep.json";
  std::ofstream(path) << deep;
  expect_one_clear_line(run({"summary", "--model", path}), "nests deeper than 64 levels");
}

TEST_F(HostileFiles, JsonInAnErrorMessageIsCut) {
  std::string wide = "[null";
  for (int i = 1; i < 20000; ++i) wide += "," + std::to_string(i);
  wide += "]";
  const std::string why = test::error_message([&] {
    parse_model_config_text(config_with_layer(
        R"({"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": )" + wide +
        "}}"));
  });
  EXPECT_NE(why.find("input layer in"), std::string::npos) << why.substr(0, 300);
  EXPECT_LT(why.size(), 300u) << why.substr(0, 300);
}

TEST_F(HostileFiles, SixtyThousandLayersParseInLinearTime) {
  std::string layers;
  for (int i = 0; i < 60000; ++i) {
    layers += std::string(i ? "," : "") + R"({"class_name": "Activation", "config": {"name": "layer_)" +
              std::to_string(i) + R"(", "activation": "relu"}})";
  }
  const auto start = std::chrono::steady_clock::now();
  const ParsedModel parsed = parse_model_config_text(config_with_layer(layers));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(parsed.model.size(), 60000u);
  EXPECT_LT(seconds, 2.0) << "quadratic again? (the duplicate-name check took 5 s here)";
}

// --- Hangs -------------------------------------------------------------------------------------

TEST_F(HostileFiles, PredictSkipsAFifoAndAnswersTheGoodImage) {
  const std::string model = trained_model();
  const std::string fifo = work_ + "/photo.jpg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const std::string good = work_ + "/data/train/cats/" + first_image(work_ + "/data");
  const CliResult r = run({"predict", "--model", model, "--device", "cpu", fifo, good});
  EXPECT_LT(r.exit_code, 128) << "hung or crashed: " << r.err;
  EXPECT_NE(r.err.find(fifo), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find(good), std::string::npos) << r.out;
}

// --- Memory ------------------------------------------------------------------------------------

// predict decoded a whole --batch chunk at full size before resizing: 8 photos of 7000x7000 held
// 8 x 7000 x 7000 x 3 = 1.18 GB at once. One at a time, it is one photo (147 MB) and the model.
TEST_F(HostileFiles, PredictHoldsOneFullSizePhotoAtATime) {
  const std::string model = trained_model();
  const int side = 7000;
  const std::vector<uint8_t> grey(static_cast<size_t>(side) * side * 3, 128);
  const std::vector<uint8_t> jpeg = encode_jpeg(grey.data(), side, side, JpegInput::rgb, 50);
  std::vector<std::string> args = {"predict", "--model", model, "--device", "cpu"};  // one chunk
  for (int i = 0; i < 8; ++i) {
    const std::string path = work_ + "/big" + std::to_string(i) + ".jpg";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
    args.push_back(path);
  }
  const CliResult r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 8) << r.out;
  EXPECT_LT(r.max_rss_kb, 600L * 1024) << "peak resident memory " << r.max_rss_kb / 1024 << " MiB";
}

// Replaces the first kernel of a saved model by a gzip-compressed (8192, 16384) float32 dataset
// (512 MiB): zeros and one random value a row, about 1/800 of its size stored, so the stored
// size alone does not give it away. Returns what h5py printed (the dataset and its stored bytes).
std::string replace_first_kernel_by_a_compressed_giant(const std::string& h5, int seed) {
  const test::PythonResult py = test::run_python(R"(
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    g = f["model_weights"]
    names = []
    g.visititems(lambda n, o: names.append(n) if n.endswith("kernel:0") else None)
    del g[names[0]]
    d = g.create_dataset(names[0], shape=(8192, 16384), dtype="float32", chunks=(512, 16384),
                         compression="gzip", compression_opts=9)
    rows = np.zeros((512, 16384), np.float32)
    rng = np.random.default_rng(int(sys.argv[2]))
    for row in range(0, 8192, 512):
        rows[:, 7] = rng.random(512)
        d[row:row + 512] = rows
    print(names[0], d.id.get_storage_size())
)", {h5, std::to_string(seed)});
  EXPECT_EQ(py.exit_code, 0) << py.output;
  return py.output;
}

// A gzip-compressed weight declaring 8192 x 16384 float32 values (512 MiB; nearly all zeros, so
// under 1 MB in the file) was read and decompressed whole before its shape was compared with the model's
// (768, 1) kernel. It is refused by its declared shape, before reading.
TEST_F(HostileFiles, ACompressedHugeWeightIsRefusedByItsShapeBeforeReading) {
  CATDOG_REQUIRE_PYTHON("h5py", "numpy");
  ParsedModel parsed = parse_model_config_text(R"({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 16, 16, 3]}},
    {"class_name": "Flatten", "config": {"name": "flat"}},
    {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}}]}})");
  parsed.model.build({16, 16, 3});
  const std::string model = work_ + "/compressed.h5";
  save_keras_model(model, parsed.model, "compressed");
  const std::string crafted = replace_first_kernel_by_a_compressed_giant(model, 1);
  const std::string data = test::write_small_dataset(work_ + "/data", 2, 48);
  const CliResult r = run({"predict", "--model", model, "--device", "cpu",
                           data + "/train/cats/" + first_image(data)});
  expect_one_clear_line(r, "(8192, 16384)");
  EXPECT_NE(r.err.find(model), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kernel:0"), std::string::npos) << r.err;
  // catdog starts at about 230 MiB here (the CUDA libraries mapped); reading the weight is 512 more.
  EXPECT_LT(r.max_rss_kb, 450L * 1024) << "peak resident memory " << r.max_rss_kb / 1024 << " MiB ("
                                       << crafted << ")";
}

// The same kind of weight in a --weights file, which is not bounded by the model's shapes (it may
// hold more layers than the model): refused by its compression ratio before decompressing it.
TEST_F(HostileFiles, ACompressedHugeWeightInAWeightsFileIsRefusedBeforeReading) {
  CATDOG_REQUIRE_PYTHON("h5py", "numpy");
  const std::string config = R"({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 16, 16, 3]}},
    {"class_name": "Flatten", "config": {"name": "flat"}},
    {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}}]}})";
  ParsedModel parsed = parse_model_config_text(config);
  parsed.model.build({16, 16, 3});
  const std::string weights = work_ + "/bomb.h5";
  save_keras_model(weights, parsed.model, "bomb");
  std::ofstream(work_ + "/bomb.json") << config;
  const std::string crafted = replace_first_kernel_by_a_compressed_giant(weights, 2);
  const std::string data = test::write_small_dataset(work_ + "/data", 2, 48);
  const CliResult r = run({"extract", "--model", work_ + "/bomb.json", "--preprocess", "scale",
                           "--weights", weights, "--device", "cpu", "--output", work_ + "/f.npy",
                           data + "/train/cats/" + first_image(data)});
  expect_one_clear_line(r, "(8192, 16384)");
  EXPECT_NE(r.err.find("before decompressing"), std::string::npos) << r.err;
  EXPECT_LT(r.max_rss_kb, 450L * 1024) << "peak resident memory " << r.max_rss_kb / 1024 << " MiB ("
                                       << crafted << ")";
}

// The activation a huge input needs cannot be had: the message names the layer and the shape,
// not only "out of host memory allocating 4294967296 bytes". RLIMIT_AS makes the allocation fail.
TEST_F(HostileFiles, AnActivationThatCannotBeAllocatedNamesTheLayer) {
  CATDOG_SKIP_UNDER_ASAN_FOR_ADDRESS_LIMIT();
  ParsedModel parsed = parse_model_config_text(R"({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 4096, 4096, 3]}},
    {"class_name": "Conv2D", "config": {"name": "conv_wide", "filters": 64, "kernel_size": 1}},
    {"class_name": "GlobalAveragePooling2D", "config": {"name": "pool"}},
    {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}}]}})");
  parsed.model.build({4096, 4096, 3});
  const std::string model = work_ + "/wide.h5";
  save_keras_model(model, parsed.model, "wide");
  const std::string data = test::write_small_dataset(work_ + "/data", 2, 48);
  test::ChildLimits limits;
  limits.max_address_bytes = int64_t{3} << 30;  // the conv output alone is 4096^2 x 64 x 4 = 4 GiB
  const CliResult r = run({"predict", "--model", model, "--device", "cpu",
                           data + "/train/cats/" + first_image(data)}, limits);
  expect_one_clear_line(r, "layer conv_wide");
  EXPECT_NE(r.err.find("(1, 4096, 4096, 64)"), std::string::npos) << r.err;
}

// The decode pipeline's batch buffers cannot be had: the message names them, the batch and the
// image size, not only a number of bytes.
TEST_F(HostileFiles, BatchBuffersThatCannotBeAllocatedAreNamed) {
  CATDOG_SKIP_UNDER_ASAN_FOR_ADDRESS_LIMIT();
  ParsedModel parsed = parse_model_config_text(R"({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 1024, 1024, 3]}},
    {"class_name": "GlobalAveragePooling2D", "config": {"name": "pool"}},
    {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}}]}})");
  parsed.model.build({1024, 1024, 3});
  const std::string model = work_ + "/big_input.h5";
  save_keras_model(model, parsed.model, "big_input");
  const std::string data = test::write_small_dataset(work_ + "/data", 2, 48);
  test::ChildLimits limits;
  limits.max_address_bytes = int64_t{3} << 30;  // one batch buffer: 1024 x 1024^2 x 3 = 3 GiB
  const CliResult r = run({"evaluate", "--model", model, "--data", data + "/test", "--device",
                           "cpu", "--batch", "1024"}, limits);
  expect_one_clear_line(r, "batch buffers of 1024 images at 1024x1024");
  EXPECT_NE(r.err.find("(1024, 1024, 1024, 3)"), std::string::npos) << r.err;
}

TEST_F(HostileFiles, WorkersOutOfRangeAreRefused) {
  for (const char* workers : {"100000", "-3"}) {
    expect_one_clear_line(run({"train", "--data", work_, "--workers", workers}), "--workers");
  }
}

TEST_F(HostileFiles, DecodeThreadsThatCannotStartGiveAClearError) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the child as nobody under RLIMIT_NPROC";
  const std::string model = trained_model();
  fs::permissions(work_, fs::perms::all, fs::perm_options::add);
  test::ChildLimits limits;
  limits.as_nobody = true;
  limits.max_threads = 4;  // the pipeline wants 64: creating the 4th or so fails
  expect_one_clear_line(run({"evaluate", "--model", model, "--data", work_ + "/data/test",
                             "--device", "cpu", "--workers", "64"}, limits),
                        "cannot start 64 decode threads");
}

// --- Memory before checks ----------------------------------------------------------------------

TEST_F(HostileFiles, AnImageFileLargerThanTheCapIsRefusedBeforeReading) {
  const std::string big = work_ + "/big.jpg";
  std::ofstream(big).close();
  fs::resize_file(big, uintmax_t{300} << 20);  // over the 256 MiB cap; sparse: no disk used
  std::vector<uint8_t> bytes;
  try {
    read_file_bytes(big, bytes);
    ADD_FAILURE() << "read a file over the cap";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find(big), std::string::npos) << e.what();
  }
  EXPECT_LT(bytes.capacity(), size_t{1} << 20);
}

TEST_F(HostileFiles, DenseUnitsOutOfRangeAreNamedAsWritten) {
  for (const char* units : {"4294967297", "2147483648", "0", "-2", "18446744073709551615"}) {
    const std::string why = test::error_message([&] {
      parse_model_config_text(config_with_layer(
          std::string(R"({"class_name": "Dense", "config": {"name": "fc", "units": )") + units +
          "}}"));
    });
    EXPECT_NE(why.find("fc"), std::string::npos) << why;
    EXPECT_NE(why.find(std::string("units ") + units + " is out of range"), std::string::npos)
        << why;
  }
}

TEST_F(HostileFiles, HugeKernelIsRefusedBeforeAllocatingNamingTheLayer) {
  ParsedModel parsed = parse_model_config_text(config_with_layer(
      R"({"class_name": "Conv2D", "config": {"name": "conv_big", "filters": 64,
          "kernel_size": [2000, 2000], "padding": "same"}})"));
  const std::string why = test::error_message([&] { parsed.model.build({224, 224, 3}); });
  EXPECT_NE(why.find("conv_big"), std::string::npos) << why;
  EXPECT_NE(why.find("(2000, 2000, 3, 64)"), std::string::npos) << why;
}

// (2^62 + 3) * 4 * 1 = 2^64 + 12: the product wrapped to 12 features and the model built, with a
// Dense kernel of 12 rows, as if the input were 12 values.
TEST_F(HostileFiles, InputShapeWhoseProductWrapsIsRefusedNamingTheLayer) {
  const std::string path = work_ + "/wraps.json";
  std::ofstream(path) << R"({"class_name": "Sequential", "config": {"name": "wraps", "layers": [
    {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 4611686018427387907, 4, 1]}},
    {"class_name": "Flatten", "config": {"name": "flat"}},
    {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}}]}})";
  const CliResult r = run({"summary", "--model", path});
  expect_one_clear_line(r, "input layer in");
  EXPECT_NE(r.err.find("(4611686018427387907, 4, 1)"), std::string::npos) << r.err;
}

TEST_F(HostileFiles, KernelSizeOutOfIntRangeIsNotReadAsOne) {
  const std::string why = test::error_message([&] {
    parse_model_config_text(config_with_layer(
        R"({"class_name": "Conv2D", "config": {"name": "c", "filters": 4,
            "kernel_size": [4294967297, 1]}})"));
  });
  EXPECT_NE(why.find("'kernel_size' must be an integer from 1 to"), std::string::npos) << why;
  EXPECT_NE(why.find("4294967297"), std::string::npos) << why;
}

// --- Datasets ----------------------------------------------------------------------------------

// A newline in a file name split the warning about it into two train.log lines, the second one
// looking like a line of its own ("name.jpg: not an image ...").
TEST_F(HostileFiles, ANewlineInAFileNameStaysInItsLogLine) {
  const std::string data = test::write_small_dataset(work_ + "/data", 8, 56);
  std::ofstream(data + "/train/cats/bad\nname.jpg") << "not a photo";
  const CliResult r = run({"train", "--data", data, "--model", "vgg1", "--image-size", "32",
                           "--epochs", "1", "--batch", "4", "--device", "cpu", "--workers", "1",
                           "--out", work_ + "/run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string log = test::read_text(work_ + "/run/train.log");
  EXPECT_NE(log.find("bad\\nname.jpg"), std::string::npos) << log;
  for (const std::string& text : {log, r.out, r.err}) {
    EXPECT_EQ(text.find("\nname.jpg"), std::string::npos) << "a line starts inside the name:\n" << text;
  }
}

// prepare stopped at the second of two files with the same name, leaving the files it had placed,
// and the rerun was refused because --to held files.
TEST_F(HostileFiles, PrepareCollisionLeavesNothingAndTheRerunSucceeds) {
  const std::string from = test::write_small_dataset(work_ + "/data", 8, 48) + "/train";
  const std::string cats = from + "/cats/";
  fs::create_directories(cats + "sub");
  const std::string name = first_image(work_ + "/data");
  fs::copy_file(cats + name, cats + "sub/" + name);
  const std::string to = work_ + "/prepared";
  const std::vector<std::string> args = {"prepare", "--from", from, "--to", to,
                                         "--test-fraction", "0"};
  expect_one_clear_line(run(args), to + "/train/cats/" + name, 1000);  // three paths
  int64_t left = 0;
  if (fs::exists(to)) {
    for (const auto& e : fs::recursive_directory_iterator(to)) left += e.is_regular_file();
  }
  EXPECT_EQ(left, 0) << "files left behind in " << to;
  fs::remove(cats + "sub/" + name);
  const CliResult again = run(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  // write_small_dataset puts 6 of each class's 8 in train/ (a quarter in test/): 6 + 6.
  int64_t placed = 0;
  for (const auto& e : fs::recursive_directory_iterator(to)) placed += e.is_regular_file();
  EXPECT_EQ(placed, 12);
}

// .bmp (and .ppm, .tif) were listed as images the decoder never reads: each one was a warning in
// every epoch. Only what decodes is listed.
TEST_F(HostileFiles, OnlyDecodableExtensionsAreImages) {
  const std::string data = test::write_small_dataset(work_ + "/data", 8, 48);
  int64_t jpegs = 0;
  for (const auto& e : fs::recursive_directory_iterator(data + "/train")) jpegs += e.is_regular_file();
  for (const char* name : {"a.bmp", "b.ppm", "c.tif", "d.TIFF"}) {
    std::ofstream(data + "/train/dogs/" + name) << "BM not decodable";
  }
  const Dataset d = scan_dataset(data + "/train");
  EXPECT_EQ(static_cast<int64_t>(d.images.size()), jpegs);
  for (const LabeledImage& image : d.images) {
    EXPECT_EQ(image.path.find(".jpg"), image.path.size() - 4) << image.path;
  }
}

// A sub-folder without read permission aborted naming only the dataset folder.
TEST_F(HostileFiles, AnUnreadableSubfolderIsNamed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the child as nobody";
  const std::string data = test::write_small_dataset(work_ + "/data", 8, 48);
  const std::string locked = data + "/train/cats/locked";
  fs::create_directories(locked);
  std::ofstream(locked + "/x.jpg") << "x";
  ::chmod(locked.c_str(), 0);
  ::chmod(work_.c_str(), 0755);
  test::ChildLimits limits;
  limits.as_nobody = true;
  const CliResult r = run({"prepare", "--from", data + "/train", "--to", work_ + "/out"}, limits);
  ::chmod(locked.c_str(), 0755);
  expect_one_clear_line(r, "'" + locked + "'");
  EXPECT_NE(r.err.find("ermission denied"), std::string::npos) << r.err;
}

// --- Command-line values -----// --- Command-line values -----------------------------------------------------------------------

TEST_F(HostileFiles, NonFiniteOrHugeDeviceMemoryIsRefused) {
  for (const char* size : {"inf", "nan", "1e30G"}) {
    expect_one_clear_line(run({"train", "--data", work_, "--max-device-memory", size}),
                          "--max-device-memory");
  }
}

TEST_F(HostileFiles, EvaluateNeedsExactlyTwoClassFolders) {
  const std::string model = trained_model();
  const std::string test_dir = work_ + "/data/test";
  fs::create_directories(test_dir + "/birds");
  fs::copy_file(work_ + "/data/train/cats/" + first_image(work_ + "/data"),
                test_dir + "/birds/a.jpg");
  expect_one_clear_line(run({"evaluate", "--model", model, "--data", test_dir, "--device", "cpu"}),
                        "3 class folders");
}

TEST_F(HostileFiles, PredictNeedsAModelEndingInOneSigmoid) {
  const std::string config = R"({"class_name": "Sequential", "config": {"name": "two", "layers": [
    {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 16, 16, 3]}},
    {"class_name": "Flatten", "config": {"name": "flat"}},
    {"class_name": "Dense", "config": {"name": "fc2", "units": 2, "activation": "sigmoid"}}]}})";
  ParsedModel parsed = parse_model_config_text(config);
  parsed.model.build({16, 16, 3});  // image sizes from a file are 16..4096, as on the command line
  const std::string model = work_ + "/two.h5";
  save_keras_model(model, parsed.model, "two");
  const std::string data = test::write_small_dataset(work_ + "/data", 2, 48);
  const CliResult r = run({"predict", "--model", model, "--device", "cpu",
                           data + "/train/cats/" + first_image(data)});
  expect_one_clear_line(r, "Dense(1, sigmoid)");
  EXPECT_NE(r.err.find("fc2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(model), std::string::npos) << r.err;
}

TEST_F(HostileFiles, SynthCountSpeaksOfCount) {
  expect_one_clear_line(run({"synth", "--out", work_ + "/synth", "--count", "-5"}), "--count");
}

}  // namespace
}  // namespace catdog
