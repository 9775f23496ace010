// The default destination of the data pipeline's warnings (a file that could not be decoded, a
// skipped image): stderr, or a process-wide sink. A caller that wants them somewhere of its own
// passes PipelineOptions::warning instead (the trainer does: into the run's train.log).
#pragma once

#include <functional>
#include <string>

namespace catdog {

// Send every later warning to `sink` (called from worker threads, one call at a time). nullptr
// restores the default: "warning: <message>" on stderr.
void set_warning_sink(std::function<void(const std::string&)> sink);

// Report one warning through the current sink. Thread-safe.
void warn(const std::string& message);

}  // namespace catdog
