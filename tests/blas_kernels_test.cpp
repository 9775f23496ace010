// OpenBLAS's kernels: the rule that corrects its SSE-only fallback on a CPU it does not know
// (kernels/cpu/blas_kernels.h), and the program really running on the corrected kernels.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "kernels/cpu/blas_kernels.h"
#include "kernels/cpu/cpu_features.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using cpu::blas_coretype_to_force;

TEST(BlasKernels, AnSseFallbackIsCorrectedToWhatTheCpuCanRun) {
  EXPECT_STREQ(blas_coretype_to_force("Prescott", nullptr, true, true), "SkylakeX");
  EXPECT_STREQ(blas_coretype_to_force("Prescott", nullptr, false, true), "Haswell");
  EXPECT_STREQ(blas_coretype_to_force("NEHALEM", nullptr, true, true), "SkylakeX");
  EXPECT_STREQ(blas_coretype_to_force("Core2", nullptr, false, true), "Haswell");
}

TEST(BlasKernels, OpenBlasOwnVectorChoiceAndTheUsersSettingStand) {
  EXPECT_EQ(blas_coretype_to_force("SkylakeX", nullptr, true, true), nullptr);
  EXPECT_EQ(blas_coretype_to_force("Haswell", nullptr, true, true), nullptr);
  EXPECT_EQ(blas_coretype_to_force("Zen", nullptr, true, true), nullptr);
  EXPECT_EQ(blas_coretype_to_force("Prescott", "Prescott", true, true), nullptr);
  EXPECT_EQ(blas_coretype_to_force("Prescott", "", true, true), nullptr);
  EXPECT_EQ(blas_coretype_to_force("Prescott", nullptr, false, false), nullptr)
      << "a CPU without AVX2 keeps the SSE kernels";
  EXPECT_EQ(blas_coretype_to_force(nullptr, nullptr, true, true), nullptr);
}

// `catdog profile` names the OpenBLAS kernels it runs. Started without OPENBLAS_CORETYPE on a CPU
// with AVX2 + FMA, they are vector kernels whatever OpenBLAS chose at first; with the variable set,
// the user's choice is what runs.
class BlasKernelsOfTheProgram : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* saved = std::getenv("OPENBLAS_CORETYPE");
    if (saved) saved_ = saved, had_ = true;
    work_ = test::temp_dir("blas_kernels");
  }
  void TearDown() override {
    if (had_) setenv("OPENBLAS_CORETYPE", saved_.c_str(), 1);
    else unsetenv("OPENBLAS_CORETYPE");
  }
  std::string profile_header() {
    const test::CliResult r = test::run_catdog(
        {"profile", "--model", "vgg1", "--image-size", "32", "--batch", "1", "--repeat", "1",
         "--device", "cpu"},
        work_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  std::string work_, saved_;
  bool had_ = false;
};

TEST_F(BlasKernelsOfTheProgram, WithoutASettingTheKernelsAreVectorOnes) {
  if (!cpu::cpu_features().avx2_fma) GTEST_SKIP() << "this CPU has no AVX2 + FMA";
  unsetenv("OPENBLAS_CORETYPE");
  const std::string header = profile_header();
  ASSERT_NE(header.find(", OpenBLAS "), std::string::npos) << header;
  const std::string core = header.substr(header.find(", OpenBLAS ") + 11);
  EXPECT_EQ(blas_coretype_to_force(core.substr(0, core.find(')')).c_str(), nullptr, true, true),
            nullptr)
      << "still an SSE-only core: " << header;
}

TEST_F(BlasKernelsOfTheProgram, TheUsersSettingIsWhatRuns) {
  setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  const std::string header = profile_header();
  EXPECT_NE(header.find(", OpenBLAS Prescott)"), std::string::npos) << header;
}

}  // namespace
}  // namespace catdog
