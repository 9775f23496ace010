// The generated VGG16 "notop" weights of shared/reference (README.md there): the layer table and
// the file written by make_reference.py, for tests that read or load it.
#pragma once

#include <cstdint>
#include <string>

namespace catdog::test {

// VGG16's 13 convolutions in Keras order: (name, input channels, output channels). Convolution c
// has kernel tensor t = 2c, shape (3, 3, in, out), limit sqrt(6 / (9 in)); bias t = 2c + 1, limit 0.05.
struct Vgg16Conv {
  const char* name;
  int in, out;
};
extern const Vgg16Conv kVgg16Convs[13];

// Write the file with `make_reference.py vgg16-h5 SEED` (fixed-length strings, or variable-length
// with `vlen`) into `dir`; returns its path, or "" when the script or its Python modules are
// missing (`why` says which; the test should skip). A failing script fails the test.
std::string make_vgg16_reference_h5(const std::string& dir, uint64_t seed, bool vlen,
                                    std::string* why);

}  // namespace catdog::test

// Skip unless the generated VGG16 file can be made; `var` is its path.
#define CATDOG_MAKE_VGG16_H5(var, dir, seed, vlen)                                            \
  std::string var##_why;                                                                    \
  const std::string var = ::catdog::test::make_vgg16_reference_h5(dir, seed, vlen, &var##_why); \
  if (var.empty()) GTEST_SKIP() << var##_why
