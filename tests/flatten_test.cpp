// Flatten: a view in Keras' channels-last order, both directions (layers/flatten.h).
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "layers/flatten.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::forward_poisoned;
using test::random_tensor;

TEST(FlattenLayer, IsAViewInKerasOrder) {
  Flatten flatten("flatten");
  const Tensor x = random_tensor({2, 3, 4, 5}, 1);
  ExecContext ctx;
  Tensor y;
  flatten.forward(x, y, ctx);
  EXPECT_EQ(y.shape(), (Shape{2, 60}));
  EXPECT_EQ(y.raw(), x.raw());  // no copy
  EXPECT_EQ(y.to_vector(), x.to_vector());
  Tensor dx;
  const Tensor dy = random_tensor({2, 60}, 2);
  flatten.backward(x, y, dy, &dx, ctx);
  EXPECT_EQ(dx.shape(), x.shape());
  EXPECT_EQ(dx.raw(), dy.raw());
  test::expect_error_mentions([&] { (void)flatten.output_shape({5}); }, {"flatten", "(5,)"});
}

// A shape from a file whose product wraps in 64 bits: (2^62 + 3) * 4 = 2^64 + 12, which used to
// come out as 12 features, a width a Dense layer accepts.
TEST(FlattenLayer, FeatureCountThatOverflowsIsRefusedNamingTheLayer) {
  Flatten flatten("flat");
  const Shape input = {1, (int64_t{1} << 62) + 3, 4, 1};
  const std::string why = test::error_message([&] { flatten.output_shape(input); });
  EXPECT_NE(why.find("Flatten layer flat"), std::string::npos) << why;
  EXPECT_NE(why.find("(1, 4611686018427387907, 4, 1)"), std::string::npos) << why;
}

}  // namespace
}  // namespace catdog
