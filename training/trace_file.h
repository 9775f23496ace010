// `--trace FILE.json`: a run's timeline in the Chrome Trace Event Format (core/trace.h records
// it), written atomically when the run ends: normally, stopped by Ctrl-C, or by an error.
#pragma once

#include <string>

namespace catdog {

class TraceFile {
 public:
  // Starts recording when `path` is not empty (refusing a path that cannot be a file, at once).
  explicit TraceFile(std::string path);
  // Writes the file if finish() did not (an error ends the run), quietly.
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  // Stops recording and writes the file. Returns the line saying what was written ("" when
  // there is no trace); throws catdog::Error when the file cannot be written.
  std::string finish();

 private:
  std::string path_;
  bool done_ = false;
};

}  // namespace catdog
