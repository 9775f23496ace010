// benchmarks/peer/cpu_peers.py in its smoke size: the VGG16 conv base at 32x32, 0.5 s per engine,
// batches 1 and 2, in ONNX Runtime, OpenVINO, TensorFlow (and Debian's PyTorch when
// /usr/bin/python3 has torch) against catdog. The script itself fails when an engine's output
// differs from catdog's by more than 1e-4 of its largest value; this test also reads the table
// and checks every engine has a row, a rate per batch and an agreement within that bound. So a
// wrong padding or a missing ReLU in a peer's graph fails here, as does a catdog that drifts
// from all four.
//
// It needs the peers' venv (scripts/setup-peers.sh): $CATDOG_PEERS_VENV, else .venv-peers in the
// source tree; skipped with the reason without it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <unistd.h>

#include "tests/support/python_script.h"

namespace catdog {
namespace {

std::string peers_python() {
  const char* env = std::getenv("CATDOG_PEERS_VENV");
  const std::string venv = env && *env ? env : std::string(CATDOG_SOURCE_DIR) + "/.venv-peers";
  return venv + "/bin/python";
}

// The table's data rows ("| engine | ... |"), without the header and the ruler.
std::vector<std::vector<std::string>> table_rows(const std::string& output) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| ", 0) != 0 || line.rfind("| engine", 0) == 0) continue;
    std::vector<std::string> cells;
    std::istringstream parts(line.substr(1));
    for (std::string cell; std::getline(parts, cell, '|');) {
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    rows.push_back(cells);
  }
  return rows;
}

TEST(CpuPeers, SmokeRunAgreesWithCatdogAndPrintsTheTable) {
  const std::string python = peers_python();
  if (::access(python.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no peers venv at " << python
                 << " (make it with scripts/setup-peers.sh, or set CATDOG_PEERS_VENV)";
  }
  const test::PythonResult probe = test::run_python_with(
      python, "import onnx, onnxruntime, openvino, tensorflow, tf_keras, h5py, numpy\n");
  if (probe.exit_code != 0) GTEST_SKIP() << python << " lacks a peer: " << probe.output;
  const std::string bench = std::string(CATDOG_BINARY_DIR) + "/benchmarks/cpu_conv_bench";
  if (::access(bench.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no " << bench << " in this build (CATDOG_BUILD_BENCHMARKS=OFF): catdog's timing";
  }
  const bool with_torch =
      test::run_python_with("/usr/bin/python3", "import torch, h5py, numpy\n").exit_code == 0;
  if (!with_torch) std::cout << "no torch in /usr/bin/python3: the PyTorch row is left out\n";

  std::vector<std::string> args = {"--image-size", "32", "--seconds", "0.5", "--batches", "1", "2",
                                   "--build", CATDOG_BINARY_DIR, "--engines", "onnxruntime",
                                   "openvino", "tensorflow", "catdog"};
  if (with_torch) args.push_back("torch");
  const std::string run_script =
      "import runpy, sys\n"
      "sys.argv = ['cpu_peers.py'] + sys.argv[1:]\n"
      "runpy.run_path('" CATDOG_SOURCE_DIR "/benchmarks/peer/cpu_peers.py', run_name='__main__')\n";
  const test::PythonResult r = test::run_python_with(python, run_script, args);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const auto rows = table_rows(r.output);
  const std::vector<std::string> engines = {"ONNX Runtime", "OpenVINO", "TensorFlow", "catdog"};
  ASSERT_EQ(rows.size(), engines.size() + (with_torch ? 1 : 0)) << r.output;
  for (const std::string& engine : engines) {
    bool found = false;
    for (const auto& row : rows) found = found || row[0].rfind(engine, 0) == 0;
    EXPECT_TRUE(found) << engine << " has no row:\n" << r.output;
  }
  for (const auto& row : rows) {
    // engine, 2 rates, 2 ratios, the agreement.
    ASSERT_EQ(row.size(), 6u) << r.output;
    for (int batch = 1; batch <= 2; ++batch) EXPECT_GT(std::stod(row[batch]), 0.0) << row[0];
    EXPECT_LE(std::stod(row[5]), 1e-4) << row[0] << " disagrees with catdog:\n" << r.output;
  }
  std::cout << r.output;
}

}  // namespace
}  // namespace catdog
