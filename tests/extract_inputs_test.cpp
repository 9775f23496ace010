// `catdog extract --inputs X.npy`: a batch preprocessed elsewhere (N, H, W, 3) instead of images.
// Given the "scale" preprocessing of two reference photos computed here (RGB / 255), it must give
// exactly what `extract IMAGE...` gives for the photos (Tiny Darknet with its real weights), and
// run at another image size; a wrong shape or images and --inputs together are refused with one
// error line.
#include <gtest/gtest.h>

#include "data/photo_batch.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "weights/npy.h"

namespace catdog {
namespace {

TEST(ExtractInputs, PreprocessedBatchGivesTheImagesFeatures) {
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  const std::string work = test::temp_dir("extract_inputs");
  const std::vector<std::string> images = {test::shared_path("reference/images/cat_a.jpg"),
                                           test::shared_path("reference/images/dog_b.jpg")};
  const Tensor pixels = load_pixels(images, 224, nullptr, nullptr);
  Tensor x(pixels.shape());
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = pixels.u8()[i] / 255.0f;
  write_npy(work + "/x.npy", x);

  std::vector<std::string> from_images = {"extract", "--model", "tiny-darknet", "--weights", weights,
                                          "--device", "cpu", "--output", work + "/a.npy"};
  from_images.insert(from_images.end(), images.begin(), images.end());
  const test::CliResult a = test::run_catdog(from_images, work);
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  const test::CliResult b = test::run_catdog(
      {"extract", "--model", "tiny-darknet", "--weights", weights, "--device", "cpu", "--inputs",
       work + "/x.npy", "--output", work + "/b.npy"}, work);
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  const Tensor fa = read_npy(work + "/a.npy"), fb = read_npy(work + "/b.npy");
  EXPECT_EQ(fb.shape(), (Shape{2, 14, 14, 128}));
  EXPECT_EQ(fa.to_vector(), fb.to_vector());

  // 64x64: the model is built for the batch's size (Tiny Darknet has 4 pools: 4x4 features).
  write_npy(work + "/small.npy", test::random_tensor({1, 64, 64, 3}, 3, 0.0f, 1.0f));
  const test::CliResult c = test::run_catdog(
      {"extract", "--model", "tiny-darknet", "--weights", weights, "--device", "cpu", "--inputs",
       work + "/small.npy", "--output", work + "/c.npy"}, work);
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_EQ(read_npy(work + "/c.npy").shape(), (Shape{1, 4, 4, 128}));
}

TEST(ExtractInputs, WrongShapeOrBothSourcesIsOneErrorLine) {
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  const std::string work = test::temp_dir("extract_inputs_bad");
  write_npy(work + "/gray.npy", test::random_tensor({2, 32, 32, 1}, 1));
  const test::CliResult r = test::run_catdog(
      {"extract", "--model", "tiny-darknet", "--weights", weights, "--inputs", work + "/gray.npy",
       "--output", work + "/o.npy"}, work);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("gray.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(2, 32, 32, 1)"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  const test::CliResult both = test::run_catdog(
      {"extract", "--model", "tiny-darknet", "--weights", weights, "--inputs", work + "/gray.npy",
       "--output", work + "/o.npy", test::shared_path("reference/images/cat_a.jpg")}, work);
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace catdog
