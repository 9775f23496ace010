// GlobalAveragePooling2D on the CPU: forward is the mean over positions, backward against finite
// differences, shape errors (layers/global_average_pooling2d.h).
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "layers/global_average_pooling2d.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::forward_poisoned;

TEST(GlobalAveragePooling2DLayer, ForwardIsTheMeanOverPositions) {
  GlobalAveragePooling2D gap("gap");
  const Tensor x = test::random_tensor({2, 3, 5, 4}, 8);
  const std::vector<float> v = x.to_vector();
  std::vector<float> expected(8, 0.0f);
  for (int n = 0; n < 2; ++n)
    for (int p = 0; p < 15; ++p)
      for (int c = 0; c < 4; ++c) expected[n * 4 + c] += v[(n * 15 + p) * 4 + c] / 15.0f;
  const Tensor y = forward_poisoned(gap, x);
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_LT(test::max_relative_error(y.to_vector(), expected), 1e-6);
}

TEST(GlobalAveragePooling2DLayer, BackwardMatchesFiniteDifferences) {
  GlobalAveragePooling2D gap("gap");
  EXPECT_GT(test::check_gradients(gap, test::random_tensor({2, 3, 4, 5}, 3)), 30);
}

TEST(GlobalAveragePooling2DLayer, RejectsNonImageInput) {
  GlobalAveragePooling2D gap("gap_flat");
  test::expect_error_mentions([&] { (void)gap.output_shape({2, 10}); }, {"gap_flat", "(2, 10)"});
}

}  // namespace
}  // namespace catdog
