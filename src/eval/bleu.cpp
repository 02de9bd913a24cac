// Corpus BLEU as sacreBLEU 2.x computes it: see bleu.h. Per line: preprocess (lowercase, rstrip,
// tokenize), count the hypothesis n-grams, clip each by its maximum count over the line's
// references, pick the reference length closest to the hypothesis length. Sum over lines, then
// smooth and combine once for the corpus.
#include "eval/bleu.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "eval/streams.h"
#include "eval/unicode.h"
#include "tensor/error.h"

namespace attnmt::eval {

namespace {

using NgramCounts = std::unordered_map<std::string, int>;  // "w1 w2 w3" -> count

// sacreBLEU's my_log: log(0) is a huge negative number instead of -inf, so the score becomes 0.
double safe_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

std::vector<std::string> preprocess(const std::string& sentence, const BleuOptions& options) {
  std::string s = options.lowercase ? to_lower(sentence) : sentence;
  return split_whitespace(tokenize(rstrip_whitespace(s), options.tokenize));
}

// All n-grams of orders 1..max_order, keyed by their tokens joined with single spaces (tokens
// never hold whitespace, so the key is unambiguous).
NgramCounts extract_ngrams(const std::vector<std::string>& tokens, int max_order) {
  NgramCounts counts;
  for (int n = 1; n <= max_order; ++n) {
    for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
      std::string key = tokens[i];
      for (int k = 1; k < n; ++k) key.append(" ").append(tokens[i + k]);
      ++counts[key];
    }
  }
  return counts;
}

int ngram_order(const std::string& key) {
  int n = 1;
  for (char c : key) n += c == ' ';
  return n;
}

// The reference length nearest to hyp_len; on a tie the shorter one (sacreBLEU, mteval).
long long closest_ref_len(long long hyp_len, const std::vector<long long>& ref_lens) {
  long long best_diff = -1, best_len = -1;
  for (long long len : ref_lens) {
    long long diff = std::llabs(hyp_len - len);
    if (best_diff == -1 || diff < best_diff) {
      best_diff = diff;
      best_len = len;
    } else if (diff == best_diff && len < best_len) {
      best_len = len;
    }
  }
  return best_len;
}

}  // namespace

Smoothing parse_smoothing(std::string_view name) {
  if (name == "none") return Smoothing::kNone;
  if (name == "floor") return Smoothing::kFloor;
  if (name == "add-k") return Smoothing::kAddK;
  if (name == "exp") return Smoothing::kExp;
  fail("unknown BLEU smoothing '{}': choose one of none, floor, add-k, exp", name);
}

const char* smoothing_name(Smoothing smoothing) {
  switch (smoothing) {
    case Smoothing::kNone:
      return "none";
    case Smoothing::kFloor:
      return "floor";
    case Smoothing::kAddK:
      return "add-k";
    case Smoothing::kExp:
      return "exp";
  }
  return "?";
}

std::string BleuScore::format(int width) const {
  std::string precs;
  for (std::size_t i = 0; i < precisions.size(); ++i)
    precs += fmt::format("{}{:.1f}", i ? "/" : "", precisions[i]);
  return fmt::format("BLEU = {:.{}f} {} (BP = {:.3f} ratio = {:.3f} hyp_len = {} ref_len = {})",
                     score, width, precs, bp, ratio, hyp_len, ref_len);
}

