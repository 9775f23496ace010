#include "core/trace.h"

#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace catdog {

namespace trace_detail {
std::atomic<bool> recording{false};
}

namespace {

struct Event {
  const char* category;
  std::string name, args;
  int64_t ts_us, dur_us;
  int tid;
};

struct Recorder {
  std::mutex mu;
  std::vector<Event> events;
  size_t max_events = 0, dropped = 0;
  int64_t origin_ns = 0;
  std::map<int, std::string> thread_names;  // every thread ever named, by tid
};

Recorder& recorder() {
  static Recorder* r = new Recorder;  // never destroyed: spans may end during static destruction
  return *r;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::atomic<int> g_next_tid{1};
// This thread's row: small numbers in the order threads first record or are named.
int this_tid() {
  thread_local const int tid = g_next_tid.fetch_add(1, std::memory_order_relaxed);
  return tid;
}

void record(const char* category, std::string name, std::string args, int64_t begin_ns,
            int64_t end_ns) {
  Recorder& r = recorder();
  const int tid = this_tid();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!trace_on() || begin_ns < r.origin_ns) return;  // stopped, or begun before a restart
  if (r.events.size() >= r.max_events) {
    ++r.dropped;
    return;
  }
  // Whole microseconds, both ends floored: a span inside another stays inside after rounding.
  const int64_t ts = (begin_ns - r.origin_ns) / 1000, end = (end_ns - r.origin_ns) / 1000;
  r.events.push_back({category, std::move(name), std::move(args), ts, end - ts, tid});
}

}  // namespace

void trace_start(size_t max_events) {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mu);
  r.events.clear();
  r.events.shrink_to_fit();
  r.dropped = 0;
  r.max_events = max_events;
  r.origin_ns = now_ns();
  trace_detail::recording.store(true, std::memory_order_relaxed);
}

void trace_stop() { trace_detail::recording.store(false, std::memory_order_relaxed); }

void trace_name_thread(const std::string& name) {
  Recorder& r = recorder();
  const int tid = this_tid();
  std::lock_guard<std::mutex> lock(r.mu);
  r.thread_names[tid] = name;
}

TraceCounts trace_counts() {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mu);
  return {r.events.size(), r.dropped};
}

std::string trace_quote(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string trace_json() {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mu);
  const std::string pid = std::to_string(static_cast<long long>(getpid()));
  std::string out = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"catdog\"";
  out += ",\"events\":" + std::to_string(r.events.size());
  out += ",\"dropped_events\":" + std::to_string(r.dropped);
  out += ",\"max_events\":" + std::to_string(r.max_events);
  if (r.dropped > 0) {
    out += ",\"note\":" + trace_quote("capped: the last " + std::to_string(r.dropped) +
                                      " events were dropped (more than " +
                                      std::to_string(r.max_events) + ")");
  }
  out += "},\n\"traceEvents\":[\n";
  out += "{\"name\":\"process_name\",\"ph\":\"M\",\"ts\":0,\"pid\":" + pid +
         ",\"tid\":0,\"args\":{\"name\":\"catdog\"}}";
  std::set<int> tids;
  for (const Event& e : r.events) tids.insert(e.tid);
  for (int tid : tids) {
    const auto named = r.thread_names.find(tid);
    const std::string name =
        named != r.thread_names.end() ? named->second : "thread " + std::to_string(tid);
    out += ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"ts\":0,\"pid\":" + pid +
           ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":" + trace_quote(name) + "}}";
  }
  for (const Event& e : r.events) {
    out += ",\n{\"name\":" + trace_quote(e.name) + ",\"cat\":" + trace_quote(e.category) +
           ",\"ph\":\"X\",\"ts\":" + std::to_string(e.ts_us) +
           ",\"dur\":" + std::to_string(e.dur_us) + ",\"pid\":" + pid +
           ",\"tid\":" + std::to_string(e.tid) +
           ",\"args\":" + (e.args.empty() ? std::string("{}") : e.args) + "}";
  }
  out += "\n]}\n";
  return out;
}

TraceSpan::TraceSpan(const char* category, const char* name, const char* suffix)
    : category_(category) {
  if (trace_on()) begin(name, std::char_traits<char>::length(name), suffix);
}

TraceSpan::TraceSpan(const char* category, const std::string& name, const char* suffix)
    : category_(category) {
  if (trace_on()) begin(name.data(), name.size(), suffix);
}

void TraceSpan::begin(const char* name, size_t length, const char* suffix) {
  name_.assign(name, length);
  if (suffix) name_.append(" ").append(suffix);
  begin_ns_ = now_ns();
}

TraceSpan::~TraceSpan() {
  if (begin_ns_ < 0) return;
  try {
    record(category_, std::move(name_), std::move(args_), begin_ns_, now_ns());
  } catch (...) {
    // Out of memory while tracing: the event is lost, the run goes on.
  }
}

}  // namespace catdog
