// Word merging, EOS removal and the text formats of alignments; UTF-8 and escaping helpers.
// See alignment.h. The SVG heatmap is in alignment_svg.cpp.
#include "decode/alignment.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "decode/symmetrize.h"
#include "io/json.h"
#include "tensor/error.h"
#include "text/utf8.h"

namespace attnmt {

namespace {

bool is_special(const std::string& token) { return token == kEosToken || token == "<s>"; }

bool starts_with_boundary(const std::string& token) {
  return token.compare(0, 3, kWordBoundary) == 0;
}

// Piece ranges [begin, end) of each word, and the word strings.
struct Words {
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<std::string> text;
};

Words group_words(const std::vector<std::string>& pieces) {
  Words w;
  for (size_t k = 0; k < pieces.size(); ++k) {
    bool starts = k == 0 || starts_with_boundary(pieces[k]) || is_special(pieces[k]) ||
                  is_special(pieces[k - 1]);
    if (starts) w.spans.emplace_back(k, k + 1);
    else w.spans.back().second = k + 1;
  }
  for (auto [b, e] : w.spans) {
    std::string word;
    for (size_t k = b; k < e; ++k) {
      const std::string& p = pieces[k];
      for (size_t pos = 0; pos < p.size();) {
        if (p.compare(pos, 3, kWordBoundary) == 0) pos += 3;
        else word += p[pos++];
      }
    }
    w.text.push_back(word.empty() ? std::string(kWordBoundary) : word);
  }
  return w;
}

// Scales a row to sum to 1; an all-zero row becomes uniform.
void renormalise(std::vector<float>& row) {
  if (row.empty()) return;
  double sum = 0;
  for (float v : row) sum += v;
  if (sum > 0) {
    for (float& v : row) v = static_cast<float>(v / sum);
  } else {
    for (float& v : row) v = 1.0f / static_cast<float>(row.size());
  }
}

std::string fixed(float v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

}  // namespace

void check_alignment(const Alignment& a) {
  ATTNMT_CHECK(a.weights.size() == a.tgt_tokens.size(),
               "alignment has {} rows for {} target tokens", a.weights.size(), a.tgt_tokens.size());
  for (size_t j = 0; j < a.weights.size(); ++j) {
    ATTNMT_CHECK(a.weights[j].size() == a.src_tokens.size(),
                 "alignment row {} has {} weights for {} source tokens", j, a.weights[j].size(),
                 a.src_tokens.size());
    for (float v : a.weights[j])
      ATTNMT_CHECK(std::isfinite(v), "alignment row {} has a non-finite weight", j);
  }
}

Alignment to_word_level(const Alignment& pieces, WordAggregate source) {
  check_alignment(pieces);
  Words src = group_words(pieces.src_tokens);
  Words tgt = group_words(pieces.tgt_tokens);
  Alignment out{src.text, tgt.text, {}};
  out.weights.assign(tgt.spans.size(), std::vector<float>(src.spans.size(), 0.0f));
  for (size_t jw = 0; jw < tgt.spans.size(); ++jw) {
    auto [tb, te] = tgt.spans[jw];
    std::vector<float>& row = out.weights[jw];  // [S words]
    for (size_t iw = 0; iw < src.spans.size(); ++iw) {
      auto [sb, se] = src.spans[iw];
      double mass = 0;  // over the source pieces (sum, mean or max), then mean over target pieces
      for (size_t j = tb; j < te; ++j) {
        double v = 0;
        for (size_t i = sb; i < se; ++i)
          v = source == WordAggregate::kMax ? std::max<double>(v, pieces.weights[j][i])
                                            : v + pieces.weights[j][i];
        if (source == WordAggregate::kMean) v /= static_cast<double>(se - sb);
        mass += v;
      }
      row[iw] = static_cast<float>(mass / static_cast<double>(te - tb));
    }
    renormalise(row);
  }
  return out;
}

Alignment shift_to_inputs(const Alignment& a) {
  Alignment out = a;
  for (size_t j = 0; j + 1 < a.weights.size(); ++j) out.weights[j] = a.weights[j + 1];
  return out;
}

Alignment without_eos(const Alignment& a) {
  check_alignment(a);
  Alignment out;
  std::vector<size_t> keep;  // source columns kept
  for (size_t i = 0; i < a.src_tokens.size(); ++i)
    if (a.src_tokens[i] != kEosToken) keep.push_back(i), out.src_tokens.push_back(a.src_tokens[i]);
  size_t n_rows = a.tgt_tokens.size();
  if (n_rows > 0 && a.tgt_tokens.back() == kEosToken) --n_rows;
  for (size_t j = 0; j < n_rows; ++j) {
    out.tgt_tokens.push_back(a.tgt_tokens[j]);
    std::vector<float> row;
    for (size_t i : keep) row.push_back(a.weights[j][i]);
    renormalise(row);
    out.weights.push_back(std::move(row));
  }
  return out;
}

std::vector<std::vector<float>> diagonal_weighted(const Alignment& a, float diagonal) {
  check_alignment(a);
  std::vector<std::vector<float>> w = a.weights;
  if (diagonal == 0) return w;
  const double rows = static_cast<double>(w.size());
  for (size_t j = 0; j < w.size(); ++j) {
    const double cols = static_cast<double>(w[j].size());
    for (size_t i = 0; i < w[j].size(); ++i)
      w[j][i] *= static_cast<float>(
          std::exp(-diagonal * std::abs((static_cast<double>(i) + 0.5) / cols -
                                        (static_cast<double>(j) + 0.5) / rows)));
    renormalise(w[j]);
  }
  return w;
}

std::vector<std::pair<int, int>> hard_alignment(const Alignment& a, const LinkRule& rule) {
  check_alignment(a);
  // [T][S]: the weights themselves, or a weighted copy under a diagonal tension.
  std::vector<std::vector<float>> weighted;
  if (rule.diagonal != 0) weighted = diagonal_weighted(a, rule.diagonal);
  const std::vector<std::vector<float>>& w = rule.diagonal != 0 ? weighted : a.weights;
  LinkSet by_target, by_source;  // (i, j)
  for (size_t j = 0; j < w.size(); ++j) {
    if (w[j].empty()) continue;
    const auto best = std::max_element(w[j].begin(), w[j].end()) - w[j].begin();
    by_target.insert({static_cast<int>(best), static_cast<int>(j)});
  }
  if (rule.extraction == LinkExtraction::kGrow && !by_target.empty()) {
    for (size_t i = 0; i < w.front().size(); ++i) {
      size_t best = 0;
      for (size_t j = 1; j < w.size(); ++j)
        if (w[j][i] > w[best][i]) best = j;
      by_source.insert({static_cast<int>(i), static_cast<int>(best)});
    }
    by_target = symmetrize(by_target, by_source, Symmetrize::kGrowDiagFinalAnd);
  }
  std::vector<std::pair<int, int>> pairs(by_target.begin(), by_target.end());
  std::sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) {
    return std::tie(x.second, x.first) < std::tie(y.second, y.first);
  });
  return pairs;
}

