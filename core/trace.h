// The run's timeline as a Chrome Trace Event Format file (`catdog train --trace FILE.json`), which
// Perfetto (ui.perfetto.dev) and chrome://tracing open: one row per thread (the trainer, each
// decode worker), one bar per span (a decoded photo, a batch, a step, a layer's forward or
// backward, a copy to or from the GPU, the feature cache's fill).
//
// A process-wide recorder, off by default. Off, a span costs one relaxed atomic load; on, each
// finished span appends one "complete" event ({"ph": "X", "name", "cat", "ts", "dur", "pid",
// "tid", "args"}, times in microseconds since trace_start) under a mutex. Spans of one thread
// nest, since each is a scope. Events past the cap are counted and dropped, and the file says so.
//
// The format (the Trace Event Format document): a JSON object {"traceEvents": [...],
// "displayTimeUnit": "ms", "otherData": {...}}; "ph": "M" metadata events named "thread_name"
// and "process_name" label the rows.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace catdog {

namespace trace_detail {
extern std::atomic<bool> recording;
}

// Whether spans are recorded now.
inline bool trace_on() { return trace_detail::recording.load(std::memory_order_relaxed); }

// Forget earlier events and record from now on (time 0 is now), at most `max_events` of them.
void trace_start(size_t max_events = 1000000);
// Stop recording; the events stay until the next trace_start.
void trace_stop();

// The calling thread's row label ("trainer", "decode worker 3"). Kept whether or not a trace is
// recording, so that threads started before trace_start are named too.
void trace_name_thread(const std::string& name);

struct TraceCounts {
  size_t events = 0;   // complete events kept
  size_t dropped = 0;  // past the cap
};
TraceCounts trace_counts();

// The recorded events as the Trace Event Format's JSON object (thread names for every thread
// that has an event).
std::string trace_json();

// `text` as a JSON string, quotes included (for set_args; bytes that are not UTF-8 become U+FFFD).
std::string trace_quote(const std::string& text);

// A span: from construction to destruction, one complete event on this thread's row, named
// `name` (with " " and `suffix` appended when given). Nothing is built or recorded when the trace
// is off at construction.
class TraceSpan {
 public:
  TraceSpan(const char* category, const char* name, const char* suffix = nullptr);
  TraceSpan(const char* category, const std::string& name, const char* suffix = nullptr);
  ~TraceSpan();
  TraceSpan(const TraceSpan&) = delete;
  TraceSpan& operator=(const TraceSpan&) = delete;

  // Whether this span is recorded: build its arguments only then.
  bool active() const { return begin_ns_ >= 0; }
  // The event's "args": a JSON object's text, e.g. {"bytes": 1024}.
  void set_args(std::string json_object) { args_ = std::move(json_object); }

 private:
  void begin(const char* name, size_t length, const char* suffix);

  const char* category_;
  std::string name_, args_;
  int64_t begin_ns_ = -1;  // -1: not recording
};

}  // namespace catdog
