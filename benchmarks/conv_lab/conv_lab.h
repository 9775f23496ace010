// The 3x3 convolution lab (README.md here): numbered versions of one kernel, each a file
// vN_*.cpp that registers itself, all driven by conv_lab.cpp, which checks every version against
// version 1 and times it against the machine's measured FMA peak.
//
// A version gets the problem (NHWC input, HWIO kernel, bias, relu after) and returns the body to
// time; untimed setup that the product does once per frozen kernel (a filter transform, a packed
// kernel) happens before it returns. Version numbers: 1 naive, 2 im2col + OpenBLAS (the
// product's), 3 direct register-blocked (kernels/cpu/conv_direct*), 4 Winograd.
#pragma once

#include <functional>
#include <string>

#include "kernels/cpu/conv_geometry.h"

namespace catdog::lab {

struct LabProblem {
  WindowGeometry g;  // 3x3, stride 1, 'same', relu
  const float* x = nullptr;
  const float* kernel = nullptr;
  const float* bias = nullptr;
};

using TimedBody = std::function<void(float* y)>;

struct LabVersion {
  int number = 0;
  std::string name;  // what the row says, e.g. "winograd F(4x4,3x3)"
  std::function<TimedBody(const LabProblem&)> prepare;
  double tolerance = 1e-4;  // max relative error against version 1 (bf16 rounds more: its own)
};

// Called from each version file's static initialiser; returns true so it can initialise a bool.
bool register_lab_version(LabVersion version);

}  // namespace catdog::lab
