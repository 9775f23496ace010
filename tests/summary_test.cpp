// `catdog summary` prints what Keras' model.summary() prints for the tutorial's model: VGG16's
// base (include_top=False: 14,714,688 parameters, Keras' documented count) frozen, with the
// Flatten-Dense(128)-Dense(1) head (25088 * 128 + 128 and 128 + 1 parameters) trainable.
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "apps/commands.h"

namespace catdog {
namespace {

std::string line_of(const std::string& text, const std::string& start) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(start, 0) == 0) return line;
  }
  return "";
}

TEST(Summary, Vgg16TransferModelAsKerasPrintsIt) {
  std::ostringstream out;
  ASSERT_EQ(run_summary("vgg16", out), 0);
  const std::string text = out.str();
  EXPECT_NE(line_of(text, "input_1 (InputLayer)").find("(None, 224, 224, 3)"), std::string::npos)
      << text;
  EXPECT_NE(line_of(text, "block5_pool (MaxPooling2D)").find("(None, 7, 7, 512)"),
            std::string::npos) << text;
  EXPECT_NE(line_of(text, "flatten (Flatten)").find("(None, 25088)"), std::string::npos) << text;
  EXPECT_NE(line_of(text, "dense (Dense)").find("3211392"), std::string::npos) << text;
  EXPECT_NE(line_of(text, "block1_conv1 (Conv2D)").find("frozen"), std::string::npos) << text;
  EXPECT_EQ(text.find("-1"), std::string::npos) << "a batch dimension printed as -1:\n" << text;
  EXPECT_NE(text.find("Total params: 17,926,209"), std::string::npos) << text;
  EXPECT_NE(text.find("Trainable params: 3,211,521"), std::string::npos) << text;
  EXPECT_NE(text.find("Non-trainable params: 14,714,688"), std::string::npos) << text;
}

}  // namespace
}  // namespace catdog
