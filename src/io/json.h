// The JSON text writer of the project's hand-made JSON lines (alignments, scores): strings
// escaped as RFC 8259 asks (quotes, backslashes, control characters as \uXXXX), invalid
// UTF-8 replaced by U+FFFD so that the output always parses.
// Not here: a JSON reader or a document model (the server uses nlohmann-json for those).
#pragma once

#include <string>
#include <string_view>

namespace attnmt {

std::string json_escape(std::string_view s);  // without the surrounding quotes
inline std::string json_string(std::string_view s) { return '"' + json_escape(s) + '"'; }

}  // namespace attnmt
