// The strict UTF-8 checker: follows the well-formed byte sequence table of Unicode 15, §3.9
// (table 3-7), which encodes exactly the overlong / surrogate / range rules by the allowed
// range of the second byte.
#include "text/utf8.h"

#include <cstdint>

namespace attnmt {

size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    uint8_t b = p[i];
    if (b < 0x80) {  // ASCII: the common case, one byte
      ++i;
      continue;
    }
    int len;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;  // 0xC0, 0xC1 would be overlong forms of ASCII
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;  // overlong below U+0800
      if (b == 0xED) hi = 0x9F;  // surrogates U+D800..U+DFFF
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;  // overlong below U+10000
      if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;  // continuation byte without a lead, or 0xF5..0xFF
    }
    if (i + len > n) return i;  // truncated at the end of the line
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (int k = 2; k < len; ++k)
      if ((p[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace attnmt
