// Helpers shared by the test suites: where the shared data is, skipping cleanly when it or a GPU
// is absent, random tensors, and comparisons that print the largest difference.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "core/tensor.h"

namespace catdog::test {

// The shared folder (data/, weights/, reference/): $CATDOG_SHARED when set, else ../shared beside
// the source tree. Empty when neither exists.
std::string shared_dir();
// shared_dir() + "/" + relative, or "" when the shared folder or that path is absent.
std::string shared_path(const std::string& relative);
// Where tests write their files: $CATDOG_TEST_TMP when set (an unpacked bundle), else
// test-tmp/ under the build tree.
std::string test_tmp_root();
// A fresh empty directory under test_tmp_root() for one test's files.
std::string temp_dir(const std::string& name);

// The message of the catdog::Error that `action` throws; "(no error)" when it throws none.
std::string error_message(const std::function<void()>& action);
// True when $CATDOG_REQUIRE_GPU is 1 (scripts/gpu-check.sh on a lent GPU): a GPU test that would
// skip fails instead, so that a broken driver cannot pass as "nothing to check".
bool gpu_required();

// A float32 CPU tensor with elements uniform in [lo, hi), drawn from (seed, stream) (core/random.h).
Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

// max |a - b| / max(max |b|, tiny): the relative error the reference fixtures are judged by.
// A NaN on one side only (an unwritten element of a NaN-poisoned output) counts as infinite.
double max_relative_error(const std::vector<float>& a, const std::vector<float>& b);
double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace catdog::test

// Skip the current test, with the reason, when the shared file or folder is missing.
#define CATDOG_REQUIRE_SHARED(var, relative)                                                    \
  const std::string var = ::catdog::test::shared_path(relative);                               \
  if (var.empty())                                                                             \
  GTEST_SKIP() << "shared data '" << (relative)                                                \
               << "' not found: put the shared folder at ../shared or set CATDOG_SHARED"

// Skip the current test, with the reason, when no GPU can be used; fail it instead when
// $CATDOG_REQUIRE_GPU=1.
#define CATDOG_REQUIRE_GPU()                                                                    \
  do {                                                                                         \
    std::string why_no_gpu;                                                                    \
    if (!::catdog::cuda_available(&why_no_gpu)) {                                              \
      if (::catdog::test::gpu_required())                                                      \
        GTEST_FAIL() << "no GPU, and CATDOG_REQUIRE_GPU=1: " << why_no_gpu;                    \
      GTEST_SKIP() << "no GPU: " << why_no_gpu;                                                \
    }                                                                                          \
  } while (0)

// True in a build under AddressSanitizer, whose shadow memory needs terabytes of address space:
// a child under RLIMIT_AS (the tests' stand-in for a machine out of memory) cannot start there.
#if defined(__SANITIZE_ADDRESS__)
#define CATDOG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CATDOG_UNDER_ASAN 1
#endif
#endif
#ifndef CATDOG_UNDER_ASAN
#define CATDOG_UNDER_ASAN 0
#endif
#define CATDOG_SKIP_UNDER_ASAN_FOR_ADDRESS_LIMIT()                                              \
  do {                                                                                         \
    if (CATDOG_UNDER_ASAN) {                                                                   \
      GTEST_SKIP() << "AddressSanitizer cannot start under RLIMIT_AS; the Release suite runs this"; \
    }                                                                                          \
  } while (0)
