#include "io/json.h"

#include <fmt/format.h>

#include "text/utf8.h"

namespace attnmt {

std::string json_escape(std::string_view s) {
  std::string out;
  for (char32_t c : decode_utf8(s, InvalidUtf8::kReplace)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
          append_utf8(out, c);
    }
  }
  return out;
}

}  // namespace attnmt
