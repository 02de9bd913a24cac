// Corpus BLEU, computed the way sacreBLEU 2.x computes it (defaults: 13a tokenization, 4-grams,
// `exp` smoothing, closest reference length with ties to the shorter, n-gram counts clipped by
// the maximum count over the references of each line). The trainer's validation and
// `attnmt score` both call corpus_bleu, so the numbers they print are the same.
// Not here: reading files (cli/cmd_score.cpp), chrF (chrf.h), significance tests, TER.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "eval/tokenize.h"

namespace attnmt::eval {

// Chen & Cherry (2014) smoothing methods, as sacreBLEU names them: none, floor (method 1),
// add-k (method 2), exp (method 3, mteval-v13a's NIST smoothing).
enum class Smoothing { kNone, kFloor, kAddK, kExp };

Smoothing parse_smoothing(std::string_view name);  // "none", "floor", "add-k", "exp"
const char* smoothing_name(Smoothing smoothing);

struct BleuOptions {
  Tokenizer tokenize = Tokenizer::k13a;
  bool lowercase = false;
  Smoothing smooth = Smoothing::kExp;
  double smooth_value = -1.0;  // < 0: the method's default (floor 0.1, add-k 1)
  int max_ngram_order = 4;
  // Average only over the orders the hypotheses have n-grams of (for sentence-level BLEU).
  bool effective_order = false;
};

struct BleuScore {
  double score = 0.0;              // BLEU in [0, 100]
  std::vector<double> precisions;  // [max_ngram_order] n-gram precisions in percent (smoothed)
  std::vector<double> counts;      // [max_ngram_order] clipped matches per order
  std::vector<double> totals;      // [max_ngram_order] hypothesis n-grams per order
  double bp = 0.0;                 // brevity penalty
  double ratio = 0.0;              // hyp_len / ref_len (0 when ref_len is 0)
  long long hyp_len = 0;           // hypothesis tokens
  long long ref_len = 0;           // effective reference tokens
  // sacreBLEU's line: "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17
  // ref_len = 18)"; `width` is the number of decimals of the score.
  std::string format(int width = 2) const;
};

// BLEU from summed statistics (sacreBLEU's BLEU.compute_bleu). `counts` and `totals` hold one
// entry per order 1..max_ngram_order; options other than smoothing and orders are ignored.
BleuScore compute_bleu(std::span<const double> counts, std::span<const double> totals,
                       long long hyp_len, long long ref_len, const BleuOptions& options = {});

// Corpus BLEU of `hyps` [n_lines] against `refs` [n_streams][n_lines]. An empty reference line
// is skipped (a line may have fewer references, as in sacreBLEU), but every line needs at least
// one non-empty reference. Throws attnmt::Error when a stream's length differs from hyps'.
BleuScore corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& options = {});

// BLEU of one sentence against its references (consider options.effective_order = true).
BleuScore sentence_bleu(const std::string& hyp, const std::vector<std::string>& refs,
                        const BleuOptions& options = {});

}  // namespace attnmt::eval
