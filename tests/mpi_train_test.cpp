// `mpirun -np N catdog train` (training/data_parallel.h): N ranks follow the trajectory of one
// process to float reassociation, a given N repeats bit for bit, rank 0 alone prints and writes,
// and a stopped multi-rank run resumes where it stopped. The peer is catdog run as one process.
//
// The data: 33 + 33 shared training photos (66: the global batch of 64 leaves a last batch of 2,
// so with 3 ranks one rank has no row of it) and 10 + 10 test photos, Tiny Darknet at 64x64;
// without the feature cache (MpiUncachedTrain), the same for fine-tuning, and for vgg1 from
// scratch 33 + 33 generated photos and 11 + 11 test ones.
// Each test is one ctest process, so the runs a test compares are made inside it.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "tests/support/cli.h"
#include "tests/support/mpi_launch.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "training/run_files.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;

struct RunOutput {
  test::CliResult cli;
  std::string dir;
  std::vector<EpochRecord> history;
  std::vector<float> weights;
};

// catdog with the arguments args(run directory); `ranks` = 0: catdog alone, without mpirun.
// Runs are kept by name (the tests of a process share them).
const RunOutput& run_train(const std::string& name, int ranks,
                           const std::function<std::vector<std::string>(const std::string&)>& args_for) {
  static std::map<std::string, RunOutput> done;
  auto found = done.find(name);
  if (found != done.end()) return found->second;
  RunOutput r;
  r.dir = test::temp_dir("mpi_" + name);
  const std::vector<std::string> args = args_for(r.dir + "/run");
  test::ChildLimits limits;
  limits.timeout_s = 300;
  r.cli = ranks == 0 ? test::run_catdog(args, r.dir, limits)
                     : test::run_program(test::mpirun_exe(), test::mpirun_args(ranks, args),
                                         r.dir, limits);
  if (fs::exists(r.dir + "/run/history.csv")) r.history = read_history_csv(r.dir + "/run/history.csv");
  if (fs::exists(r.dir + "/run/model.h5")) r.weights = test::saved_weights(r.dir + "/run/model.h5");
  return done.emplace(name, std::move(r)).first->second;
}

class MpiTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = test::mpi_skip_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
    weights_ = weights;
    if (data_.empty()) data_ = test::shared_photo_subset(test::temp_dir("mpi_data"), 33, 10);
    if (data_.empty()) GTEST_SKIP() << "the shared photos (data/catsdogs) are absent";
  }

  std::vector<std::string> train_args(const std::string& out, int epochs) const {
    return {"train", "--data", data_, "--model", "tiny-darknet", "--weights", weights_,
            "--image-size", "64", "--epochs", std::to_string(epochs), "--workers", "1",
            "--out", out};
  }

  const RunOutput& run(const std::string& name, int ranks) {
    return run_train(name, ranks, [&](const std::string& out) { return train_args(out, 3); });
  }

  static std::string data_;
  std::string weights_;
};
std::string MpiTrain::data_;

// history.csv keeps 6 decimals: equal within 1e-5 relative, or the last printed digit.
void expect_same_trajectory(const RunOutput& a, const RunOutput& b, const std::string& what) {
  ASSERT_EQ(a.cli.exit_code, 0) << a.cli.out << a.cli.err;
  ASSERT_EQ(b.cli.exit_code, 0) << b.cli.out << b.cli.err;
  ASSERT_EQ(a.history.size(), 3u) << what;
  ASSERT_EQ(b.history.size(), 3u) << what;
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(a.history[e].phase, b.history[e].phase) << what << " epoch " << e + 1;
    const auto near = [](double x) { return std::max(1e-5 * std::abs(x), 1.5e-6); };
    EXPECT_NEAR(a.history[e].loss, b.history[e].loss, near(b.history[e].loss)) << what << " epoch " << e + 1;
    EXPECT_NEAR(a.history[e].val_loss, b.history[e].val_loss, near(b.history[e].val_loss))
        << what << " epoch " << e + 1;
    EXPECT_EQ(a.history[e].accuracy, b.history[e].accuracy) << what << " epoch " << e + 1;
    EXPECT_EQ(a.history[e].val_accuracy, b.history[e].val_accuracy) << what << " epoch " << e + 1;
  }
  ASSERT_EQ(a.weights.size(), b.weights.size()) << what;
  EXPECT_LT(test::max_relative_error(a.weights, b.weights), 1e-4) << what;
}

void expect_same_bits(const RunOutput& a, const RunOutput& b, const std::string& what) {
  ASSERT_EQ(b.cli.exit_code, 0) << b.cli.out << b.cli.err;
  EXPECT_EQ(a.weights, b.weights) << what;
  ASSERT_EQ(a.history.size(), b.history.size()) << what;
  for (size_t e = 0; e < a.history.size(); ++e) {
    EXPECT_EQ(a.history[e].loss, b.history[e].loss) << what << " epoch " << e + 1;
    EXPECT_EQ(a.history[e].val_loss, b.history[e].val_loss) << what << " epoch " << e + 1;
  }
}

