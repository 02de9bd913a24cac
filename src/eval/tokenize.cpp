// sacreBLEU's BLEU tokenizers: see tokenize.h. The mteval-v13a rules are four regular-expression
// substitutions in sacreBLEU; each is written here as one left-to-right scan with the same
// non-overlapping match semantics as Python's re.sub. The scans work on UTF-8 bytes: every
// pattern is ASCII apart from a single "[^0-9]" character, and matching that on the last (or
// first) byte of a multi-byte character inserts the spaces exactly where Python would.
#include "eval/tokenize.h"

#include "eval/unicode.h"
#include "tensor/error.h"

namespace attnmt::eval {

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The character class [\{-\~\[-\` -\&\(-\+\:-\@\/] of mteval-v13a: ASCII punctuation and
// symbols except ' , - . (and the space, which the class also holds).
bool is_split_symbol(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == '/';
}

bool is_period_or_comma(char c) { return c == '.' || c == ','; }

}  // namespace

std::string tokenize_13a(std::string_view line) {
  // Language-independent part: the mteval unescaping, in mteval's order.
  std::string s(line);
  replace_all(s, "<skipped>", "");
  replace_all(s, "-\n", "");
  replace_all(s, "\n", " ");
  replace_all(s, "&quot;", "\"");
  replace_all(s, "&amp;", "&");
  replace_all(s, "&lt;", "<");
  replace_all(s, "&gt;", ">");
  // The padding lets a sentence-final period be split off (mteval's " $norm_text ").
  s = " " + s + " ";

  std::string out;
  out.reserve(s.size() * 2);
  // 1. Split off every punctuation/symbol character of the class.
  for (char c : s) {
    if (is_split_symbol(c)) {
      out += ' ';
      out += c;
      out += ' ';
    } else {
      out += c;
    }
  }
  s.swap(out);
  out.clear();
  // 2. ([^0-9])([\.,]) -> "\1 \2 ": period and comma unless preceded by a digit.
  for (std::size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && !is_digit(s[i]) && is_period_or_comma(s[i + 1])) {
      out += s[i];
      out += ' ';
      out += s[i + 1];
      out += ' ';
      i += 2;
    } else {
      out += s[i++];
    }
  }
  s.swap(out);
  out.clear();
  // 3. ([\.,])([^0-9]) -> " \1 \2": period and comma unless followed by a digit.
  for (std::size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && is_period_or_comma(s[i]) && !is_digit(s[i + 1])) {
      out += ' ';
      out += s[i];
      out += ' ';
      out += s[i + 1];
      i += 2;
    } else {
      out += s[i++];
    }
  }
  s.swap(out);
  out.clear();
  // 4. ([0-9])(-) -> "\1 \2 ": a dash after a digit.
  for (std::size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && is_digit(s[i]) && s[i + 1] == '-') {
      out += s[i];
      out += " - ";
      i += 2;
    } else {
      out += s[i++];
    }
  }
  // One space between tokens, none at the ends (Python's ' '.join(s.split())).
  std::string joined;
  for (const auto& word : split_whitespace(out)) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  return joined;
}

std::string tokenize_char(std::string_view line) {
  std::string out;
  out.reserve(line.size() * 2);
  bool first = true;
  for (char32_t c : decode_utf8(line)) {
    if (!first) out += ' ';
    append_utf8(out, c);
    first = false;
  }
  return out;
}

std::string tokenize(std::string_view line, Tokenizer tokenizer) {
  switch (tokenizer) {
    case Tokenizer::k13a:
      return tokenize_13a(line);
    case Tokenizer::kChar:
      return tokenize_char(line);
    case Tokenizer::kNone:
      break;
  }
  return std::string(line);
}

}  // namespace attnmt::eval
