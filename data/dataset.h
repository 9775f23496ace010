// Datasets on disk: finding the labelled images, and splitting a folder into train/ and test/.
//
// Two layouts are read:
//   class folders   DIR/<class>/**/<image>   sorted folder names give labels 0, 1, ... as in
//                   Keras' flow_from_directory (cats=0, dogs=1)
//   Kaggle flat     DIR/cat.N.jpg, DIR/dog.N.jpg   classes "cats" (0) and "dogs" (1)
// Image files are chosen by extension (jpg jpeg png webp, any case: the formats the decoder
// reads); the decoder then goes by the bytes, so a mislabelled file is still read or reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace catdog {

struct LabeledImage {
  std::string path;
  int label = 0;
};

struct Dataset {
  std::string root;
  std::vector<std::string> class_names;  // label -> name
  std::vector<LabeledImage> images;      // by label, then by path (byte order)
};

// Throws catdog::Error when `dir` is missing, holds no images, or only one class.
Dataset scan_dataset(const std::string& dir);

// Whether a file name has one of the image extensions above.
bool has_image_extension(const std::string& path);

// The label a Kaggle flat-layout file name gives: 0 for "cat.*", 1 for "dog.*" (any case), -1
// for any other name. `file_name` is the name alone, without its folder.
int kaggle_label(const std::string& file_name);

// A seeded random permutation of 0..n-1, the one shuffle of catdog (the trainer's epoch orders,
// the pipeline's shuffle, prepare's split): Fisher-Yates from the end, position i swapped with
// floor(uniform01(seed, stream, i) * (i + 1)) (core/random.h). The same (n, seed, stream) gives
// the same order on every machine.
std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, uint64_t stream);

struct PrepareReport {
  int64_t train = 0, test = 0;
  bool hard_linked = true;  // false when any file had to be copied (e.g. across file systems)
};

// Build to/train/<class>/ and to/test/<class>/ from the images in `from` (either layout; the
// Kaggle layout gives cats/ and dogs/). Each class is split on its own: round(n * test_fraction)
// of its images, drawn with `seed`, go to test/. Files are hard-linked where possible, else
// copied. Refuses to write into a to/train or to/test that already holds files.
PrepareReport prepare_dataset(const std::string& from, const std::string& to,
                              double test_fraction, uint64_t seed);

}  // namespace catdog
