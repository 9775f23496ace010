// Errors are values people can act on: every failure says what was being done, with which file,
// layer or shape. catdog::Error is what the library throws; the program catches it, prints the
// message on one line and exits non-zero.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace catdog {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append(out, rest...);
}
}  // namespace detail

// cat("layer ", name, ": expected ", a, " got ", b) -> one string.
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  return out.str();
}

// Throw catdog::Error with the parts joined, e.g. fail("conv2d_1: kernel ", to_string(s)).
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(cat(parts...));
}

// Check a condition that bad *input* can break (not a programming error): throws with the message.
#define CATDOG_CHECK(cond, ...)                  \
  do {                                           \
    if (!(cond)) ::catdog::fail(__VA_ARGS__);    \
  } while (0)

}  // namespace catdog
