// Crash-safe training: `catdog train` killed with SIGKILL at random moments (no handler runs, no
// destructor, no flush) leaves a model.h5 and a checkpoint.h5 that load, and `--resume` then ends
// with exactly the weights of a run that was never killed.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "training/model_setup.h"
#include "core/random.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<std::string> train_args(const std::string& data, const std::string& out) {
  return {"train", "--data", data, "--model", "vgg1", "--image-size", "32", "--epochs", "6",
          "--batch", "8", "--lr", "0.01", "--seed", "11", "--device", "cpu", "--workers", "2",
          "--out", out};
}

TEST(KillAndResume, SigkillAtRandomMomentsThenResumeEqualsAnUninterruptedRun) {
  const std::string work = test::temp_dir("kill_resume");
  const std::string data = test::write_small_dataset(work + "/data", 24, 64);

  // The run nobody interrupts, timed so the kills can land anywhere in it.
  const auto start = Clock::now();
  const test::CliResult straight = test::run_catdog(train_args(data, work + "/straight"), work);
  double run_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_EQ(straight.exit_code, 0) << straight.out << straight.err;
  const std::vector<float> expected = test::saved_weights(work + "/straight/model.h5");

  constexpr int kTrials = 12;
  int killed_mid_run = 0, resumed = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const std::string out = work + "/trial" + std::to_string(trial);
    const std::string log = work + "/trial" + std::to_string(trial) + ".log";
    // A moment drawn uniformly over the run (a little past its end too, for the last writes).
    const double delay = 1.1 * run_seconds * uniform01(2024, 1, static_cast<uint64_t>(trial));
    const pid_t pid = test::start_catdog(train_args(data, out), log);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    ::kill(pid, SIGKILL);
    const int status = test::wait_for(pid);
    if (status == 128 + SIGKILL) ++killed_mid_run;
    // The run finished before the kill: this machine is faster now than when the straight run
    // was timed (another job ended). Aim the later kills inside the shorter run.
    if (status == 0) run_seconds = std::min(run_seconds, delay / 1.1);
    SCOPED_TRACE("trial " + std::to_string(trial) + ", killed after " + std::to_string(delay) +
                 " s, exit " + std::to_string(status));

    // Whatever is on disk is whole: each file loads.
    const bool has_model = fs::exists(out + "/model.h5");
    const bool has_checkpoint = fs::exists(out + "/checkpoint.h5");
    if (has_model) {
      EXPECT_NO_THROW(load_trained_model(out + "/model.h5"));
    }
    if (has_checkpoint) {
      EXPECT_NO_THROW(load_trained_model(out + "/checkpoint.h5"));
    }

    // Carry on: --resume when a checkpoint exists, else (killed in epoch 1) start again.
    std::vector<std::string> again = train_args(data, out);
    if (has_checkpoint) again.push_back("--resume");
    resumed += has_checkpoint;
    const test::CliResult finished = test::run_catdog(again, work);
    ASSERT_EQ(finished.exit_code, 0) << test::read_text(log) << finished.out << finished.err;
    EXPECT_EQ(test::max_abs_difference(test::saved_weights(out + "/model.h5"), expected), 0.0);
  }
  std::cout << kTrials << " trials over a " << run_seconds << " s run: " << killed_mid_run
            << " killed mid-run, " << resumed << " resumed from a checkpoint, the rest restarted\n";
  // Most kills must land in the middle of a run, or the test proves little.
  EXPECT_GE(killed_mid_run, kTrials / 2);
}

}  // namespace
}  // namespace catdog
