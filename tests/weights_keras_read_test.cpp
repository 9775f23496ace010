// read_keras_h5 on files catdog did not write: the generated VGG16 "notop" file (the real Keras
// legacy layout, fixed and variable-length strings), the real Tiny Darknet save_weights file, and
// small h5py-written fixtures for the full-model layout and every path style. Then bad files.
#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/random.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "tests/support/vgg16_reference.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

// The generator spec of shared/reference/README.md, written out again here on purpose (not
// core/random.h) so that a few values are checked by a second, independent implementation.
float spec_weight(uint64_t seed, uint64_t t, uint64_t i, double limit) {
  uint64_t z = ((seed << 32) | t) + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  double u = std::ldexp(static_cast<double>(z >> 40), -24);
  return static_cast<float>((2 * u - 1) * limit);
}

void expect_vgg16_contents(const KerasH5& file, uint64_t seed) {
  EXPECT_TRUE(file.model_config.empty());
  ASSERT_EQ(file.layers.size(), 18u);  // 13 convolutions + 5 pools, no input layer
  size_t layer = 0;
  for (size_t c = 0; c < 13; ++c, ++layer) {
    const test::Vgg16Conv& conv = test::kVgg16Convs[c];
    const StoredLayer& stored = file.layers[layer];
    SCOPED_TRACE(conv.name);
    ASSERT_EQ(stored.name, conv.name);
    ASSERT_EQ(stored.weights.size(), 2u);
    EXPECT_EQ(stored.weights[0].name, std::string(conv.name) + "_W_1:0");
    EXPECT_EQ(stored.weights[1].name, std::string(conv.name) + "_b_1:0");
    ASSERT_EQ(stored.weights[0].shape, (Shape{3, 3, conv.in, conv.out}));
    ASSERT_EQ(stored.weights[1].shape, (Shape{conv.out}));
    // Every value, against the spec (t = 2c for the kernel, 2c + 1 for the bias).
    double kernel_limit = std::sqrt(6.0 / (9.0 * conv.in));
    const std::vector<float>& k = stored.weights[0].values;
    size_t wrong = 0;
    for (size_t i = 0; i < k.size(); ++i)
      wrong += k[i] != uniform_symmetric(seed, 2 * c, i, kernel_limit);
    const std::vector<float>& b = stored.weights[1].values;
    for (size_t i = 0; i < b.size(); ++i) wrong += b[i] != uniform_symmetric(seed, 2 * c + 1, i, 0.05);
    EXPECT_EQ(wrong, 0u);
    for (size_t i : {size_t{0}, k.size() / 3, k.size() - 1})
      EXPECT_EQ(k[i], spec_weight(seed, 2 * c, i, kernel_limit)) << i;
    if (conv.name == std::string("block2_conv2") || conv.name == std::string("block1_conv2") ||
        conv.name == std::string("block3_conv3") || conv.name == std::string("block4_conv3") ||
        conv.name == std::string("block5_conv3")) {
      ++layer;
      ASSERT_EQ(file.layers[layer].name, std::string(conv.name).substr(0, 6) + "_pool");
      EXPECT_TRUE(file.layers[layer].weights.empty());
    }
  }
  if (seed == 3) {
    // Printed by h5py from the generated file (repr(float(x))), seed 3:
    EXPECT_EQ(file.layers[0].weights[0].values[0], -0.17796310782432556f);
    EXPECT_EQ(file.layers[0].weights[0].values[1000], 0.21400950849056244f);
    EXPECT_EQ(file.layers[7].weights[0].values[123456], -0.021051380783319473f);  // block3_conv2
    EXPECT_EQ(file.layers[17 - 1].weights[1].values[511], 0.028363293036818504f);  // block5_conv3
  }
}

TEST(KerasRead, Vgg16LegacyLayoutWithFixedLengthStrings) {
  CATDOG_MAKE_VGG16_H5(path, test::temp_dir("keras_read_vgg16_fixed"), 3, false);
  expect_vgg16_contents(read_keras_h5(path), 3);
}

TEST(KerasRead, Vgg16LegacyLayoutWithVariableLengthStrings) {
  CATDOG_MAKE_VGG16_H5(path, test::temp_dir("keras_read_vgg16_vlen"), 3, true);
  expect_vgg16_contents(read_keras_h5(path), 3);
}

