// The strict UTF-8 checker follows the well-formed byte sequence table of Unicode 15, §3.9
// (table 3-7), which encodes exactly the overlong / surrogate / range rules by the allowed
// range of the second byte. The decoder uses the same rule, one sequence at a time.
#include "text/utf8.h"

#include <algorithm>

#include <cstdint>

namespace attnmt {

namespace {

constexpr char32_t kEscapeBase = 0xDC80;  // surrogateescape: byte b -> U+DC80 + b (b >= 0x80)

// The length of the valid sequence starting at p[i] (its code point in *cp), or 0.
size_t sequence_at(const uint8_t* p, size_t n, size_t i, char32_t* cp) {
  uint8_t b = p[i];
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;  // 0xC0, 0xC1 would be overlong forms of ASCII
    *cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;  // overlong below U+0800
    if (b == 0xED) hi = 0x9F;  // surrogates U+D800..U+DFFF
    *cp = b & 0x0F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;  // overlong below U+10000
    if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
    *cp = b & 0x07;
  } else {
    return 0;  // continuation byte without a lead, or 0xF5..0xFF
  }
  if (i + len > n) return 0;  // cut short at the end
  if (p[i + 1] < lo || p[i + 1] > hi) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((p[i + k] & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (p[i + k] & 0x3F);
  }
  return len;
}

}  // namespace

size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  char32_t cp;
  for (size_t i = 0; i < n;) {
    if (p[i] < 0x80) {  // ASCII: the common case
      ++i;
      continue;
    }
    const size_t len = sequence_at(p, n, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

size_t decode_utf8_at(std::string_view text, size_t i, char32_t* cp, InvalidUtf8 invalid) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t len = sequence_at(p, text.size(), i, cp);
  if (len > 0) return len;
  *cp = invalid == InvalidUtf8::kEscape ? kEscapeBase + p[i] : U'\uFFFD';
  return 1;
}

std::string find_text_problem(std::string_view line) {
  constexpr const char* kFromUtf16 = "convert it with iconv -f UTF-16 -t UTF-8";
  if (line.starts_with("\xFF\xFE") || line.starts_with("\xFE\xFF"))
    return std::string("a UTF-16 byte-order mark: the file is UTF-16 text; ") + kFromUtf16;
  const size_t nul = line.find('\0');
  if (nul != std::string_view::npos) {
    const auto nuls = static_cast<size_t>(std::count(line.begin(), line.end(), '\0'));
    // UTF-16 of mostly ASCII text: every other byte is NUL (the newline splits it oddly).
    if (nuls * 3 >= line.size())
      return "NUL bytes (the first at byte " + std::to_string(nul + 1) +
             "): the file looks like UTF-16 text; " + kFromUtf16;
    return "a NUL byte at byte " + std::to_string(nul + 1) +
           ": this is not a text file (or it is damaged)";
  }
  const size_t bad = find_invalid_utf8(line);
  if (bad == std::string_view::npos) return {};
  return "invalid UTF-8 at byte " + std::to_string(bad + 1) +
         "; convert the file to UTF-8 (e.g. with iconv)";
}

std::u32string decode_utf8(std::string_view text, InvalidUtf8 invalid) {
  std::u32string out;
  out.reserve(text.size());
  char32_t cp;
  for (size_t i = 0; i < text.size();) {
    i += decode_utf8_at(text, i, &cp, invalid);
    out.push_back(cp);
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c >= kEscapeBase + 0x80 && c <= kEscapeBase + 0xFF) {  // an escaped invalid byte
    out.push_back(static_cast<char>(c - kEscapeBase));
  } else if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) append_utf8(out, c);
  return out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char32_t c : decode_utf8(s, InvalidUtf8::kReplace)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most C0 controls and U+FFFE/U+FFFF even as character references.
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF)
          c = 0xFFFD;
        append_utf8(out, c);
    }
  }
  return out;
}

}  // namespace attnmt
