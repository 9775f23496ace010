// JSON from files, bounded: a parse that refuses nesting deeper than any Keras config needs (so
// nothing recursive, nlohmann's dump() included, can run out of stack on it), and a short excerpt
// of a value for error messages (so a message stays one readable line).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace catdog {

// Keras model configs nest about 10 levels (model, layers, layer, config, initializer, config);
// 64 leaves room for anything real.
constexpr int kMaxJsonDepth = 64;

// Parses `text`; throws catdog::Error starting with `what` when it is not JSON or nests deeper
// than `max_depth` arrays/objects (checked before parsing, by a scan that keeps no stack).
nlohmann::json parse_json_bounded(const std::string& text, const std::string& what,
                                  int max_depth = kMaxJsonDepth);

// The depth of the deepest array/object in `text` (0 for a scalar), counting brackets outside
// strings. Stops counting at `stop_at`.
int json_text_depth(const std::string& text, int stop_at);

// Whether `value` is an integer in [lo, hi], read without narrowing (get<int>() made 2^32+1 a 1
// and 2^31 a -2^31).
bool json_int_in(const nlohmann::json& value, int64_t lo, int64_t hi);

// `value` as compact JSON (what dump() writes), cut to at most `max_chars` characters plus "...".
// Never descends further than max_chars levels, so it is safe on any value.
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 200);

}  // namespace catdog