TEST(KerasRead, TinyDarknetSaveWeightsLayout) {
  CATDOG_REQUIRE_SHARED(path, "weights/tiny_darknet_imagenet.h5");
  KerasH5 file = read_keras_h5(path);
  ASSERT_EQ(file.layers.size(), 52u);
  EXPECT_EQ(file.keras_version, "2.1.6");
  EXPECT_EQ(file.backend, "tensorflow");
  EXPECT_EQ(file.layers[0].name, "input_1");
  EXPECT_TRUE(file.layers[0].weights.empty());
  size_t weighted = 0;
  for (const StoredLayer& l : file.layers) weighted += !l.weights.empty();
  EXPECT_EQ(weighted, 31u);  // 16 convolutions + 15 batch normalisations
  const StoredLayer& conv1 = file.layers[1];
  EXPECT_EQ(conv1.name, "conv2d_1");
  ASSERT_EQ(conv1.weights.size(), 1u);  // no bias: batch normalisation follows
  EXPECT_EQ(conv1.weights[0].name, "conv2d_1/kernel:0");
  EXPECT_EQ(conv1.weights[0].shape, (Shape{3, 3, 3, 16}));
  const StoredLayer& bn1 = file.layers[2];
  ASSERT_EQ(bn1.weights.size(), 4u);  // weight_names order, not the group's alphabetical order
  EXPECT_EQ(bn1.weights[0].name, "batch_normalization_1/gamma:0");
  EXPECT_EQ(bn1.weights[3].name, "batch_normalization_1/moving_variance:0");
  const StoredLayer& last = file.layers[50];
  EXPECT_EQ(last.name, "conv2d_16");
  ASSERT_EQ(last.weights.size(), 2u);
  EXPECT_EQ(last.weights[0].shape, (Shape{1, 1, 128, 1000}));
  EXPECT_EQ(last.weights[1].shape, (Shape{1000}));
  EXPECT_EQ(file.layers[51].name, "global_average_pooling2d_1");
}

