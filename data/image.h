// A decoded picture: 8-bit RGB, height x width x 3, row-major (the layout every decoder here
// produces and every resize reads).
#pragma once

#include <cstdint>
#include <vector>

namespace catdog {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // (height, width, 3)
};

}  // namespace catdog
