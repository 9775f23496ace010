// The rule that picks one of cuDNN's ranked convolution algorithms (layers/conv_algorithm.h),
// on hand-made candidate lists: what a GPU's heuristic would return, without the GPU.
#include <gtest/gtest.h>

#include "layers/conv_algorithm.h"

namespace catdog {
namespace {

using M = ConvMath;

ConvCandidate candidate(int algo, M math, bool deterministic = true, size_t workspace = 0,
                        bool supported = true) {
  return {algo, supported, math, deterministic, workspace};
}

const auto kAnyMemory = [](size_t) { return true; };

int chosen_algo(const std::vector<ConvCandidate>& ranked, Precision p, int sm, bool det,
                const std::function<bool(size_t)>& memory = kAnyMemory) {
  const ConvChoice c = choose_conv_algorithm(ranked, p, sm, det, memory);
  return c.index < 0 ? -1 : ranked[static_cast<size_t>(c.index)].algo;
}

// On an H200 the heuristic may rank a TF32 tensor-op algorithm first even for fp32 data.
TEST(ConvAlgorithm, StrictFp32NeverTakesTf32OnAmpereOrNewer) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::tensor_op), candidate(2, M::default_math),
                                             candidate(3, M::fma)};
  EXPECT_EQ(chosen_algo(ranked, Precision::fp32, 9, false), 3);
  EXPECT_EQ(chosen_algo(ranked, Precision::fp32, 8, true), 3);
}

TEST(ConvAlgorithm, DefaultMathIsStrictBeforeAmpere) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::tensor_op), candidate(2, M::default_math),
                                             candidate(3, M::fma)};
  EXPECT_EQ(chosen_algo(ranked, Precision::fp32, 7, false), 2);
}

// Strict fp32 with only non-strict candidates: refused, and the reason is math, not memory.
TEST(ConvAlgorithm, StrictFp32WithoutStrictCandidatesSaysWhyWithoutBlamingMemory) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::tensor_op), candidate(2, M::default_math)};
  const ConvChoice c = choose_conv_algorithm(ranked, Precision::fp32, 9, false, kAnyMemory);
  EXPECT_EQ(c.index, -1);
  EXPECT_NE(c.why_none.find("fp32"), std::string::npos) << c.why_none;
  EXPECT_EQ(c.why_none.find("memory"), std::string::npos) << c.why_none;
}

TEST(ConvAlgorithm, NothingSupportedSaysSo) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::fma, true, 0, false)};
  const ConvChoice c = choose_conv_algorithm(ranked, Precision::fp32, 9, false, kAnyMemory);
  EXPECT_EQ(c.index, -1);
  EXPECT_NE(c.why_none.find("supports none"), std::string::npos) << c.why_none;
  EXPECT_EQ(c.why_none.find("memory"), std::string::npos) << c.why_none;
  EXPECT_EQ(choose_conv_algorithm({}, Precision::fp16, 9, false, kAnyMemory).index, -1);
}

// Backward wants determinism (bit-identical resumes): a deterministic strict algorithm further
// down the list beats a faster non-deterministic one; without one, the non-deterministic runs.
TEST(ConvAlgorithm, DeterminismFirstWhenWantedThenAny) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::fma, false), candidate(2, M::tensor_op, true),
                                             candidate(3, M::fma, true)};
  EXPECT_EQ(chosen_algo(ranked, Precision::fp32, 9, true), 3);
  EXPECT_EQ(chosen_algo(ranked, Precision::fp32, 9, false), 1);
  const std::vector<ConvCandidate> none_det = {candidate(1, M::tensor_op, true), candidate(2, M::fma, false)};
  EXPECT_EQ(chosen_algo(none_det, Precision::fp32, 9, true), 2);
}

// Reduced precision wants its own math (tensor cores) first, strict math only as a fallback.
TEST(ConvAlgorithm, ReducedPrecisionPrefersItsOwnMathThenFallsBackToStrict) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::fma), candidate(2, M::tensor_op),
                                             candidate(3, M::default_math)};
  EXPECT_EQ(chosen_algo(ranked, Precision::fp16, 9, false), 2);
  EXPECT_EQ(chosen_algo(ranked, Precision::bf16, 8, false), 2);
  EXPECT_EQ(chosen_algo(ranked, Precision::tf32, 8, false), 2);
  const std::vector<ConvCandidate> tf32_default = {candidate(1, M::fma), candidate(3, M::default_math)};
  EXPECT_EQ(chosen_algo(tf32_default, Precision::tf32, 8, false), 3);
  const std::vector<ConvCandidate> strict_only = {candidate(1, M::fma), candidate(4, M::fma)};
  EXPECT_EQ(chosen_algo(strict_only, Precision::fp16, 9, false), 1);
}

// TF32 is about fp32 data: converting it down to fp16 is not TF32.
TEST(ConvAlgorithm, Tf32NeverConvertsDataToFp16) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::tensor_op_allow_conversion),
                                             candidate(2, M::fma)};
  EXPECT_EQ(chosen_algo(ranked, Precision::tf32, 9, false), 2);
  EXPECT_FALSE(conv_math_keeps(M::tensor_op_allow_conversion, Precision::tf32, 9));
  EXPECT_TRUE(conv_math_keeps(M::tensor_op_allow_conversion, Precision::fp16, 9));
}

// A workspace that cannot be had passes the candidate over; when nothing is left, memory is named
// with the smallest workspace that was refused.
TEST(ConvAlgorithm, WorkspaceThatCannotBeHadFallsBackThenNamesMemory) {
  const std::vector<ConvCandidate> ranked = {candidate(1, M::fma, true, 1 << 30),
                                             candidate(2, M::fma, true, 1 << 20),
                                             candidate(3, M::fma, true, 0)};
  const auto below_2mib = [](size_t bytes) { return bytes < (2u << 20); };
  EXPECT_EQ(chosen_algo(ranked, Precision::fp32, 9, false, below_2mib), 2);
  const auto nothing = [](size_t) { return false; };
  EXPECT_EQ(chosen_algo(ranked, Precision::fp32, 9, false, nothing), 3);  // needs no workspace
  const std::vector<ConvCandidate> big = {candidate(1, M::fma, true, 1 << 30),
                                          candidate(2, M::fma, true, 1 << 20)};
  const ConvChoice c = choose_conv_algorithm(big, Precision::fp32, 9, false, nothing);
  EXPECT_EQ(c.index, -1);
  EXPECT_NE(c.why_none.find("memory"), std::string::npos) << c.why_none;
  EXPECT_NE(c.why_none.find(std::to_string(1 << 20)), std::string::npos) << c.why_none;
}

}  // namespace
}  // namespace catdog