TEST(KerasRead, TinyDarknetValuesMatchH5py) {
  CATDOG_REQUIRE_PYTHON("numpy", "h5py");
  CATDOG_REQUIRE_SHARED(path, "weights/tiny_darknet_imagenet.h5");
  // For every weight: its sum in float64 and three of its values, exactly, as h5py reads them.
  CATDOG_RUN_PYTHON(r, R"(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
for layer in f.attrs['layer_names']:
    g = f[layer]
    for name in g.attrs['weight_names']:
        v = g[name][()].astype(np.float64).ravel()
        print(layer.decode(), name.decode(), repr(v.sum()), repr(v[0]), repr(v[len(v) // 2]), repr(v[-1]))
)", {path});
  KerasH5 file = read_keras_h5(path);
  std::istringstream lines(r.output);
  std::string layer, name;
  double sum, first, middle, last;
  size_t checked = 0;
  while (lines >> layer >> name >> sum >> first >> middle >> last) {
    SCOPED_TRACE(layer + " " + name);
    const StoredWeight* found = nullptr;
    for (const StoredLayer& l : file.layers)
      for (const StoredWeight& w : l.weights)
        if (l.name == layer && w.name == name) found = &w;
    ASSERT_NE(found, nullptr);
    const std::vector<float>& v = found->values;
    double ours = 0;
    for (float x : v) ours += x;
    EXPECT_NEAR(ours, sum, 1e-9 * std::max(1.0, std::fabs(sum)));
    EXPECT_EQ(v.front(), static_cast<float>(first));
    EXPECT_EQ(v[v.size() / 2], static_cast<float>(middle));
    EXPECT_EQ(v.back(), static_cast<float>(last));
    ++checked;
  }
  EXPECT_EQ(checked, 16u + 15u * 4u + 1u);  // kernels, 4 per batch normalisation, the last bias
}

// Small h5py-written files for the layouts the two real files do not cover.
const char* kFixtures = R"(
import sys, json, h5py, numpy as np
d = sys.argv[1]
vlen = h5py.string_dtype()
with h5py.File(d + '/full.h5', 'w') as f:          # what tf.keras model.save('x.h5') writes
    f.attrs['keras_version'] = '2.15.0'              # str: h5py writes a variable-length string
    f.attrs['backend'] = 'tensorflow'
    f.attrs['model_config'] = json.dumps({'class_name': 'Sequential', 'config': {'name': 'm'}}).encode()
    f.attrs['training_config'] = json.dumps({'loss': 'binary_crossentropy'}).encode()
    f.attrs['catdog_state'] = '{"epoch": 3}'
    mw = f.create_group('model_weights')
    mw.attrs['layer_names'] = np.array([b'input_1', b'dense', b'dense_1'])
    mw.attrs['backend'] = b'tensorflow'
    mw.create_group('input_1').attrs['weight_names'] = np.zeros((0,), 'f8')
    g = mw.create_group('dense')
    g.attrs['weight_names'] = np.array([b'dense/kernel:0', b'dense/bias:0'])
    g.create_dataset('dense/kernel:0', data=np.arange(6, dtype=np.float32).reshape(3, 2) * 0.5 - 1)
    g.create_dataset('dense/bias:0', data=np.array([0.1, -0.2]))          # float64 on purpose
    g = mw.create_group('dense_1')
    g.attrs['weight_names'] = np.array(['kernel:0', 'dense_1/bias:0'], dtype=vlen)
    g.create_dataset('dense_1/kernel:0', data=np.array([[2.0], [3.0]], np.float32))  # nested
    g.create_dataset('bias:0', data=np.array([0.75], np.float32))                   # flat
    o = f.create_group('optimizer_weights')
    o.attrs['weight_names'] = np.array([b'SGD/iter:0', b'SGD/m/dense/kernel:0'])
    o.create_dataset('SGD/iter:0', data=np.int64(41))
    o.create_dataset('SGD/m/dense/kernel:0', data=np.full((3, 2), 0.25, np.float32))
with h5py.File(d + '/chunked.h5', 'w') as f:       # Keras splits big attributes: name0, name1
    f.attrs['layer_names0'] = np.array(['a', 'b'], dtype=vlen)
    f.attrs['layer_names1'] = np.array([b'c'])
    for n in 'abc':
        g = f.create_group(n)
        g.attrs['weight_names0'] = np.array([n + '_w:0'], dtype=vlen)
        g.create_dataset(n + '_w:0', data=np.array([ord(n)], np.float32))
def weights_file(name, layer_names, build):
    with h5py.File(d + '/' + name, 'w') as f:
        f.attrs['layer_names'] = np.array([s.encode() for s in layer_names])
        build(f)
def layer(f, name, weights):
    g = f.create_group(name)
    g.attrs['weight_names'] = np.array([w.encode() for w, _ in weights]) if weights else np.zeros((0,), 'f8')
    for w, data in weights:
        g.create_dataset(w, data=data)
    return g
weights_file('missing_layer.h5', ['a', 'ghost'], lambda f: layer(f, 'a', []))
weights_file('missing_dataset.h5', ['a'], lambda f: f.create_group('a').attrs.create('weight_names', np.array([b'a/kernel:0'])))
weights_file('int_dataset.h5', ['a'], lambda f: layer(f, 'a', [('a/kernel:0', np.arange(4, dtype=np.int32))]))
weights_file('no_weight_names.h5', ['a'], lambda f: f.create_group('a'))
weights_file('numeric_names.h5', ['a'], lambda f: f.create_group('a').attrs.create('weight_names', np.array([1, 2])))
def unwritten(side):
    def build(f):
        g = f.create_group('a')
        g.attrs['weight_names'] = np.array([b'a/kernel:0'])
        g.create_dataset('a/kernel:0', shape=(side, side), dtype='f4', chunks=(256, 256))  # never written
    return build
weights_file('absurd_shape.h5', ['a'], unwritten(1 << 20))  # 2^40 elements: refused outright
weights_file('lying_shape.h5', ['a'], unwritten(1 << 15))   # 4 GiB declared, 0 bytes stored
with h5py.File(d + '/not_keras.h5', 'w') as f:
    f.create_dataset('x', data=np.zeros(3))
)";

TEST(KerasRead, FullModelFileWithEveryPathStyle) {
  CATDOG_REQUIRE_PYTHON("numpy", "h5py");
  std::string dir = test::temp_dir("keras_read_fixtures_full");
  CATDOG_RUN_PYTHON(r, kFixtures, {dir});
  KerasH5 file = read_keras_h5(dir + "/full.h5");
  EXPECT_EQ(file.keras_version, "2.15.0");
  EXPECT_EQ(file.backend, "tensorflow");
  EXPECT_EQ(file.model_config, R"({"class_name": "Sequential", "config": {"name": "m"}})");
  EXPECT_EQ(file.training_config, R"({"loss": "binary_crossentropy"})");
  EXPECT_EQ(file.catdog_state, R"({"epoch": 3})");
  ASSERT_EQ(file.layers.size(), 3u);
  EXPECT_EQ(file.layers[0].name, "input_1");
  EXPECT_TRUE(file.layers[0].weights.empty());
  const StoredLayer& dense = file.layers[1];
  ASSERT_EQ(dense.weights.size(), 2u);
  EXPECT_EQ(dense.weights[0].shape, (Shape{3, 2}));
  EXPECT_EQ(dense.weights[0].values, (std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}));
  EXPECT_EQ(dense.weights[1].values, (std::vector<float>{0.1f, -0.2f}));  // float64 -> float32
  const StoredLayer& dense1 = file.layers[2];
  ASSERT_EQ(dense1.weights.size(), 2u);
  EXPECT_EQ(dense1.weights[0].name, "kernel:0");
  EXPECT_EQ(dense1.weights[0].values, (std::vector<float>{2.0f, 3.0f}));
  EXPECT_EQ(dense1.weights[1].values, std::vector<float>{0.75f});
  ASSERT_EQ(file.optimizer_weights.size(), 2u);
  EXPECT_EQ(file.optimizer_weights[0].name, "SGD/iter:0");
  EXPECT_EQ(file.optimizer_weights[0].shape, Shape{});
  EXPECT_EQ(file.optimizer_weights[0].values, std::vector<float>{41.0f});
  EXPECT_EQ(file.optimizer_weights[1].values, std::vector<float>(6, 0.25f));

  KerasH5 chunked = read_keras_h5(dir + "/chunked.h5");
  ASSERT_EQ(chunked.layers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    std::string n(1, static_cast<char>('a' + i));
    EXPECT_EQ(chunked.layers[i].name, n);
    ASSERT_EQ(chunked.layers[i].weights.size(), 1u);
    EXPECT_EQ(chunked.layers[i].weights[0].values, std::vector<float>{static_cast<float>('a' + i)});
  }
}

void expect_read_error(const std::string& path, const std::vector<std::string>& fragments) {
  try {
    read_keras_h5(path);
    ADD_FAILURE() << "reading " << path << " should fail";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    for (const std::string& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << what;
  }
}

TEST(KerasRead, BadH5ContentsGiveClearErrors) {
  CATDOG_REQUIRE_PYTHON("numpy", "h5py");
  std::string dir = test::temp_dir("keras_read_fixtures_bad");
  CATDOG_RUN_PYTHON(r, kFixtures, {dir});
  expect_read_error(dir + "/missing_layer.h5", {"'ghost'", "no group"});
  expect_read_error(dir + "/missing_dataset.h5", {"layer 'a'", "weight 'a/kernel:0' not found"});
  expect_read_error(dir + "/int_dataset.h5", {"a/kernel:0", "integer data"});
  expect_read_error(dir + "/no_weight_names.h5", {"layer 'a'", "no weight_names"});
  expect_read_error(dir + "/numeric_names.h5", {"weight_names", "non-string"});
  expect_read_error(dir + "/absurd_shape.h5", {"absurd shape (1048576, 1048576)"});
  expect_read_error(dir + "/lying_shape.h5", {"(32768, 32768)", "stores only 0"});
  expect_read_error(dir + "/not_keras.h5", {"no layer_names"});
}

TEST(KerasRead, NonHdf5AndTruncatedFilesGiveClearErrors) {
  CATDOG_REQUIRE_SHARED(tiny, "weights/tiny_darknet_imagenet.h5");
  std::string dir = test::temp_dir("keras_read_broken");
  std::ofstream(dir + "/empty.h5").flush();
  std::ofstream(dir + "/text.h5") << "this is a text file, not HDF5\n";
  expect_read_error(dir + "/empty.h5", {"empty"});
  expect_read_error(dir + "/text.h5", {"not an HDF5 file"});
  expect_read_error(dir + "/missing.h5", {"cannot open"});
  expect_read_error(dir, {"not a regular file"});
  std::ifstream in(tiny, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 100000u);
  // Cut inside the superblock, inside the first metadata, halfway, and just before the end.
  for (size_t keep : {size_t{40}, size_t{3000}, bytes.size() / 2, bytes.size() - 100}) {
    SCOPED_TRACE(keep);
    std::string cut = dir + "/cut_" + std::to_string(keep) + ".h5";
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    expect_read_error(cut, {});
  }
}

}  // namespace
}  // namespace catdog
