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

}  // namespace
}  // namespace catdog