BleuScore compute_bleu(std::span<const double> counts, std::span<const double> totals,
                       long long hyp_len, long long ref_len, const BleuOptions& options) {
  const int max_order = options.max_ngram_order;
  ATTNMT_CHECK(max_order >= 1 && counts.size() == std::size_t(max_order) &&
                   totals.size() == std::size_t(max_order),
               "BLEU statistics need one count and one total per n-gram order 1..{}", max_order);
  double smooth_value = options.smooth_value;
  if (smooth_value < 0) smooth_value = options.smooth == Smoothing::kAddK ? 1.0 : 0.1;

  BleuScore r;
  r.counts.assign(counts.begin(), counts.end());
  r.totals.assign(totals.begin(), totals.end());
  r.precisions.assign(max_order, 0.0);
  r.hyp_len = hyp_len;
  r.ref_len = ref_len;
  r.ratio = ref_len ? double(hyp_len) / double(ref_len) : 0.0;
  if (hyp_len < ref_len)
    r.bp = hyp_len > 0 ? std::exp(1.0 - double(ref_len) / double(hyp_len)) : 0.0;
  else
    r.bp = 1.0;

  // No match at any order: 0, whatever the smoothing (sacreBLEU issue #141).
  bool any_match = false;
  for (double c : counts) any_match |= c != 0;
  if (!any_match) return r;

  std::vector<double> correct = r.counts, total = r.totals;
  double mteval_divisor = 1.0;
  int eff_order = max_order;
  for (int n = 1; n <= max_order; ++n) {
    if (options.smooth == Smoothing::kAddK && n > 1) {
      correct[n - 1] += smooth_value;
      total[n - 1] += smooth_value;
    }
    if (total[n - 1] == 0) break;
    if (options.effective_order) eff_order = n;
    if (correct[n - 1] == 0) {
      if (options.smooth == Smoothing::kExp) {
        mteval_divisor *= 2;  // each further order without a match halves its pseudo-count
        r.precisions[n - 1] = 100.0 / (mteval_divisor * total[n - 1]);
      } else if (options.smooth == Smoothing::kFloor) {
        r.precisions[n - 1] = 100.0 * smooth_value / total[n - 1];
      }
    } else {
      r.precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1];
    }
  }
  double log_sum = 0.0;
  for (int n = 0; n < eff_order; ++n) log_sum += safe_log(r.precisions[n]);
  r.score = r.bp * std::exp(log_sum / eff_order);
  return r;
}

BleuScore corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& options) {
  check_reference_streams(hyps.size(), refs);
  const int max_order = options.max_ngram_order;
  ATTNMT_CHECK(max_order >= 1, "BLEU's n-gram order must be at least 1, not {}", max_order);
  std::vector<double> counts(max_order, 0.0), totals(max_order, 0.0);
  long long hyp_len = 0, ref_len = 0;

  for (std::size_t line = 0; line < hyps.size(); ++line) {
    // The references of this line: n-gram counts maxed over references, and their lengths.
    NgramCounts ref_ngrams;
    std::vector<long long> ref_lens;
    for (const auto& stream : refs) {
      const std::string& ref = stream[line];
      if (ref.empty()) continue;  // fewer references for this line (sacreBLEU's nrefs:var)
      auto tokens = preprocess(ref, options);
      ref_lens.push_back(static_cast<long long>(tokens.size()));
      for (auto& [ngram, count] : extract_ngrams(tokens, max_order)) {
        int& best = ref_ngrams[ngram];
        if (count > best) best = count;
      }
    }
    ATTNMT_CHECK(!ref_lens.empty(),
                 "line {}: every reference is empty; each hypothesis needs at least one "
                 "non-empty reference",
                 line + 1);

    auto hyp_tokens = preprocess(hyps[line], options);
    long long len = static_cast<long long>(hyp_tokens.size());
    hyp_len += len;
    ref_len += closest_ref_len(len, ref_lens);
    for (const auto& [ngram, count] : extract_ngrams(hyp_tokens, max_order)) {
      int n = ngram_order(ngram);
      totals[n - 1] += count;
      auto it = ref_ngrams.find(ngram);
      if (it != ref_ngrams.end()) counts[n - 1] += std::min(count, it->second);
    }
  }
  return compute_bleu(counts, totals, hyp_len, ref_len, options);
}

BleuScore sentence_bleu(const std::string& hyp, const std::vector<std::string>& refs,
                        const BleuOptions& options) {
  std::vector<std::vector<std::string>> streams;
  for (const auto& ref : refs) streams.push_back({ref});
  return corpus_bleu({hyp}, streams, options);
}

}  // namespace attnmt::eval