std::string format_pharaoh(const Alignment& a, const LinkRule& rule) {
  std::string out;
  for (auto [i, j] : hard_alignment(a, rule)) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}-{}", i, j);
  }
  return out;
}

std::string format_soft(const Alignment& a, int decimals) {
  check_alignment(a);
  std::string out;
  for (size_t j = 0; j < a.weights.size(); ++j) {
    if (j) out += ' ';
    for (size_t i = 0; i < a.weights[j].size(); ++i) {
      if (i) out += ',';
      out += fixed(a.weights[j][i], decimals);
    }
  }
  return out;
}

std::string format_soft_matrix(const Alignment& a, int decimals) {
  check_alignment(a);
  std::string out;
  for (const auto& row : a.weights) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) out += ' ';
      out += fixed(row[i], decimals);
    }
    out += '\n';
  }
  return out;
}

std::string format_json(const Alignment& a, bool with_hard, int decimals, const LinkRule& rule) {
  check_alignment(a);
  auto strings = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + json_string(v[k]);
    return s + "]";
  };
  std::string out = "{\"source\": " + strings(a.src_tokens) +
                    ", \"target\": " + strings(a.tgt_tokens) + ", \"alignment\": [";
  for (size_t j = 0; j < a.weights.size(); ++j) {
    out += j ? ", [" : "[";
    for (size_t i = 0; i < a.weights[j].size(); ++i)
      out += (i ? ", " : "") + fixed(a.weights[j][i], decimals);
    out += ']';
  }
  out += ']';
  if (with_hard) {
    out += ", \"hard\": [";
    bool first = true;
    for (auto [i, j] : hard_alignment(a, rule)) {
      out += fmt::format("{}[{}, {}]", first ? "" : ", ", i, j);
      first = false;
    }
    out += ']';
  }
  return out + '}';
}

// ---- UTF-8 and escaping ----

bool is_wide_char(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}



}  // namespace attnmt
