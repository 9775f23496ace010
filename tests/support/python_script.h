// Running small Python snippets from tests: files written by an independent implementation
// (h5py, numpy) and checks that those libraries can read what we write.
//
// The interpreter is $CATDOG_PYTHON when set, else /usr/bin/python3 (Debian's, with python3-numpy,
// python3-h5py, python3-torch). Tests skip with a reason when it or a module is missing. Run from
// a bundle ($CATDOG_BUNDLE set), the interpreter starts without LD_LIBRARY_PATH.
#pragma once

#include <string>
#include <vector>

namespace catdog::test {

struct PythonResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// "" when the interpreter runs and imports every module in `modules`; otherwise the reason.
std::string python_unavailable_reason(const std::vector<std::string>& modules);
// Run `script` (Python source) with `args` (sys.argv[1:]); blocks until it ends.
PythonResult run_python(const std::string& script, const std::vector<std::string>& args = {});
// The same with another interpreter (a virtual environment with Keras 3, say).
PythonResult run_python_with(const std::string& interpreter, const std::string& script,
                             const std::vector<std::string>& args = {});

}  // namespace catdog::test

// Skip the current test, with the reason, when Python or one of the modules is missing.
#define CATDOG_REQUIRE_PYTHON(...)                                                             \
  do {                                                                                         \
    const std::string why_no_python = ::catdog::test::python_unavailable_reason({__VA_ARGS__}); \
    if (!why_no_python.empty()) GTEST_SKIP() << why_no_python;                                 \
  } while (0)

// Run a snippet that must succeed; on failure the test fails with the script's output.
#define CATDOG_RUN_PYTHON(result_var, ...)                                                     \
  const ::catdog::test::PythonResult result_var = ::catdog::test::run_python(__VA_ARGS__);     \
  ASSERT_EQ(result_var.exit_code, 0) << "python failed:\n" << result_var.output
