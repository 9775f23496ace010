// Text for one line of a terminal or a log, whatever a file name holds.
#pragma once

#include <string>

namespace catdog {

// `text` as one line: every control character (a newline or tab in a file name, an escape that
// would rewrite the terminal) written as a C escape (\n, \t, \x1b). Every message, warning and log
// line goes out through it, so a file name can never split one line into two.
inline std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

}  // namespace catdog
