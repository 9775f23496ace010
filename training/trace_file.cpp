#include "training/trace_file.h"

#include <filesystem>

#include "core/error.h"
#include "core/trace.h"
#include "weights/atomic_file.h"

namespace catdog {

TraceFile::TraceFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  const std::filesystem::path target(regular_write_target(path_));
  const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : ".";
  CATDOG_CHECK(std::filesystem::is_directory(folder), "--trace ", path_, ": the folder ",
               folder.string(), " does not exist");
  trace_name_thread("trainer");
  trace_start();
}

TraceFile::~TraceFile() {
  if (path_.empty() || done_) return;
  try {
    finish();
  } catch (...) {
    // The run's own error is the one to report.
  }
}

std::string TraceFile::finish() {
  if (path_.empty() || done_) return "";
  done_ = true;
  trace_stop();
  const TraceCounts counts = trace_counts();
  atomic_write_file(path_, trace_json());
  return cat("Trace written to ", path_, ": ", counts.events, " events",
             counts.dropped ? cat(" (capped: ", counts.dropped, " more were dropped)") : "",
             "; open it in ui.perfetto.dev or chrome://tracing");
}

}  // namespace catdog
