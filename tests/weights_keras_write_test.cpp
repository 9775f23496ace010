// write_keras_h5: what we write reads back the same, h5py sees the Keras layout, and a failed
// write leaves the old file as it was.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;

KerasH5 small_contents(bool full_model) {
  KerasH5 c;
  c.layers = {
      {"conv2d", {{"conv2d/kernel:0", {2, 2, 1, 3}, std::vector<float>(12)},
                  {"conv2d/bias:0", {3}, {0.5f, -0.5f, 2.0f}}}, ""},
      {"max_pooling2d", {}, ""},
      {"dense", {{"dense/kernel:0", {3, 1}, {1.0f, 2.0f, 3.0f}}, {"dense/bias:0", {1}, {-1.0f}}}, ""},
  };
  for (size_t i = 0; i < 12; ++i) c.layers[0].weights[0].values[i] = 0.25f * static_cast<float>(i) - 1;
  c.keras_version = "2.15.0";
  c.backend = "tensorflow";
  if (full_model) {
    c.model_config = R"({"class_name": "Sequential", "config": {"name": "tiny", "layers": []}})";
    c.training_config = R"({"loss": "binary_crossentropy"})";
    c.optimizer_weights = {{"SGD/iter:0", {}, {7.0f}}, {"SGD/m/dense/kernel:0", {3, 1}, {0.1f, 0.2f, 0.3f}}};
    c.catdog_state = R"({"epoch": 2, "classes": ["cats", "dogs"]})";
  }
  return c;
}

void expect_same(const KerasH5& a, const KerasH5& b) {
  EXPECT_EQ(a.model_config, b.model_config);
  EXPECT_EQ(a.training_config, b.training_config);
  EXPECT_EQ(a.keras_version, b.keras_version);
  EXPECT_EQ(a.backend, b.backend);
  EXPECT_EQ(a.catdog_state, b.catdog_state);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].name, b.layers[i].name);
    ASSERT_EQ(a.layers[i].weights.size(), b.layers[i].weights.size());
    for (size_t j = 0; j < a.layers[i].weights.size(); ++j) {
      EXPECT_EQ(a.layers[i].weights[j].name, b.layers[i].weights[j].name);
      EXPECT_EQ(a.layers[i].weights[j].shape, b.layers[i].weights[j].shape);
      EXPECT_EQ(a.layers[i].weights[j].values, b.layers[i].weights[j].values);
    }
  }
  ASSERT_EQ(a.optimizer_weights.size(), b.optimizer_weights.size());
  for (size_t j = 0; j < a.optimizer_weights.size(); ++j) {
    EXPECT_EQ(a.optimizer_weights[j].name, b.optimizer_weights[j].name);
    EXPECT_EQ(a.optimizer_weights[j].shape, b.optimizer_weights[j].shape);
    EXPECT_EQ(a.optimizer_weights[j].values, b.optimizer_weights[j].values);
  }
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(KerasWrite, WeightsFileRoundTrip) {
  std::string path = test::temp_dir("keras_write_weights") + "/w.h5";
  KerasH5 written = small_contents(false);
  write_keras_h5(path, written);
  expect_same(read_keras_h5(path), written);
}

TEST(KerasWrite, FullModelFileRoundTrip) {
  std::string path = test::temp_dir("keras_write_full") + "/m.h5";
  KerasH5 written = small_contents(true);
  write_keras_h5(path, written);
  expect_same(read_keras_h5(path), written);
}

TEST(KerasWrite, H5pySeesTheKerasLayout) {
  CATDOG_REQUIRE_PYTHON("numpy", "h5py");
  std::string dir = test::temp_dir("keras_write_h5py");
  write_keras_h5(dir + "/w.h5", small_contents(false));
  write_keras_h5(dir + "/m.h5", small_contents(true));
  // Read as Keras' legacy loader does (hdf5_format.load_attributes_from_hdf5_group + g[name]).
  CATDOG_RUN_PYTHON(r, R"(
import sys, json, h5py, numpy as np
d = sys.argv[1]
def strings(a): return [x.decode() if isinstance(x, bytes) else x for x in a]
with h5py.File(d + '/w.h5', 'r') as f:
    assert 'model_config' not in f.attrs and 'model_weights' not in f
    assert strings(f.attrs['layer_names']) == ['conv2d', 'max_pooling2d', 'dense'], f.attrs['layer_names']
    assert f['max_pooling2d'].attrs['weight_names'].shape == (0,)
    assert strings(f['dense'].attrs['weight_names']) == ['dense/kernel:0', 'dense/bias:0']
    k = f['dense/dense/kernel:0']
    assert k.dtype == np.float32 and k.shape == (3, 1) and list(k[:, 0]) == [1, 2, 3]
    c = f['conv2d/conv2d/kernel:0'][()]
    assert c.shape == (2, 2, 1, 3) and np.array_equal(c.ravel(), np.arange(12, dtype=np.float32) * 0.25 - 1)
with h5py.File(d + '/m.h5', 'r') as f:
    cfg = json.loads(f.attrs['model_config'])
    assert cfg['config']['name'] == 'tiny', cfg
    assert json.loads(f.attrs['training_config'])['loss'] == 'binary_crossentropy'
    assert json.loads(f['catdog_state'][()])['classes'] == ['cats', 'dogs']
    assert strings([f.attrs['keras_version'], f.attrs['backend']]) == ['2.15.0', 'tensorflow']
    w = f['model_weights']
    assert strings(w.attrs['layer_names']) == ['conv2d', 'max_pooling2d', 'dense']
    assert strings([w.attrs['keras_version'], w.attrs['backend']]) == ['2.15.0', 'tensorflow']
    assert list(w['conv2d/conv2d/bias:0'][()]) == [0.5, -0.5, 2.0]
    o = f['optimizer_weights']
    assert strings(o.attrs['weight_names']) == ['SGD/iter:0', 'SGD/m/dense/kernel:0']
    assert o['SGD/iter:0'][()] == 7.0
print('ok')
)", {dir});
  EXPECT_NE(r.output.find("ok"), std::string::npos) << r.output;
}

