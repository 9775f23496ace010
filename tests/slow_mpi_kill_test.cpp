// A rank lost mid-run (training/distributed.h): SIGKILL, or a rank that stops answering
// (SIGSTOP), ends the whole `mpirun -np 2 catdog train` within 60 s with a non-zero exit and a
// message naming rank 1; `--resume` then finishes the run from rank 0's last checkpoint.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/cli.h"
#include "tests/support/mpi_launch.h"
#include "tests/support/test_support.h"
#include "training/run_files.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The process that mpirun started as rank `rank` (its child with OMPI_COMM_WORLD_RANK=rank); -1
// when there is none (yet).
pid_t rank_pid(pid_t mpirun, int rank) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string pid, comm, state;
    long parent = -1;
    stat >> pid >> comm >> state >> parent;
    if (parent != mpirun) continue;
    const std::string environ = test::read_text((entry.path() / "environ").string());
    if (environ.find("OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0') != std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return -1;
}

// Waits up to `seconds` for the child; its exit status (128 + signal), or -1 on the deadline.
int wait_at_most(pid_t pid, double seconds) {
  const auto start = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

class MpiLostRank : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = test::mpi_skip_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
    dir_ = test::temp_dir("mpi_lost_rank");
    data_ = test::shared_photo_subset(dir_ + "/data", 33, 10);
    if (data_.empty()) GTEST_SKIP() << "the shared photos (data/catsdogs) are absent";
    // Batches of 2: 33 steps (33 gradient sums) an epoch, so a signal lands mid-epoch.
    args_ = {"train", "--data", data_, "--model", "tiny-darknet", "--weights", weights,
             "--image-size", "64", "--epochs", "12", "--batch", "2", "--workers", "1",
             "--out", dir_ + "/run"};
  }

  // Starts the 2-rank run, waits for its first epoch's history.csv, sends `signal` to rank 1 and
  // returns the run's exit status (-1: still running 60 s later) and its output.
  std::pair<int, std::string> lose_rank_one(int signal, const std::vector<std::string>& env) {
    const std::string log = dir_ + "/mpirun.log";
    const pid_t mpirun = test::start_program(test::mpirun_exe(), test::mpirun_args(2, args_, env), log);
    const auto start = Clock::now();
    while (!fs::exists(dir_ + "/run/history.csv") &&
           std::chrono::duration<double>(Clock::now() - start).count() < 240) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const pid_t victim = rank_pid(mpirun, 1);
    EXPECT_GT(victim, 0) << "no rank 1 under mpirun " << mpirun;
    if (victim > 0) ::kill(victim, signal);
    const int status = wait_at_most(mpirun, 60);
    if (status < 0) ::kill(mpirun, SIGKILL), wait_at_most(mpirun, 10);
    if (victim > 0) ::kill(victim, SIGKILL);  // a stopped rank that nothing ended
    return {status, test::read_text(log)};
  }

  void expect_resume_finishes() {
    std::vector<std::string> args = args_;
    args.push_back("--resume");
    test::ChildLimits limits;
    limits.timeout_s = 300;
    const test::CliResult resumed =
        test::run_program(test::mpirun_exe(), test::mpirun_args(2, args), dir_, limits);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("Resuming from"), std::string::npos) << resumed.out;
    EXPECT_EQ(read_history_csv(dir_ + "/run/history.csv").size(), 12u);
  }

  std::string dir_, data_;
  std::vector<std::string> args_;
};

TEST_F(MpiLostRank, AKilledRankEndsTheJobAndResumeFinishesIt) {
  const auto [status, out] = lose_rank_one(SIGKILL, {});
  ASSERT_NE(status, -1) << "the job still ran 60 s after rank 1 was killed:\n" << out;
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("rank 1"), std::string::npos) << out;
  expect_resume_finishes();
}

// A rank that is alive but silent is not noticed by mpirun: the collectives' deadline ends it.
TEST_F(MpiLostRank, ARankThatStopsAnsweringEndsTheJobAtTheDeadline) {
  const auto [status, out] = lose_rank_one(SIGSTOP, {"CATDOG_MPI_TIMEOUT=3"});
  ASSERT_NE(status, -1) << "the job still ran 60 s after rank 1 stopped:\n" << out;
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("catdog: error: rank 0 of 2: lost rank 1: no answer for 3 s during "),
            std::string::npos) << out;
  expect_resume_finishes();
}

}  // namespace
}  // namespace catdog
