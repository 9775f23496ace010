// ProfileRange: one named span of host code on both timelines at once: Nsight Systems' (an NVTX
// range, in CUDA builds; a few nanoseconds with no profiler attached) and catdog's own trace
// (core/trace.h; one atomic load when it is not recording). Layer::forward/backward, the decode
// workers, the trainer's steps and the copies to and from the GPU are marked with it.
//   { ProfileRange range("layer", name_, "forward"); ... }   // "block1_conv1 forward"
#pragma once

#include <string>

#include "core/trace.h"
#if CATDOG_WITH_CUDA
#include "core/nvtx.h"
#endif

namespace catdog {

class ProfileRange {
 public:
  ProfileRange(const char* category, const std::string& name, const char* suffix = nullptr)
      :
#if CATDOG_WITH_CUDA
        nvtx_(suffix ? name + " " + suffix : name),
#endif
        trace_(category, name, suffix) {
  }
  ProfileRange(const char* category, const char* name, const char* suffix = nullptr)
      : ProfileRange(category, std::string(name), suffix) {}
  ProfileRange(const ProfileRange&) = delete;
  ProfileRange& operator=(const ProfileRange&) = delete;

  // The trace's span, for its arguments (build them only when trace().active()).
  TraceSpan& trace() { return trace_; }

 private:
#if CATDOG_WITH_CUDA
  NvtxRange nvtx_;
#endif
  TraceSpan trace_;
};

}  // namespace catdog