TEST(KerasWrite, ManyLayersSplitLayerNamesAsKerasDoes) {
  // More than 64 KiB of layer names does not fit one HDF5 attribute: Keras then writes
  // layer_names0, layer_names1, ...; we write and read the same.
  KerasH5 big;
  for (int i = 0; i < 3000; ++i) big.layers.push_back({"a_rather_long_layer_name_number_" + std::to_string(i), {}, ""});
  std::string path = test::temp_dir("keras_write_chunked") + "/big.h5";
  write_keras_h5(path, big);
  KerasH5 back = read_keras_h5(path);
  ASSERT_EQ(back.layers.size(), 3000u);
  EXPECT_EQ(back.layers[2999].name, big.layers[2999].name);
  if (!test::python_unavailable_reason({"h5py"}).empty()) return;
  CATDOG_RUN_PYTHON(r, R"(
import sys, h5py
with h5py.File(sys.argv[1], 'r') as f:
    assert 'layer_names' not in f.attrs and 'layer_names0' in f.attrs and 'layer_names1' in f.attrs
    names = [n for k in sorted(a for a in f.attrs if a.startswith('layer_names')) for n in f.attrs[k]]
    assert len(names) == 3000 and names[-1] == b'a_rather_long_layer_name_number_2999', names[-1]
)", {path});
}

TEST(KerasWrite, FailedWriteLeavesTheOldFileIntact) {
  std::string dir = test::temp_dir("keras_write_atomic");
  std::string path = dir + "/model.h5";
  write_keras_h5(path, small_contents(true));
  const std::string before = file_bytes(path);
  const std::vector<std::string> listing = names_in(dir);

  // A write that fails halfway (an impossible layer name, found after the file was started).
  KerasH5 bad = small_contents(true);
  bad.layers[2].name = "not/allowed";
  EXPECT_THROW(write_keras_h5(path, bad), Error);
  EXPECT_EQ(file_bytes(path), before);
  EXPECT_EQ(names_in(dir), listing) << "the temporary file must be removed";

  // The target is a directory: the data is written, the final rename fails.
  fs::create_directory(dir + "/a_directory");
  EXPECT_THROW(write_keras_h5(dir + "/a_directory", small_contents(false)), Error);
  EXPECT_TRUE(fs::is_directory(dir + "/a_directory"));
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{"a_directory", "model.h5"}));

  // The directory cannot be written. Root ignores permission bits, so as root the write is tried
  // in a child process that drops to user "nobody" (65534); and the same failure is also made by a
  // "directory" that is a plain file, below.
  std::string locked = dir + "/locked";
  fs::create_directory(locked);
  write_keras_h5(locked + "/model.h5", small_contents(true));
  const std::string locked_before = file_bytes(locked + "/model.h5");
  ::chmod(locked.c_str(), 0555);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    if (::access(locked.c_str(), W_OK) == 0) ::_exit(3);  // still writable: cannot check here
    try {
      write_keras_h5(locked + "/model.h5", small_contents(false));
    } catch (const Error& e) {
      ::_exit(std::string(e.what()).find(locked + "/model.h5") != std::string::npos ? 0 : 2);
    }
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  const int outcome = WEXITSTATUS(status);
  EXPECT_NE(outcome, 1) << "writing into a read-only directory should fail";
  EXPECT_NE(outcome, 2) << "the error should name the file";
  if (outcome == 3) std::printf("note: could not make the directory read-only for a test user\n");
  EXPECT_EQ(file_bytes(locked + "/model.h5"), locked_before);
  ::chmod(locked.c_str(), 0755);
  std::ofstream(dir + "/plain_file") << "x";
  try {
    write_keras_h5(dir + "/plain_file/model.h5", small_contents(false));
    ADD_FAILURE() << "writing under a plain file should fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/plain_file/model.h5"), std::string::npos) << e.what();
  }
  EXPECT_EQ(file_bytes(dir + "/plain_file"), "x");
}

}  // namespace
}  // namespace catdog
