// Durations as people read them: "0.42 s", "45.0 s", "3 min 05 s", "1 h 02 min".
#pragma once

#include <string>

namespace catdog {

std::string human_duration(double seconds);

}  // namespace catdog
