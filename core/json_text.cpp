#include "core/json_text.h"

#include "core/error.h"

namespace catdog {
namespace {

// Appends `value` to `out` as compact JSON until `out` holds `max` characters. Each level writes
// at least one character before descending, so the recursion is at most `max` deep.
void append_excerpt(const nlohmann::json& value, std::string& out, size_t max) {
  if (out.size() >= max) return;
  if (value.is_array() || value.is_object()) {
    const bool object = value.is_object();
    out += object ? '{' : '[';
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (out.size() >= max) return;
      if (!first) out += ',';
      first = false;
      if (object) out += nlohmann::json(it.key()).dump() + ':';
      append_excerpt(it.value(), out, max);
    }
    out += object ? '}' : ']';
    return;
  }
  out += value.dump();
}

}  // namespace

int json_text_depth(const std::string& text, int stop_at) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest >= stop_at) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json parse_json_bounded(const std::string& text, const std::string& what, int max_depth) {
  CATDOG_CHECK(json_text_depth(text, max_depth + 1) <= max_depth, what, " nests deeper than ",
               max_depth, " levels of arrays and objects; no model needs that");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(what, " is not valid JSON: ", e.what());
  }
}

bool json_int_in(const nlohmann::json& value, int64_t lo, int64_t hi) {
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    return hi >= 0 && u <= static_cast<uint64_t>(hi) && (lo <= 0 || u >= static_cast<uint64_t>(lo));
  }
  if (!value.is_number_integer()) return false;
  const int64_t x = value.get<int64_t>();
  return lo <= x && x <= hi;
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  std::string out;
  append_excerpt(value, out, max_chars + 1);  // one more: tells a cut value from a full one
  if (out.size() > max_chars) {
    out.resize(max_chars);
    out += "...";
  }
  return out;
}

}  // namespace catdog
