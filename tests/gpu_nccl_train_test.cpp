// `mpirun -np 2 catdog train --device cuda` (training/nccl_ranks.h): the gradient sum through
// NCCL on the GPUs follows the trajectory of one GPU process to float reassociation, and repeats
// bit for bit. The peer is catdog run alone on the GPU, without mpirun.
//
// Two ranks run on one GPU when there is only one (scripts/gpu-check.sh on a lent H200): NCCL
// refuses two ranks of one host on one GPU, so each rank gets its own NCCL_HOSTID and NCCL joins
// them as two hosts, over its socket transport on the loopback interface. NCCL_DEBUG=VERSION
// makes every rank print NCCL's version line, the proof that the sum went through NCCL.
//
// The data: 33 + 33 shared training photos and 10 + 10 test photos, Tiny Darknet at 64x64, as
// in tests/mpi_train_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/device.h"
#include "tests/support/cli.h"
#include "tests/support/mpi_launch.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "training/nccl_ranks.h"
#include "training/run_files.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;

struct GpuRun {
  test::CliResult cli;
  std::vector<EpochRecord> history;
  std::vector<float> weights;
};

class NcclTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    CATDOG_REQUIRE_GPU();
    for (const std::string& reason : {test::mpi_skip_reason(), nccl_unavailable_reason()}) {
      if (!reason.empty()) GTEST_SKIP() << reason;
    }
    CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
    weights_ = weights;
    data_ = test::shared_photo_subset(test::temp_dir("nccl_data"), 33, 10);
    if (data_.empty()) GTEST_SKIP() << "the shared photos (data/catsdogs) are absent";
  }

  // `ranks` = 0: catdog alone, without mpirun.
  GpuRun run(const std::string& name, int ranks) const {
    const std::string dir = test::temp_dir("nccl_" + name);
    const std::vector<std::string> args = {
        "train", "--data", data_, "--model", "tiny-darknet", "--weights", weights_,
        "--image-size", "64", "--epochs", "3", "--workers", "1", "--device", "cuda",
        "--out", dir + "/run"};
    test::ChildLimits limits;
    limits.timeout_s = 240;
    GpuRun r;
    if (ranks == 0) {
      r.cli = test::run_catdog(args, dir, limits);
    } else {
      std::vector<std::string> command = {
          "/bin/sh", "-c", "NCCL_HOSTID=catdog-test-rank-$OMPI_COMM_WORLD_RANK exec \"$0\" \"$@\"",
          test::catdog_exe()};
      command.insert(command.end(), args.begin(), args.end());
      r.cli = test::run_program(
          test::mpirun_exe(),
          test::mpirun_command_args(ranks, command,
                                    {"NCCL_DEBUG=VERSION", "NCCL_SOCKET_IFNAME=lo",
                                     "NCCL_IB_DISABLE=1", "NCCL_MNNVL_ENABLE=0"}),
          dir, limits);
    }
    EXPECT_EQ(r.cli.exit_code, 0) << name << ":\n" << r.cli.out << r.cli.err;
    if (fs::exists(dir + "/run/history.csv")) r.history = read_history_csv(dir + "/run/history.csv");
    if (fs::exists(dir + "/run/model.h5")) r.weights = test::saved_weights(dir + "/run/model.h5");
    return r;
  }

  std::string data_, weights_;
};

TEST_F(NcclTrain, TwoRanksFollowOneGpuProcessAndRepeatBitForBit) {
  const GpuRun alone = run("alone", 0);
  const GpuRun two = run("ranks2", 2);
  const GpuRun again = run("ranks2_again", 2);
  ASSERT_EQ(alone.history.size(), 3u) << alone.cli.out << alone.cli.err;
  ASSERT_EQ(two.history.size(), 3u) << two.cli.out << two.cli.err;
  ASSERT_EQ(again.history.size(), 3u) << again.cli.out << again.cli.err;
  EXPECT_NE(two.cli.out.find("NCCL version"), std::string::npos)
      << "the gradient sum did not go through NCCL:\n" << two.cli.out;
  EXPECT_NE(two.cli.out.find(", 2 ranks"), std::string::npos) << two.cli.out;
  for (size_t e = 0; e < 3; ++e) {
    // history.csv keeps 6 decimals: within 1e-5 relative, or the last printed digit.
    const auto near = [](double x) { return std::max(1e-5 * std::abs(x), 1.5e-6); };
    EXPECT_NEAR(two.history[e].loss, alone.history[e].loss, near(alone.history[e].loss)) << "epoch " << e + 1;
    EXPECT_NEAR(two.history[e].val_loss, alone.history[e].val_loss, near(alone.history[e].val_loss))
        << "epoch " << e + 1;
    EXPECT_EQ(two.history[e].accuracy, alone.history[e].accuracy) << "epoch " << e + 1;
    EXPECT_EQ(two.history[e].val_accuracy, alone.history[e].val_accuracy) << "epoch " << e + 1;
    EXPECT_EQ(two.history[e].loss, again.history[e].loss) << "epoch " << e + 1;
    EXPECT_EQ(two.history[e].val_loss, again.history[e].val_loss) << "epoch " << e + 1;
  }
  ASSERT_EQ(two.weights.size(), alone.weights.size());
  EXPECT_LT(test::max_relative_error(two.weights, alone.weights), 1e-4);
  EXPECT_EQ(two.weights, again.weights) << "2 ranks on NCCL: the same bits in every run";
}

}  // namespace
}  // namespace catdog
