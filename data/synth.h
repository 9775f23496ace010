// A synthetic two-class photo set, for `catdog demo` and for benchmarks: JPEGs with the sizes and
// qualities of the Kaggle photos (about 350x500, quality 85-95), written with TurboJPEG.
//
// With `learnable` on, the classes differ by a signal a small CNN picks up in a few epochs on a
// CPU: "cats" hold warm-coloured discs with horizontal stripes, "dogs" cool-coloured squares
// with vertical stripes, on a random background with pixel noise. With it off, each image draws
// its motif at random, so no model can beat chance: a check that a trainer is not cheating.
// Everything is drawn from `seed`: the same options write the same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "data/image.h"

namespace catdog {

struct SynthOptions {
  int images_per_class = 500;
  int min_width = 300, max_width = 500;
  int min_height = 250, max_height = 400;
  int min_quality = 85, max_quality = 95;
  // 0: DIR/cats and DIR/dogs. > 0: DIR/train/{cats,dogs} and DIR/test/{cats,dogs}, this fraction
  // of each class in test/.
  double test_fraction = 0;
  uint64_t seed = 1;
  bool learnable = true;
};

struct SynthReport {
  int64_t train = 0, test = 0;  // with test_fraction 0 every image counts as train
};

// Image `index` of class `label` (0 = cats, 1 = dogs), and the JPEG quality it is written with.
Image synthetic_image(int label, int64_t index, const SynthOptions& options, int* quality = nullptr);

// Writes cat.N.jpg / dog.N.jpg files (N from 0) into the layout above; creates the folders.
SynthReport write_synthetic_dataset(const std::string& dir, const SynthOptions& options);

}  // namespace catdog
