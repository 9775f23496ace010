// run_contained (core/contained_child.h): every way the work can end comes back as its outcome,
// the parent goes on, and nothing the child does reaches the parent's memory.
#include "core/contained_child.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using End = ContainedOutcome::End;
constexpr uint64_t kRoom = uint64_t{256} << 20;

TEST(ContainedChild, WorkThatReturnsFinishes) {
  int touched = 0;
  const ContainedOutcome outcome = run_contained([&] { touched = 1; }, kRoom, 30);
  EXPECT_EQ(outcome.end, End::finished);
  EXPECT_EQ(touched, 0) << "the work ran in this process, not in a child";
}

TEST(ContainedChild, ErrorComesBackWithItsMessage) {
  const ContainedOutcome outcome =
      run_contained([] { fail("weights.h5: layer 'conv1' is ", 3, " wide"); }, kRoom, 30);
  EXPECT_EQ(outcome.end, End::error);
  EXPECT_EQ(outcome.message, "weights.h5: layer 'conv1' is 3 wide");
}

TEST(ContainedChild, LongErrorIsCutTo4KiB) {
  const ContainedOutcome outcome =
      run_contained([] { throw Error(std::string(10000, 'x')); }, kRoom, 30);
  EXPECT_EQ(outcome.end, End::error);
  EXPECT_EQ(outcome.message, std::string(4096, 'x'));
}

TEST(ContainedChild, OtherExceptionIsNamedSo) {
  EXPECT_EQ(run_contained([] { throw std::runtime_error("no"); }, kRoom, 30).end,
            End::other_exception);
}

// An assertion failing inside a library: abort(), which no sanitizer takes over (a SIGSEGV under
// ASan is its report and an exit of 1, the next test's case).
TEST(ContainedChild, CrashIsNamedBySignal) {
  const ContainedOutcome outcome = run_contained([] { std::abort(); }, kRoom, 30);
  EXPECT_EQ(outcome.end, End::crashed);
  EXPECT_EQ(outcome.message, "Aborted");
}

TEST(ContainedChild, ExitOfItsOwnIsAFailure) {
  EXPECT_EQ(run_contained([] { ::_exit(1); }, kRoom, 30).end, End::failed);
}

TEST(ContainedChild, WorkPastItsDeadlineIsKilled) {
  const auto start = std::chrono::steady_clock::now();
  const ContainedOutcome outcome = run_contained([] { ::pause(); }, kRoom, 0.3);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(outcome.end, End::timed_out);
  EXPECT_GE(waited, 0.3);
  EXPECT_LT(waited, 20.0);
}

TEST(ContainedChild, WorkThatFinishesBeforeTheDeadlineIsNotKilled) {
  const ContainedOutcome outcome = run_contained([] { ::usleep(200 * 1000); }, kRoom, 20);
  EXPECT_EQ(outcome.end, End::finished);
}

TEST(ContainedChild, AllocationBeyondTheCapIsOutOfMemory) {
  // Under ASan an allocation the cap refuses is the sanitizer's fatal report (an exit of 1), not
  // std::bad_alloc; the Release suite checks the bad_alloc.
  const ContainedOutcome outcome = run_contained(
      [] {
        std::vector<char> big(size_t{1} << 30, 1);  // 1 GiB against a cap of 256 MiB more
        if (big[12345] != 1) std::abort();
      },
      kRoom, 30);
  EXPECT_EQ(outcome.end, CATDOG_UNDER_ASAN ? End::failed : End::out_of_memory);
}

TEST(ContainedChild, AllocationWithinTheCapFinishes) {
  const ContainedOutcome outcome = run_contained(
      [] {
        std::vector<char> some(size_t{64} << 20, 1);
        if (some[12345] != 1) std::abort();
      },
      kRoom, 30);
  EXPECT_EQ(outcome.end, End::finished);
}

}  // namespace
}  // namespace catdog
