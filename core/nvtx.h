// NvtxRange: a named range on the Nsight Systems timeline for as long as the object lives.
//   { NvtxRange range("conv2d block1_conv1 forward"); ... }
// NVTX v3 is header-only; with no profiler attached each range costs a few nanoseconds.
// Include core/profiling.h instead of this file: its ProfileRange is one in CUDA builds, and
// also records into catdog's own trace (core/trace.h).
#pragma once

#include <nvtx3/nvToolsExt.h>

#include <string>

namespace catdog {

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  explicit NvtxRange(const std::string& name) { nvtxRangePushA(name.c_str()); }
  ~NvtxRange() { nvtxRangePop(); }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace catdog
