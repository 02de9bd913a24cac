// Unicode helpers for the metrics: see unicode.h. The tables here are small on purpose; the
// lowercase mapping covers the cased scripts a translation test set is likely to contain.
#include "eval/unicode.h"

namespace attnmt::eval {

namespace {

// Letters that carry case, for the Greek final-sigma rule (an approximation of Unicode's
// "Cased" property over the scripts this file knows).
bool is_cased_letter(char32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x370 && c <= 0x3FF) ||
         (c >= 0x400 && c <= 0x52F) || (c >= 0x1E00 && c <= 0x1FFF);
}

// Skipped when looking for the letters around a sigma: apostrophes, soft hyphen, combining marks.
bool is_case_ignorable(char32_t c) {
  return c == 0x27 || c == 0xAD || c == 0x2019 || (c >= 0x300 && c <= 0x36F);
}

// The simple (one-to-one) lowercase mapping; U+0130 and final sigma are handled by the caller.
char32_t lower_simple(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x178) return 0xFF;
    if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    bool is_upper = odd_upper ? (c % 2 == 1) : (c % 2 == 0);
    return is_upper ? c + 1 : c;
  }
  if (c >= 0x370 && c <= 0x3FF) {
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
    if (c >= 0x3D8 && c <= 0x3EF && c % 2 == 0) return c + 1;
    return c;
  }
  if (c >= 0x400 && c <= 0x52F) {
    if (c <= 0x40F) return c + 80;
    if (c <= 0x42F) return c + 32;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F))
      return c % 2 == 0 ? c + 1 : c;
    if (c == 0x4C0) return 0x4CF;
    if (c >= 0x4C1 && c <= 0x4CE) return c % 2 == 1 ? c + 1 : c;
    return c;
  }
  if (c >= 0x531 && c <= 0x556) return c + 48;
  if (c >= 0x10A0 && c <= 0x10C5) return c + 0x1C60;
  if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF)) return c % 2 == 0 ? c + 1 : c;
  if (c == 0x1E9E) return 0xDF;
  if (c >= 0x2160 && c <= 0x216F) return c + 16;
  if (c >= 0x24B6 && c <= 0x24CF) return c + 26;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}

}  // namespace

bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

std::vector<std::string> split_whitespace(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (std::size_t i = 0; i < text.size();) {
    char32_t c;
    const std::size_t n = decode_utf8_at(text, i, &c);
    if (is_python_space(c)) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
    } else {
      current.append(text.substr(i, n));
    }
    i += n;
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

std::u32string remove_whitespace(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text)
    if (!is_python_space(c)) out.push_back(c);
  return out;
}

std::string rstrip_whitespace(std::string_view text) {
  std::u32string cps = decode_utf8(text);
  std::size_t end = cps.size();
  while (end > 0 && is_python_space(cps[end - 1])) --end;
  cps.resize(end);
  return encode_utf8(cps);
}

std::string to_lower(std::string_view text) {
  std::u32string cps = decode_utf8(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    char32_t c = cps[i];
    if (c == 0x130) {  // İ lowercases to i + combining dot above, as in Python
      append_utf8(out, 'i');
      append_utf8(out, 0x307);
    } else if (c == 0x3A3) {
      // Σ is final (ς) after a cased letter and not before one (Unicode's Final_Sigma).
      std::size_t j = i;
      while (j > 0 && is_case_ignorable(cps[j - 1])) --j;
      bool after_letter = j > 0 && is_cased_letter(cps[j - 1]);
      std::size_t k = i + 1;
      while (k < cps.size() && is_case_ignorable(cps[k])) ++k;
      bool before_letter = k < cps.size() && is_cased_letter(cps[k]);
      append_utf8(out, after_letter && !before_letter ? 0x3C2 : 0x3C3);
    } else {
      append_utf8(out, lower_simple(c));
    }
  }
  return out;
}

}  // namespace attnmt::eval
