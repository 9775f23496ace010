// `catdog summary` prints what Keras' model.summary() prints for the tutorial's model: VGG16's
// base (include_top=False: 14,714,688 parameters, Keras' documented count) frozen, with the
// Flatten-Dense(128)-Dense(1) head (25088 * 128 + 128 and 128 + 1 parameters) trainable.
#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

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

// Tiny Darknet's labels run to 44 characters ("batch_normalization_15 (BatchNormalization)"),
// past Keras' 34: every row's shape, count and Trainable column still starts under its heading,
// each label ends before the shape, and the rules are as long as the widest row.
TEST(Summary, ColumnsStayInLineForLongLayerNames) {
  std::ostringstream out;
  ASSERT_EQ(run_summary("tiny-darknet", out), 0);
  std::istringstream in(out.str());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  size_t header = 0;
  while (header < lines.size() && lines[header].rfind("Layer (type)", 0) != 0) ++header;
  ASSERT_LT(header + 2, lines.size()) << out.str();
  const std::string& head = lines[header];
  const size_t shape_at = head.find("Output Shape"), params_end = head.find("Param #") + 7,
               trainable_at = head.find("Trainable");
  const size_t rule = lines[header + 1].size();
  EXPECT_EQ(lines[header + 1], std::string(rule, '='));
  size_t rows = 0, longest = 0;
  for (size_t i = header + 2; i < lines.size() && lines[i][0] != '='; ++i, ++rows) {
    const std::string& row = lines[i];
    SCOPED_TRACE(row);
    longest = std::max(longest, row.size());
    ASSERT_GE(row.size(), params_end);
    const size_t label_end = row.find(") ") + 1;
    EXPECT_LT(label_end, shape_at) << "the label runs into the shape column";
    EXPECT_EQ(row.compare(shape_at, 5, "(None"), 0);
    EXPECT_EQ(row[shape_at - 1], ' ');
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(row[params_end - 1])));
    if (row.size() > params_end) {
      EXPECT_EQ(row[params_end], ' ');
    }
    if (row.size() > trainable_at) {
      EXPECT_TRUE(row.compare(trainable_at, 6, "frozen") == 0 || row.compare(trainable_at, 3, "yes") == 0);
    }
  }
  EXPECT_GT(rows, 40u);
  EXPECT_LE(longest, rule);
  EXPECT_NE(out.str().find("batch_normalization_15 (BatchNormalization)"), std::string::npos);
}

}  // namespace
}  // namespace catdog
