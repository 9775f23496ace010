// scripts/fetch-assets.sh without the internet: checksum verification on a local file, a
// "download" from a file:// URL that verifies (the file appears under its final name) or does not
// (exit non-zero, nothing under the final name, a message with both checksums), and an
// unreachable server (a clear message, non-zero exit, no file left as if complete).
//
// The expected md5 is a published constant (md5 of "hello\n"), not computed by the script.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kHelloMd5 = "b1946ac92492d2347c6235b4d2611184";  // md5 of "hello\n"
constexpr const char* kWeightsName = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5";

struct ScriptResult {
  int exit_code = -1;
  std::string output;
};

// Run scripts/fetch-assets.sh with `args` and the environment assignments in `env`.
ScriptResult run_script(const std::string& env, const std::string& args) {
  const std::string command = env + " CATDOG_FETCH_RETRIES=0 bash " CATDOG_SOURCE_DIR
                              "/scripts/fetch-assets.sh " + args + " 2>&1";
  ScriptResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool have_tool(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string hello_file(const std::string& dir) {
  const std::string path = dir + "/hello.bin";
  std::ofstream(path) << "hello\n";
  return path;
}

TEST(FetchAssets, VerifyOnlyAcceptsTheRightMd5AndSize) {
  const std::string file = hello_file(catdog::test::temp_dir("fetch_verify_ok"));
  const ScriptResult r = run_script("", "--verify-only " + file + " " + kHelloMd5 + " 6");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verified"), std::string::npos) << r.output;
}

TEST(FetchAssets, VerifyOnlyRejectsAWrongMd5NamingBoth) {
  const std::string file = hello_file(catdog::test::temp_dir("fetch_verify_bad"));
  const std::string wrong = "00000000000000000000000000000000";
  const ScriptResult r = run_script("", "--verify-only " + file + " " + wrong);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(kHelloMd5), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(wrong), std::string::npos) << r.output;
}

TEST(FetchAssets, VerifyOnlyRejectsAWrongSize) {
  const std::string file = hello_file(catdog::test::temp_dir("fetch_verify_size"));
  const ScriptResult r = run_script("", "--verify-only " + file + " " + kHelloMd5 + " 7");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("size 6 bytes, expected 7"), std::string::npos) << r.output;
}

TEST(FetchAssets, DownloadThatVerifiesLandsUnderItsFinalName) {
  if (!have_tool("curl") && !have_tool("wget")) GTEST_SKIP() << "neither curl nor wget installed";
  const std::string dir = catdog::test::temp_dir("fetch_download_ok");
  const std::string source = hello_file(dir);
  const std::string assets = dir + "/assets";
  const ScriptResult r = run_script(
      "CATDOG_VGG16_URL=file://" + source + " CATDOG_VGG16_MD5=" + kHelloMd5 +
          " CATDOG_VGG16_SIZE=6",
      "--assets " + assets + " --weights-only");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(assets + "/" + kWeightsName)) << r.output;
  EXPECT_FALSE(fs::exists(assets + "/" + kWeightsName + ".part")) << r.output;
}

TEST(FetchAssets, DownloadThatDoesNotVerifyLeavesNoFinalFile) {
  if (!have_tool("curl") && !have_tool("wget")) GTEST_SKIP() << "neither curl nor wget installed";
  const std::string dir = catdog::test::temp_dir("fetch_download_bad");
  const std::string source = hello_file(dir);
  const std::string assets = dir + "/assets";
  const std::string wrong = "11111111111111111111111111111111";
  const ScriptResult r = run_script(
      "CATDOG_VGG16_URL=file://" + source + " CATDOG_VGG16_MD5=" + wrong +
          " CATDOG_VGG16_SIZE=6",
      "--assets " + assets + " --weights-only");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(assets + "/" + kWeightsName)) << r.output;
  EXPECT_FALSE(fs::exists(assets + "/" + kWeightsName + ".part")) << r.output;
  EXPECT_NE(r.output.find(wrong), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(kHelloMd5), std::string::npos) << r.output;
}

TEST(FetchAssets, UnreachableServerFailsClearlyAndLeavesNothingAsComplete) {
  if (!have_tool("curl") && !have_tool("wget")) GTEST_SKIP() << "neither curl nor wget installed";
  const std::string assets = catdog::test::temp_dir("fetch_offline") + "/assets";
  // Port 9 (discard) on localhost: refused at once, with or without the internet.
  const ScriptResult r = run_script("CATDOG_VGG16_URL=http://127.0.0.1:9/weights.h5",
                                    "--assets " + assets + " --weights-only");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("could not download the VGG16 weights"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rerun"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(assets + "/" + kWeightsName)) << r.output;
}

}  // namespace
