// What the GPU ranks (training/nccl_ranks.h) rest on, testable without a GPU: the local rank ->
// GPU mapping, loading libnccl where CMake found it, and Ranks::broadcast, which carries NCCL's
// unique id from rank 0 to the others (this binary starts itself under mpirun for that).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "core/error.h"
#include "tests/support/cli.h"
#include "tests/support/mpi_launch.h"
#include "tests/support/test_support.h"
#include "training/distributed.h"
#include "training/nccl_ranks.h"

namespace catdog {
namespace {

constexpr size_t kIdBytes = 128;  // NCCL_UNIQUE_ID_BYTES

uint8_t root_byte(size_t i) { return static_cast<uint8_t>(i * 7 + 3); }

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string text;
  char two[3];
  for (const uint8_t b : bytes) {
    std::snprintf(two, sizeof two, "%02x", b);
    text += two;
  }
  return text;
}

// Started by mpirun from the tests below ($CATDOG_TEST_MPI_CHILD says which), before gtest:
//   broadcast    rank 0 sends 128 bytes, every rank prints what it holds after broadcast()
//   silent_root  rank 0 never sends; the others must give up after 1 s, naming rank 0
int run_as_mpi_child(const std::string& role) {
  Ranks& r = ranks();
  std::vector<uint8_t> bytes(kIdBytes, 0xee);
  if (r.is_root()) {
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = root_byte(i);
  }
  try {
    if (role == "silent_root" && r.is_root()) {
      std::this_thread::sleep_for(std::chrono::seconds(20));  // MPI_Abort of another rank ends it
    } else {
      r.broadcast(bytes, "the test broadcast", role == "silent_root" ? 1.0 : 30.0);
    }
  } catch (const Error& e) {
    std::printf("error: %s\n", e.what());
    std::fflush(stdout);
    finish_ranks(1);
    return 1;
  }
  std::printf("rank %d of %d: %s\n", r.rank(), r.size(), hex(bytes).c_str());
  std::fflush(stdout);
  finish_ranks(0);
  return 0;
}

const bool g_mpi_child_done = [] {
  const char* role = std::getenv("CATDOG_TEST_MPI_CHILD");
  if (role) std::exit(run_as_mpi_child(role));
  return false;
}();

test::CliResult run_children(int ranks, const std::string& role) {
  test::ChildLimits limits;
  limits.timeout_s = 120;
  return test::run_program(
      test::mpirun_exe(),
      test::mpirun_command_args(ranks, {std::filesystem::read_symlink("/proc/self/exe").string()}, {"CATDOG_TEST_MPI_CHILD=" + role}),
      test::temp_dir("nccl_ranks_" + role), limits);
}

TEST(GpuOfLocalRank, EachRankOfAHostTakesTheNextGpuRoundRobin) {
  EXPECT_EQ(gpu_of_local_rank(0, 1), 0);
  EXPECT_EQ(gpu_of_local_rank(1, 1), 0);  // two ranks on one GPU
  EXPECT_EQ(gpu_of_local_rank(0, 4), 0);
  EXPECT_EQ(gpu_of_local_rank(3, 4), 3);
  EXPECT_EQ(gpu_of_local_rank(5, 4), 1);
  EXPECT_EQ(gpu_of_local_rank(6, 3), 0);
}

TEST(GpuOfLocalRank, NoGpuIsAnError) {
  try {
    gpu_of_local_rank(1, 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("local rank 1: no GPU"), std::string::npos) << e.what();
  }
}

TEST(GpuOfLocalRank, OneProcessComputesOnGpuZero) { EXPECT_EQ(local_gpu(ranks()), 0); }

// Built with NCCL, the library CMake found loads and has every entry point catdog calls.
TEST(NcclLibrary, LoadsWithEveryEntryPoint) {
  if (!nccl_built()) GTEST_SKIP() << nccl_unavailable_reason();
  EXPECT_EQ(nccl_unavailable_reason(), "");
}

TEST(NcclLibrary, WithoutItTheGpuSumSaysWhy) {
  if (nccl_built()) GTEST_SKIP() << "catdog has NCCL here";
  EXPECT_NE(nccl_unavailable_reason().find("without NCCL"), std::string::npos);
  EXPECT_THROW(nccl_ranks(ranks()), Error);
}

TEST(RanksBroadcast, EveryRankGetsRankZerosBytes) {
  const std::string reason = test::mpi_skip_reason();
  if (!reason.empty()) GTEST_SKIP() << reason;
  std::vector<uint8_t> root(kIdBytes);
  for (size_t i = 0; i < root.size(); ++i) root[i] = root_byte(i);
  for (const int n : {2, 3}) {
    const test::CliResult r = run_children(n, "broadcast");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (int rank = 0; rank < n; ++rank) {
      const std::string line = "rank " + std::to_string(rank) + " of " + std::to_string(n) + ": " + hex(root);
      EXPECT_NE(r.out.find(line + "\n"), std::string::npos) << n << " ranks, rank " << rank << ":\n" << r.out;
    }
  }
}

TEST(RanksBroadcast, ARankThatNeverSendsEndsTheWaitAtTheDeadline) {
  const std::string reason = test::mpi_skip_reason();
  if (!reason.empty()) GTEST_SKIP() << reason;
  const test::CliResult r = run_children(2, "silent_root");
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("error: rank 1 of 2: lost rank 0: no answer for 1 s during the test broadcast"),
            std::string::npos)
      << r.out << r.err;
}

}  // namespace
}  // namespace catdog
