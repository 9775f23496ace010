// Progress on every long step: the bar's plain-output form (a pipe or a file), and the frozen
// base's pass over the photos reported to the observer as it goes.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apps/progress.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "training/trainer.h"

namespace catdog {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// On a pipe: about ten lines for a pass, no carriage returns, the last one complete and timed.
TEST(ProgressBar, PlainOutputIsAboutTenLinesEndingWithTheTotal) {
  std::ostringstream out;
  ProgressBar bar(out, "Frozen base (train)", 1000, /*terminal=*/false);
  for (int64_t done = 10; done <= 1000; done += 10) bar.update(done, " - x");
  bar.finish();
  const std::vector<std::string> lines = lines_of(out.str());
  EXPECT_GE(lines.size(), 9u);
  EXPECT_LE(lines.size(), 11u);
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
  EXPECT_EQ(lines.front().rfind("Frozen base (train): 100/1000 [===>", 0), 0u) << lines.front();
  EXPECT_NE(lines.front().find("ETA: "), std::string::npos) << lines.front();
  EXPECT_EQ(lines.back().rfind("Frozen base (train): 1000/1000 [==============================]", 0), 0u)
      << lines.back();
  EXPECT_EQ(lines.back().find("ETA"), std::string::npos) << "finished: the time taken, not an ETA";
  EXPECT_NE(lines.back().find(" s - x"), std::string::npos) << lines.back();
}

// On a terminal: redrawn in place, one line closed at the end.
TEST(ProgressBar, TerminalOutputRedrawsInPlace) {
  std::ostringstream out;
  ProgressBar bar(out, "", 4, /*terminal=*/true);
  for (int64_t done = 1; done <= 4; ++done) bar.update(done, "");
  bar.finish();
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 4);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

struct PassRecorder : TrainObserver {
  void say(const std::string& line) override { said.push_back(line); }
  void on_pass_begin(const std::string& what, int64_t images) override {
    passes.push_back(what);
    totals.push_back(images);
    progress.emplace_back();
  }
  void on_pass_progress(int64_t done, double wait_seconds) override {
    progress.back().push_back(done);
    EXPECT_GE(wait_seconds, 0.0);
  }
  std::vector<std::string> said, passes;
  std::vector<int64_t> totals;
  std::vector<std::vector<int64_t>> progress;
};

// The feature-cache fill reports each batch: train then test, rising to every photo of each.
TEST(PassProgress, FeatureCacheFillReportsEachBatch) {
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  const std::string data = test::write_small_dataset(test::temp_dir("progress_data"), 12, 64, 3);
  TrainOptions o = test::small_run(data, test::temp_dir("progress_run"));
  o.model = "tiny-darknet";
  o.weights = weights;
  o.image_size = 64;
  o.batch = 4;
  o.epochs = 1;
  o.cache_features = "on";
  PassRecorder recorder;
  train(o, recorder);
  ASSERT_EQ(recorder.passes, (std::vector<std::string>{"Frozen base (train)", "Frozen base (test)"}));
  for (size_t p = 0; p < 2; ++p) {
    const std::vector<int64_t>& done = recorder.progress[p];
    ASSERT_FALSE(done.empty());
    EXPECT_EQ(done.back(), recorder.totals[p]) << recorder.passes[p];
    EXPECT_GT(done.size(), 1u) << "one report per batch of 4";
    for (size_t i = 1; i < done.size(); ++i) EXPECT_GT(done[i], done[i - 1]);
  }
  bool timed = false;
  for (const std::string& line : recorder.said) {
    if (line.rfind("Frozen base ran once per image in ", 0) == 0) {
      timed = line.size() > 36 && line.compare(line.size() - 2, 2, " s") == 0;
    }
  }
  EXPECT_TRUE(timed) << "the fill's duration, as people read it";
}

}  // namespace
}  // namespace catdog
