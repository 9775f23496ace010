#include "tests/support/python_script.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "tests/support/test_support.h"

namespace catdog::test {
namespace {

std::string interpreter() {
  if (const char* env = std::getenv("CATDOG_PYTHON"); env && *env) return env;
  return "/usr/bin/python3";
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

PythonResult run_python(const std::string& script, const std::vector<std::string>& args) {
  return run_python_with(interpreter(), script, args);
}

PythonResult run_python_with(const std::string& python, const std::string& script,
                             const std::vector<std::string>& args) {
  static std::atomic<int> counter{0};
  // The script goes through a file, not `-c`, so that quotes and newlines need no escaping.
  const std::string dir = test_tmp_root();
  std::string path = dir + "/snippet-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter++) + ".py";
  std::system(("mkdir -p " + shell_quote(dir)).c_str());
  {
    std::ofstream out(path);
    out << script;
  }
  // From a bundle (catdog-bundle/run), LD_LIBRARY_PATH holds the bundle's libraries, which are
  // for catdog's processes only: the device's Python must load its own.
  const char* bundle = std::getenv("CATDOG_BUNDLE");
  std::string command = std::string(bundle && *bundle ? "env -u LD_LIBRARY_PATH " : "") +
                        shell_quote(python) + " " + shell_quote(path);
  for (const std::string& arg : args) command += " " + shell_quote(arg);
  command += " 2>&1";
  PythonResult result;
  if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
    int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::remove(path.c_str());
  return result;
}

std::string python_unavailable_reason(const std::vector<std::string>& modules) {
  static std::map<std::vector<std::string>, std::string> cache;
  auto found = cache.find(modules);
  if (found != cache.end()) return found->second;
  std::string reason;
  if (::access(interpreter().c_str(), X_OK) != 0) {
    reason = "no Python at " + interpreter() + " (set CATDOG_PYTHON)";
  } else {
    std::string script = "import sys\n";
    for (const std::string& m : modules) script += "import " + m + "\n";
    PythonResult r = run_python(script);
    if (r.exit_code != 0)
      reason = interpreter() + " cannot import the modules this test needs: " + r.output;
  }
  cache[modules] = reason;
  return reason;
}

}  // namespace catdog::test
