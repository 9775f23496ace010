// Profiling marks that cost nothing when unused: NvtxRange names a span of host code on the Nsight
// Systems timeline (layers' forward/backward, pipeline stages). Without the CUDA backend it is an
// empty object, so callers never need an #if.
#pragma once

#if CATDOG_WITH_CUDA
#include "core/nvtx.h"
#else
#include <string>

namespace catdog {

class NvtxRange {
 public:
  explicit NvtxRange(const char*) {}
  explicit NvtxRange(const std::string&) {}
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace catdog
#endif
