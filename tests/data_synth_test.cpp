// The synthetic dataset: layout, sizes and qualities in range, seeded bytes, and a class signal
// that is there when asked for and absent otherwise.
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/decode.h"
#include "data/synth.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {
namespace fs = std::filesystem;

std::vector<char> bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

SynthOptions small(int per_class) {
  SynthOptions o;
  o.images_per_class = per_class;
  o.min_width = 48, o.max_width = 64, o.min_height = 40, o.max_height = 56;
  return o;
}

TEST(Synth, WritesASeededTrainTestLayout) {
  const fs::path root = test::temp_dir("synth_layout");
  SynthOptions o = small(8);
  o.test_fraction = 0.25;
  const SynthReport r = write_synthetic_dataset((root / "a").string(), o);
  EXPECT_EQ(r.train, 12);
  EXPECT_EQ(r.test, 4);
  const Dataset train = scan_dataset((root / "a" / "train").string());
  const Dataset test = scan_dataset((root / "a" / "test").string());
  EXPECT_EQ(train.images.size(), 12u);
  EXPECT_EQ(test.images.size(), 4u);
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"cats", "dogs"}));
  for (const LabeledImage& li : train.images) {
    const Image im = decode_image_file(li.path);
    EXPECT_GE(im.width, 48);
    EXPECT_LE(im.width, 64);
    EXPECT_GE(im.height, 40);
    EXPECT_LE(im.height, 56);
  }
  write_synthetic_dataset((root / "b").string(), o);
  EXPECT_EQ(bytes_of(root / "a" / "train" / "dogs" / "dog.3.jpg"),
            bytes_of(root / "b" / "train" / "dogs" / "dog.3.jpg"));
  o.seed = 2;
  write_synthetic_dataset((root / "c").string(), o);
  EXPECT_NE(bytes_of(root / "a" / "train" / "dogs" / "dog.3.jpg"),
            bytes_of(root / "c" / "train" / "dogs" / "dog.3.jpg"));
}

TEST(Synth, QualitiesAndSizesSpreadOverTheRanges) {
  SynthOptions o;  // Kaggle-like defaults
  int qmin = 100, qmax = 0, wmin = 10000, wmax = 0;
  for (int i = 0; i < 40; ++i) {
    int q = 0;
    const Image im = synthetic_image(i % 2, i, o, &q);
    qmin = std::min(qmin, q), qmax = std::max(qmax, q);
    wmin = std::min(wmin, im.width), wmax = std::max(wmax, im.width);
  }
  EXPECT_GE(qmin, 85);
  EXPECT_LE(qmax, 95);
  EXPECT_GT(qmax - qmin, 5);
  EXPECT_GE(wmin, o.min_width);
  EXPECT_LE(wmax, o.max_width);
  EXPECT_GT(wmax - wmin, 100);
}

// Mean of (R - B) over an image: the colour part of the class signal.
double warmth(const Image& im) {
  double sum = 0;
  for (size_t p = 0; p < im.rgb.size(); p += 3) sum += im.rgb[p] - im.rgb[p + 2];
  return sum / (im.rgb.size() / 3);
}

// How often a cat image is warmer than a dog image, over all pairs (the ROC AUC of warmth as a
// cat detector): 0.5 when colour says nothing about the class.
double warmth_auc(const SynthOptions& o) {
  std::vector<double> cats, dogs;
  for (int i = 0; i < 60; ++i) {
    cats.push_back(warmth(synthetic_image(0, i, o)));
    dogs.push_back(warmth(synthetic_image(1, i, o)));
  }
  double wins = 0;
  for (double c : cats)
    for (double d : dogs) wins += c > d;
  return wins / (cats.size() * dogs.size());
}

TEST(Synth, ClassesDifferOnlyWhenTheSignalIsOn) {
  SynthOptions o = small(1);
  o.learnable = true;
  const double on = warmth_auc(o);
  EXPECT_GT(on, 0.75);
  o.learnable = false;
  const double off = warmth_auc(o);
  EXPECT_GT(off, 0.35);
  EXPECT_LT(off, 0.65);
  std::printf("warmth AUC: signal on %.3f, off %.3f\n", on, off);
}

}  // namespace
}  // namespace catdog
