// FeatureCache on the host: rows go to their slots and come back in the asked order, through
// copy_rows (core/tensor.h), which the GPU path shares (gpu_real_sizes_test.cpp runs that one).
#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/feature_cache.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

TEST(CopyRows, CopiesEachRowWhereItIsAsked) {
  const Tensor src = test::random_tensor({5, 2, 3}, 41);
  Tensor dst = Tensor::zeros({4, 2, 3});
  copy_rows(dst, {3, 0, 1}, src, {4, 4, 2});
  const std::vector<float> s = src.to_vector(), d = dst.to_vector();
  for (int k = 0; k < 6; ++k) {
    EXPECT_EQ(d[static_cast<size_t>(3 * 6 + k)], s[static_cast<size_t>(4 * 6 + k)]);
    EXPECT_EQ(d[static_cast<size_t>(0 * 6 + k)], s[static_cast<size_t>(4 * 6 + k)]);
    EXPECT_EQ(d[static_cast<size_t>(1 * 6 + k)], s[static_cast<size_t>(2 * 6 + k)]);
    EXPECT_EQ(d[static_cast<size_t>(2 * 6 + k)], 0.0f);  // untouched
  }
}

TEST(CopyRows, RefusesRowsOutOfRangeAndMismatchedRows) {
  const Tensor src = test::random_tensor({5, 6}, 42);
  Tensor dst = Tensor::zeros({4, 6});
  EXPECT_THROW(copy_rows(dst, {4}, src, {0}), Error);
  EXPECT_THROW(copy_rows(dst, {0}, src, {5}), Error);
  EXPECT_THROW(copy_rows(dst, {-1}, src, {0}), Error);
  EXPECT_THROW(copy_rows(dst, {0, 1}, src, {0}), Error);
  Tensor narrow = Tensor::zeros({4, 5});
  EXPECT_THROW(copy_rows(narrow, {0}, src, {0}), Error);
}

TEST(FeatureCache, StoresBySlotAndGathersInTheAskedOrder) {
  const Shape feature = {2, 2, 3};
  FeatureCache cache(10, feature, Device::cpu, 0);
  const Tensor batch = test::random_tensor({3, 2, 2, 3}, 43);
  cache.store({7, 2, 9}, batch);
  EXPECT_EQ(cache.filled_count(), 3);
  EXPECT_TRUE(cache.filled(7));
  EXPECT_FALSE(cache.filled(0));
  ExecContext ctx;
  Tensor out;
  cache.gather({9, 7, 7, 2}, out, ctx);
  ASSERT_EQ(out.shape(), (Shape{4, 2, 2, 3}));
  const std::vector<float> b = batch.to_vector(), o = out.to_vector();
  const int from[] = {2, 0, 0, 1};  // the batch row each gathered row came from
  for (int r = 0; r < 4; ++r) {
    for (int k = 0; k < 12; ++k) {
      EXPECT_EQ(o[static_cast<size_t>(r * 12 + k)], b[static_cast<size_t>(from[r] * 12 + k)]);
    }
  }
  EXPECT_THROW(cache.gather({0}, out, ctx), Error);  // never stored
  EXPECT_THROW(cache.store({10}, test::random_tensor({1, 2, 2, 3}, 44)), Error);
}

}  // namespace
}  // namespace catdog
