// Unicode helpers for the metrics: the few Python `str` behaviours
// sacreBLEU relies on (str.split() / str.rstrip() whitespace, str.lower()), so that our scores
// match sacreBLEU's on non-ASCII text too.
// Not here: Unicode categories (letters, punctuation, symbols); normalisation (NFC/NFKC).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/utf8.h"

namespace attnmt::eval {

// UTF-8 <-> code points are text/utf8.h's; the metrics decode with Python's "surrogateescape"
// (an invalid byte becomes U+DC80 + byte), so that no input is lost.
using attnmt::append_utf8;
using attnmt::decode_utf8;
using attnmt::encode_utf8;
using attnmt::find_invalid_utf8;

// Whitespace as Python's str.split() sees it (ASCII blanks, U+0085, U+00A0, U+1680,
// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, and U+001C..U+001F).
bool is_python_space(char32_t c);

// Python's `text.split()`: the non-empty runs between whitespace.
std::vector<std::string> split_whitespace(std::string_view text);
// Python's `''.join(text.split())`: `text` with every whitespace character removed.
std::u32string remove_whitespace(std::u32string_view text);
// Python's `text.rstrip()`.
std::string rstrip_whitespace(std::string_view text);

// Python's `text.lower()` for ASCII, Latin-1, Latin Extended-A and Additional, Greek, Cyrillic,
// Armenian and fullwidth Latin (every script a translation corpus here is likely to hold with
// case); other characters are left as they are.
std::string to_lower(std::string_view text);

}  // namespace attnmt::eval
