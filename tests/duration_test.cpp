// human_duration: what a person reads, at each of its ranges and their edges.
#include <cmath>

#include <gtest/gtest.h>

#include "core/duration.h"

namespace catdog {
namespace {

TEST(HumanDuration, EachRangeAndItsEdges) {
  EXPECT_EQ(human_duration(0), "0.00 s");
  EXPECT_EQ(human_duration(0.423), "0.42 s");
  EXPECT_EQ(human_duration(9.99), "9.99 s");
  EXPECT_EQ(human_duration(45.0102), "45.0 s");
  EXPECT_EQ(human_duration(59.94), "59.9 s");
  EXPECT_EQ(human_duration(59.96), "1 min 00 s");
  EXPECT_EQ(human_duration(185), "3 min 05 s");
  EXPECT_EQ(human_duration(3599.4), "59 min 59 s");
  EXPECT_EQ(human_duration(3600), "1 h 00 min");
  EXPECT_EQ(human_duration(3720), "1 h 02 min");
  EXPECT_EQ(human_duration(26 * 3600 + 5 * 60), "26 h 05 min");
  EXPECT_EQ(human_duration(-1), "?");
  EXPECT_EQ(human_duration(std::nan("")), "?");
}

}  // namespace
}  // namespace catdog
