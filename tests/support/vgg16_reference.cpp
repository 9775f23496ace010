#include "tests/support/vgg16_reference.h"

#include <gtest/gtest.h>

#include "tests/support/python_script.h"
#include "tests/support/test_support.h"

namespace catdog::test {

const Vgg16Conv kVgg16Convs[13] = {
    {"block1_conv1", 3, 64},    {"block1_conv2", 64, 64},   {"block2_conv1", 64, 128},
    {"block2_conv2", 128, 128}, {"block3_conv1", 128, 256}, {"block3_conv2", 256, 256},
    {"block3_conv3", 256, 256}, {"block4_conv1", 256, 512}, {"block4_conv2", 512, 512},
    {"block4_conv3", 512, 512}, {"block5_conv1", 512, 512}, {"block5_conv2", 512, 512},
    {"block5_conv3", 512, 512}};

std::string make_vgg16_reference_h5(const std::string& dir, uint64_t seed, bool vlen,
                                    std::string* why) {
  std::string script = shared_path("reference/make_reference.py");
  if (script.empty()) {
    *why = "shared/reference/make_reference.py not found: put the shared folder at ../shared";
    return "";
  }
  *why = python_unavailable_reason({"numpy", "h5py"});
  if (!why->empty()) return "";
  std::string out = dir + "/vgg16_seed" + std::to_string(seed) + (vlen ? "_vlen.h5" : ".h5");
  std::vector<std::string> args = {script, "vgg16-h5", std::to_string(seed), out};
  if (vlen) args.push_back("--vlen");
  PythonResult r = run_python(
      "import sys, runpy\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n",
      args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code != 0) *why = "make_reference.py failed";
  return r.exit_code == 0 ? out : "";
}

}  // namespace catdog::test
