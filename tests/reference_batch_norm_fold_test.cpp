// Tiny Darknet's frozen base with its 15 BatchNormalization layers folded into the convolutions
// (engine/batch_norm_fold.h) against PyTorch (shared/reference/tiny_darknet_features.npy), at the
// fixtures' 1e-4, and against the same model run layer by layer. The binary's `catdog extract`
// (tests/reference_extract_test.cpp) goes through the same fold.
#include <gtest/gtest.h>

#include "apps/commands.h"
#include "data/photo_batch.h"
#include "engine/sequential.h"
#include "tests/support/test_support.h"
#include "weights/npy.h"

namespace catdog {
namespace {

TEST(ReferenceBatchNormFold, TinyDarknetFoldedMatchesPyTorchAndTheUnfusedRun) {
  CATDOG_REQUIRE_SHARED(reference, "reference/tiny_darknet_features.npy");
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  ExtractOptions options;
  options.model = "tiny-darknet";
  options.weights = weights;
  Sequential model = load_extract_model(options);

  std::vector<std::string> images;
  for (const char* name : {"cat_a.jpg", "cat_b.jpg", "cat_c.jpg", "dog_a.jpg", "dog_b.jpg", "dog_c.jpg"}) {
    images.push_back(test::shared_path("reference/images") + "/" + name);
  }
  const Tensor pixels = load_pixels(images, 224, nullptr, nullptr);
  Tensor x(pixels.shape());
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = pixels.u8()[i] / 255.0f;  // "scale"

  ExecContext ctx;
  const std::vector<float> folded = model.forward(x, ctx).to_vector();
  EXPECT_EQ(model.folded_batch_norms(), 15u);
  model.set_fold_batch_norms(false);
  const std::vector<float> unfused = model.forward(x, ctx).to_vector();
  EXPECT_EQ(model.folded_batch_norms(), 0u);

  const std::vector<float> ref = read_npy(reference).to_vector();
  ASSERT_EQ(folded.size(), ref.size());
  const double folded_error = test::max_relative_error(folded, ref);
  const double unfused_error = test::max_relative_error(unfused, ref);
  std::cout << "Tiny Darknet vs PyTorch: folded " << folded_error << ", unfused " << unfused_error
            << "; folded vs unfused " << test::max_relative_error(folded, unfused) << "\n";
  EXPECT_LE(folded_error, 1e-4);
  EXPECT_LE(unfused_error, 1e-4);
  EXPECT_LE(test::max_relative_error(folded, unfused), 1e-5);
}

}  // namespace
}  // namespace catdog