// `run(name, ranks)`: catdog alone (0), 1, 2 and 3 ranks follow one trajectory; `repeated` ranks
// twice give the same bits.
template <class Run>
void expect_ranks_follow_one_process(const Run& run, int repeated) {
  const RunOutput& alone = run("alone", 0);
  ASSERT_EQ(alone.cli.exit_code, 0) << alone.cli.out << alone.cli.err;
  ASSERT_EQ(alone.history.size(), 3u);
  // Training moves: the runs compare a real trajectory.
  EXPECT_NE(alone.history[0].loss, alone.history[2].loss);
  const RunOutput& one = run("ranks1", 1);
  expect_same_trajectory(one, alone, "1 rank");
  EXPECT_EQ(one.weights, alone.weights) << "one rank is the single-process code, bit for bit";
  expect_same_trajectory(run("ranks2", 2), alone, "2 ranks");
  expect_same_trajectory(run("ranks3", 3), alone, "3 ranks");
  const std::string name = "ranks" + std::to_string(repeated);
  expect_same_bits(run(name, repeated), run(name + "_again", repeated),
                   "the same rank count again");
}

TEST_F(MpiTrain, OneTwoAndThreeRanksFollowOneProcess) {
  // The first epoch is not trivially learnt.
  const RunOutput& alone = run("alone", 0);
  ASSERT_EQ(alone.history.size(), 3u) << alone.cli.out << alone.cli.err;
  EXPECT_LT(alone.history[0].accuracy, alone.history[2].accuracy + 1e-9);
  // 3 ranks twice (the 2-rank repeat is the resume test's).
  expect_ranks_follow_one_process([&](const std::string& n, int r) -> const RunOutput& { return run(n, r); }, 3);
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Rank 0 alone prints and writes files; then, stopped after 3 steps (mid-epoch 2) and resumed
// with --resume on the same 2 ranks, a run is the one that was never stopped, bit for bit.
TEST_F(MpiTrain, RankZeroWritesAndAStoppedRunResumesOnEveryRank) {
  const RunOutput& r = run("ranks2", 2);
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.out << r.cli.err;
  EXPECT_EQ(count_of(r.cli.out, "catdog train: model"), 1u) << r.cli.out;
  EXPECT_EQ(count_of(r.cli.out, ", 2 ranks"), 1u) << r.cli.out;
  EXPECT_EQ(count_of(r.cli.out, "Model saved to"), 1u) << r.cli.out;
  EXPECT_EQ(count_of(r.cli.out, "epoch 3/3 - "), 1u) << r.cli.out;
  // The feature cache's line counts the images of every rank's shard.
  EXPECT_EQ(count_of(r.cli.out, "Feature cache (train, output of flatten): 66 images"), 1u) << r.cli.out;
  EXPECT_EQ(count_of(r.cli.out, "Feature cache (test, output of flatten): 20 images"), 1u) << r.cli.out;
  int event_files = 0;
  for (const auto& entry : fs::directory_iterator(r.dir + "/run")) {
    event_files += entry.path().filename().string().rfind("events.out.tfevents", 0) == 0;
  }
  EXPECT_EQ(event_files, 1);
  const std::string log = test::read_text(r.dir + "/run/train.log");
  EXPECT_EQ(count_of(log, "epoch 3/3 - "), 1u) << log;
  EXPECT_TRUE(r.cli.err.empty()) << r.cli.err;

  const RunOutput& whole = r;
  const std::string dir = test::temp_dir("mpi_resume");
  test::ChildLimits limits;
  limits.timeout_s = 300;
  std::vector<std::string> args = train_args(dir + "/run", 3);
  std::vector<std::string> stop = args;
  stop.insert(stop.end(), {"--stop-after-steps", "3"});
  const test::CliResult stopped =
      test::run_program(test::mpirun_exe(), test::mpirun_args(2, stop), dir, limits);
  EXPECT_EQ(stopped.exit_code, 130) << stopped.out << stopped.err;
  EXPECT_NE(stopped.out.find("Stopped during epoch 2 after 1 of 2 batches"), std::string::npos)
      << stopped.out;
  args.push_back("--resume");
  const test::CliResult resumed =
      test::run_program(test::mpirun_exe(), test::mpirun_args(2, args), dir, limits);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(test::saved_weights(dir + "/run/model.h5"), whole.weights);
  const std::vector<EpochRecord> history = read_history_csv(dir + "/run/history.csv");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].loss, whole.history[2].loss);
}

