// UTF-8 validation for corpus and input text: a strict checker (RFC 3629), so that bad bytes
// are reported with their file and line instead of surfacing later as garbled pieces.
// Not here: decoding to code points, normalisation (SentencePiece does NFKC itself).
#pragma once

#include <cstddef>
#include <string_view>

namespace attnmt {

// Returns the byte offset of the first invalid sequence, or std::string_view::npos when `s`
// is valid UTF-8. Rejects overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points
// above U+10FFFF, stray continuation bytes and sequences cut short.
size_t find_invalid_utf8(std::string_view s);

inline bool is_valid_utf8(std::string_view s) {
  return find_invalid_utf8(s) == std::string_view::npos;
}

}  // namespace attnmt
