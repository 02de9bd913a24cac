// UTF-8, once for the whole project: the strict validator that corpus and input readers use
// (so that bad bytes are reported with their file and line instead of surfacing later as
// garbled pieces), and decoding to / encoding from code points for the metrics, the alignment
// formats and the SVG labels.
// Not here: normalisation (SentencePiece does NFKC itself), Python's string rules for the
// metrics (eval/unicode.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace attnmt {

// Returns the byte offset of the first invalid sequence, or std::string_view::npos when `s`
// is valid UTF-8. Rejects overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points
// above U+10FFFF, stray continuation bytes and sequences cut short.
size_t find_invalid_utf8(std::string_view s);

inline bool is_valid_utf8(std::string_view s) {
  return find_invalid_utf8(s) == std::string_view::npos;
}

// Why `line` (one line of a text file) is not UTF-8 text, or "" when it is: invalid UTF-8 or a
// NUL byte (UTF-8 allows U+0000, text files do not), with the remedy, and a hint when the bytes
// look like UTF-16 (a UTF-16 byte-order mark, or NUL in every other byte).
std::string find_text_problem(std::string_view line);

// What decoding does with each byte that does not start a valid sequence.
enum class InvalidUtf8 {
  kReplace,  // U+FFFD (for display: JSON, SVG)
  kEscape,   // U+DC80 + byte, Python's "surrogateescape": encode_utf8 gives the bytes back
};

std::u32string decode_utf8(std::string_view text, InvalidUtf8 invalid = InvalidUtf8::kEscape);
// Decodes the code point at text[i] (i < size) into *cp; returns the bytes it takes (1 for an
// invalid byte, decoded as `invalid` says).
size_t decode_utf8_at(std::string_view text, size_t i, char32_t* cp,
                      InvalidUtf8 invalid = InvalidUtf8::kEscape);
// Appends one code point; an escaped byte (U+DC80..U+DCFF) is written back as that byte.
void append_utf8(std::string& out, char32_t c);
std::string encode_utf8(std::u32string_view text);

// Escapes for XML text and attribute values (SVG files): & < > " ', and replaces characters
// XML 1.0 forbids with U+FFFD.
std::string xml_escape(const std::string& s);

}  // namespace attnmt
