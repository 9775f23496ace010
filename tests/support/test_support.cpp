#include "tests/support/test_support.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <unistd.h>

#include "core/error.h"
#include "core/random.h"

namespace fs = std::filesystem;

namespace catdog::test {

std::string shared_dir() {
  if (const char* env = std::getenv("CATDOG_SHARED"); env && *env) {
    return fs::is_directory(env) ? std::string(env) : std::string();
  }
  const fs::path beside = fs::path(CATDOG_SOURCE_DIR).parent_path() / "shared";
  return fs::is_directory(beside) ? beside.string() : std::string();
}

std::string shared_path(const std::string& relative) {
  const std::string root = shared_dir();
  if (root.empty()) return {};
  const fs::path p = fs::path(root) / relative;
  return fs::exists(p) ? p.string() : std::string();
}

std::string test_tmp_root() {
  if (const char* env = std::getenv("CATDOG_TEST_TMP"); env && *env) return env;
  return (fs::path(CATDOG_BINARY_DIR) / "test-tmp").string();
}

bool gpu_required() {
  const char* env = std::getenv("CATDOG_REQUIRE_GPU");
  return env && std::string(env) == "1";
}

std::string temp_dir(const std::string& name) {
  // ctest runs each test in its own process, several at once: the pid keeps two tests that use
  // the same name out of each other's way.
  const fs::path p = fs::path(test_tmp_root()) / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo, float hi) {
  Tensor t(shape);
  float* p = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) {
    p[i] = lo + (hi - lo) * static_cast<float>(uniform01(seed, 7, static_cast<uint64_t>(i)));
  }
  return t;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) continue;
    // NaN against a number (an element a kernel never wrote into a NaN-poisoned output) is as
    // far as it gets: std::max would drop the NaN and call it a match.
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : std::max(worst, d);
  }
  return worst;
}

double max_relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  double scale = 0;
  for (float v : b) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  return max_abs_difference(a, b) / std::max(scale, 1e-30);
}

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace catdog::test