// Training without the feature cache (training/data_parallel.h): each rank decodes, augments,
// forwards and backwards its share of every global batch, and the gradients are summed before
// each update of every trainable weight, the base's too when fine-tuning. Batches of 16 (66
// images: 4 of 16 and one of 2, of which one of 3 ranks has no row) give the runs 15 steps.
class MpiUncachedTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = test::mpi_skip_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    if (generated_.empty()) {
      generated_ = test::write_small_dataset(test::temp_dir("mpi_uncached_data"), 44, 64);
    }
  }

  // One of the tutorial's VGGs from scratch at 32x32 (with `extra`), runs named `kind`_...
  static auto from_scratch(const std::string& kind, std::vector<std::string> extra,
                           const std::string& model = "vgg1") {
    return [kind, extra, model](const std::string& name, int ranks) -> const RunOutput& {
      return run_train(kind + "_" + name, ranks, [&](const std::string& out) {
        std::vector<std::string> args = {"train", "--data", generated_, "--model", model,
                                          "--image-size", "32", "--epochs", "3", "--batch", "16",
                                          "--seed", "5", "--workers", "1", "--out", out};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
      });
    };
  }
  // Tiny Darknet on the shared photos and weights at 64x64 (random weights would learn nothing
  // in 3 epochs): 1 head epoch, then 2 from its default cut; the empty function when absent.
  static std::function<const RunOutput&(const std::string&, int)> fine_tuning(
      const std::string& kind, const std::string& cache) {
    const std::string weights = test::shared_path("weights/tiny_darknet_imagenet.h5");
    if (photos_.empty()) photos_ = test::shared_photo_subset(test::temp_dir("mpi_photos"), 33, 10);
    if (weights.empty() || photos_.empty()) return {};
    return [kind, cache, weights](const std::string& name, int ranks) -> const RunOutput& {
      return run_train(kind + "_" + name, ranks, [&](const std::string& out) {
        return std::vector<std::string>{
            "train", "--data", photos_, "--model", "tiny-darknet", "--weights", weights,
            "--image-size", "64", "--batch", "16", "--epochs", "1", "--fine-tune-epochs", "2",
            "--cache-features", cache, "--workers", "1", "--out", out};
      });
    };
  }

  static std::string generated_, photos_;
};
std::string MpiUncachedTrain::generated_, MpiUncachedTrain::photos_;

TEST_F(MpiUncachedTrain, FromScratchOneTwoAndThreeRanksFollowOneProcess) {
  const auto run = from_scratch("scratch", {});
  expect_ranks_follow_one_process(run, 2);
  const RunOutput& two = run("ranks2", 2);
  EXPECT_EQ(count_of(two.cli.out, "feature cache off, 2 ranks"), 1u) << two.cli.out;
  EXPECT_EQ(count_of(two.cli.out, "rank 0's share: skipped 0 of 33 images"), 3u) << two.cli.out;
}

TEST_F(MpiUncachedTrain, AugmentedOneTwoAndThreeRanksFollowOneProcess) {
  const auto run = from_scratch("augment", {"--augment"});
  expect_ranks_follow_one_process(run, 2);
  // The augmentation draws matter: without them the run is another one.
  const RunOutput& plain = from_scratch("scratch", {})("alone", 0);
  ASSERT_EQ(plain.cli.exit_code, 0) << plain.cli.out << plain.cli.err;
  EXPECT_NE(plain.weights, run("alone", 0).weights);
}

TEST_F(MpiUncachedTrain, FineTuningOneTwoAndThreeRanksFollowOneProcess) {
  const auto run = fine_tuning("fine_tune", "off");
  if (!run) GTEST_SKIP() << "the shared photos or Tiny Darknet weights are absent";
  expect_ranks_follow_one_process(run, 2);
  const RunOutput& alone = run("alone", 0);
  EXPECT_EQ(alone.history[2].phase, 2);
}

// The same two phases with the feature cache (below the cut in phase 2) on 2 ranks.
TEST_F(MpiUncachedTrain, CachedFineTuningOnTwoRanksFollowsOneProcess) {
  const auto run = fine_tuning("fine_tune_cached", "auto");
  if (!run) GTEST_SKIP() << "the shared photos or Tiny Darknet weights are absent";
  const RunOutput& two = run("ranks2", 2);
  expect_same_trajectory(two, run("alone", 0), "2 ranks");
  EXPECT_EQ(count_of(two.cli.out, "Feature cache (train, output of "), 2u) << two.cli.out;
}

// Dropout draws the masks of the whole batch's rows on every rank (ExecContext::first_row).
TEST_F(MpiUncachedTrain, DropoutOneTwoAndThreeRanksFollowOneProcess) {
  const auto run = from_scratch("dropout", {}, "vgg3-dropout");
  expect_ranks_follow_one_process(run, 2);
}

}  // namespace
}  // namespace catdog
