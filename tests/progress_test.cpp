// Progress on every long step: the bar's plain-output form (a pipe or a file), and the frozen
// base's pass over the photos reported to the observer as it goes.
#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apps/commands.h"
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

// Cleared on a terminal so that other lines print clean, then drawn again below them.
TEST(ProgressBar, ClearErasesTheTerminalLineAndTheNextUpdateRedraws) {
  std::ostringstream out;
  ProgressBar bar(out, "predict", 4, /*terminal=*/true);
  bar.update(2, "");
  bar.clear();
  out << "result\n";
  bar.update(4, "");
  bar.finish();
  const std::string text = out.str();
  const size_t result = text.find("result\n");
  ASSERT_NE(result, std::string::npos);
  EXPECT_EQ(text.compare(result - 4, 4, "\r\033[K"), 0) << "the bar is erased before the line";
  EXPECT_NE(text.find("predict: 4/4", result), std::string::npos) << "and drawn again after it";
  std::ostringstream plain;
  ProgressBar plain_bar(plain, "predict", 4, /*terminal=*/false);
  plain_bar.update(4, "");
  plain_bar.clear();
  EXPECT_EQ(plain.str().find('\033'), std::string::npos) << "no terminal codes in a file";
}

// predict's table stays a table: with the bar (a terminal), every prediction line is whole and
// comes once, and the bar counts to the last photo; without it, nothing but the predictions.
TEST(PredictProgress, BarOnATerminalOnlyAndPredictionLinesWhole) {
  const std::string data = test::write_small_dataset(test::temp_dir("predict_progress_data"), 8, 48);
  const std::string run = test::temp_dir("predict_progress_run");
  TrainOptions o = test::small_run(data, run);
  o.epochs = 1;
  std::ostringstream quiet;
  TextObserver observer(quiet);
  train(o, observer);
  PredictOptions p;
  p.model_path = run + "/model.h5";
  p.device = "cpu";
  p.batch = 3;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data)) {
    if (entry.is_regular_file()) p.images.push_back(entry.path().string());
  }
  std::sort(p.images.begin(), p.images.end());
  ASSERT_EQ(p.images.size(), 16u);

  std::ostringstream table;
  ASSERT_EQ(run_predict(p, table), 0);
  const std::vector<std::string> rows = lines_of(table.str());
  ASSERT_EQ(rows.size(), p.images.size()) << table.str();
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].rfind(p.images[i] + "\t", 0), 0u);

  p.progress_bar = true;
  std::ostringstream terminal;
  ASSERT_EQ(run_predict(p, terminal), 0);
  std::string text = terminal.str();
  EXPECT_NE(text.find("predict: 16/16 ["), std::string::npos) << text;
  // What a terminal shows: each "\r\033[K" erases the line drawn so far, each "\r" restarts it.
  std::string shown, line;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 4, "\r\033[K") == 0) { line.clear(); i += 3; continue; }
    if (text[i] == '\r') { line.clear(); continue; }
    if (text.compare(i, 3, "\033[K") == 0) { i += 2; continue; }
    line += text[i];
    if (text[i] == '\n') { shown += line; line.clear(); }
  }
  std::vector<std::string> shown_rows = lines_of(shown);
  ASSERT_EQ(shown_rows.size(), rows.size() + 1) << "the predictions, then the finished bar";
  EXPECT_EQ(shown_rows.back().rfind("predict: 16/16 [", 0), 0u) << shown_rows.back();
  shown_rows.pop_back();
  EXPECT_EQ(shown_rows, rows);
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
