#include "data/log.h"

#include <iostream>
#include <mutex>

#include "core/one_line.h"

namespace catdog {
namespace {

// One lock serialises the sink itself and the calls through it, so a sink need not be
// thread-safe and lines from different workers never interleave.
std::mutex& sink_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::function<void(const std::string&)>& current_sink() {
  static std::function<void(const std::string&)> sink;
  return sink;
}

}  // namespace

void set_warning_sink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  current_sink() = std::move(sink);
}

void warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (current_sink()) {
    current_sink()(message);
  } else {
    std::cerr << "warning: " << one_line(message) << "\n";
  }
}

}  // namespace catdog
