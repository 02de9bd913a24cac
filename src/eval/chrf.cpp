// chrF / chrF++ as sacreBLEU 2.x computes them: see chrf.h.
#include "eval/chrf.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "eval/streams.h"
#include "eval/unicode.h"
#include "tensor/error.h"

namespace attnmt::eval {

namespace {

// One counter per order: character n-grams are views into the line's code points, word
// n-grams are the words joined by single spaces.
using CharCounts = std::unordered_map<std::u32string_view, int>;
using WordCounts = std::unordered_map<std::string, int>;

// A line's n-grams: chars [char_order] then words [word_order]. Owns the text the views see.
struct LineNgrams {
  std::u32string text;
  std::vector<CharCounts> chars;
  std::vector<WordCounts> words;
};

bool is_ascii_punct(char c) {  // Python's string.punctuation
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// chrF++'s word split: whitespace words, with one punctuation mark split off the end, or else
// off the start, of each word longer than one character ("(hi)" -> "(hi", ")" as in sacreBLEU).
std::vector<std::string> split_punctuation(const std::string& sentence) {
  std::vector<std::string> out;
  for (auto& w : split_whitespace(sentence)) {
    if (decode_utf8(w).size() == 1) {
      out.push_back(std::move(w));
    } else if (is_ascii_punct(w.back())) {
      out.push_back(w.substr(0, w.size() - 1));
      out.push_back(w.substr(w.size() - 1));
    } else if (is_ascii_punct(w.front())) {
      out.push_back(w.substr(0, 1));
      out.push_back(w.substr(1));
    } else {
      out.push_back(std::move(w));
    }
  }
  return out;
}

void extract(const std::string& raw, const ChrfOptions& options, LineNgrams& out) {
  std::string sentence = options.lowercase ? to_lower(raw) : raw;
  out.text = decode_utf8(sentence);
  if (!options.whitespace) out.text = remove_whitespace(out.text);
  std::u32string_view text = out.text;
  out.chars.assign(options.char_order, {});
  for (int n = 1; n <= options.char_order; ++n)
    for (std::size_t i = 0; i + n <= text.size(); ++i) ++out.chars[n - 1][text.substr(i, n)];
  out.words.assign(options.word_order, {});
  if (options.word_order > 0) {
    auto words = split_punctuation(sentence);
    for (int n = 1; n <= options.word_order; ++n) {
      for (std::size_t i = 0; i + n <= words.size(); ++i) {
        std::string key = words[i];
        for (int k = 1; k < n; ++k) key.append(" ").append(words[i + k]);
        ++out.words[n - 1][key];
      }
    }
  }
}

// [hypothesis n-grams, reference n-grams, matches] of one order. The hypothesis count is 0 when
// the reference has no n-gram of this order, so that the order does not count (sacreBLEU).
template <typename Counts>
void match_stats(const Counts& hyp, const Counts& ref, long long* out) {
  long long n_hyp = 0, n_ref = 0, n_match = 0;
  for (const auto& [ngram, count] : hyp) {
    n_hyp += count;
    auto it = ref.find(ngram);
    if (it != ref.end()) n_match += std::min(count, it->second);
  }
  for (const auto& [ngram, count] : ref) n_ref += count;
  out[0] = ref.empty() ? 0 : n_hyp;
  out[1] = n_ref;
  out[2] = n_match;
}

}  // namespace

std::string ChrfScore::name() const {
  return fmt::format("chrF{}{}", options.beta, std::string(options.word_order, '+'));
}

std::string ChrfScore::format(int width) const {
  return fmt::format("{} = {:.{}f}", name(), score, width);
}

double chrf_from_stats(std::span<const long long> stats, const ChrfOptions& options) {
  const int order = options.char_order + options.word_order;
  ATTNMT_CHECK(order >= 1 && stats.size() == std::size_t(3 * order),
               "chrF statistics need 3 numbers per order, {} orders", order);
  constexpr double kEps = 1e-16;
  const double factor = double(options.beta) * options.beta;
  double eps_score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (int i = 0; i < order; ++i) {
    long long n_hyp = stats[3 * i], n_ref = stats[3 * i + 1], n_match = stats[3 * i + 2];
    double prec = n_hyp > 0 ? double(n_match) / n_hyp : kEps;
    double rec = n_ref > 0 ? double(n_match) / n_ref : kEps;
    double denom = factor * prec + rec;
    eps_score += denom > 0 ? (1 + factor) * prec * rec / denom : kEps;
    // Default averaging: only orders with n-grams on both sides count (sacreBLEU < 2.0 style).
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective_order;
    }
  }
  if (options.eps_smoothing) return 100.0 * eps_score / order;
  if (effective_order == 0) return 0.0;
  avg_prec /= effective_order;
  avg_rec /= effective_order;
  if (avg_prec + avg_rec == 0.0) return 0.0;
  return 100.0 * (1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec);
}

ChrfScore corpus_chrf(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const ChrfOptions& options) {
  check_reference_streams(hyps.size(), refs);
  ATTNMT_CHECK(options.char_order >= 0 && options.word_order >= 0 &&
                   options.char_order + options.word_order >= 1 && options.beta >= 0,
               "chrF needs a positive n-gram order and a non-negative beta");
  const int order = options.char_order + options.word_order;
  ChrfScore result;
  result.options = options;
  result.stats.assign(3 * order, 0);

  LineNgrams hyp_ngrams, ref_ngrams;
  std::vector<long long> stats(3 * order), best(3 * order);
  for (std::size_t line = 0; line < hyps.size(); ++line) {
    extract(hyps[line], options, hyp_ngrams);
    double best_f = -1.0;
    bool any_ref = false;
    for (const auto& stream : refs) {
      if (stream[line].empty()) continue;  // fewer references for this line
      any_ref = true;
      extract(stream[line], options, ref_ngrams);
      for (int n = 0; n < options.char_order; ++n)
        match_stats(hyp_ngrams.chars[n], ref_ngrams.chars[n], &stats[3 * n]);
      for (int n = 0; n < options.word_order; ++n)
        match_stats(hyp_ngrams.words[n], ref_ngrams.words[n], &stats[3 * (options.char_order + n)]);
      // Keep the reference this line scores best against (the first one on a tie).
      double f = chrf_from_stats(stats, options);
      if (f > best_f) {
        best_f = f;
        best = stats;
      }
    }
    ATTNMT_CHECK(any_ref,
                 "line {}: every reference is empty; each hypothesis needs at least one "
                 "non-empty reference",
                 line + 1);
    for (int i = 0; i < 3 * order; ++i) result.stats[i] += best[i];
  }
  result.score = chrf_from_stats(result.stats, options);
  return result;
}

ChrfScore sentence_chrf(const std::string& hyp, const std::vector<std::string>& refs,
                        const ChrfOptions& options) {
  std::vector<std::vector<std::string>> streams;
  for (const auto& ref : refs) streams.push_back({ref});
  return corpus_chrf({hyp}, streams, options);
}

}  // namespace attnmt::eval
