// chrF (Popović 2015) and chrF++ (word_order = 2), computed the way sacreBLEU 2.x computes them:
// character n-grams of orders 1..6 with whitespace removed, beta = 2; per line the reference
// with the best sentence-level F is kept; the per-order hypothesis/reference/match counts are
// summed over the corpus, precision and recall are averaged over the orders that have n-grams
// on both sides, and F-beta is taken of those averages.
// Not here: reading files (cli/cmd_score.cpp), BLEU (bleu.h).
#pragma once

#include <span>
#include <string>
#include <vector>

namespace attnmt::eval {

struct ChrfOptions {
  int char_order = 6;
  int word_order = 0;  // 2 gives chrF++
  int beta = 2;        // recall is beta times as important as precision
  bool lowercase = false;
  bool whitespace = false;     // keep whitespace inside character n-grams
  bool eps_smoothing = false;  // chrF++.py/NLTK/Moses-style averaging of per-order F scores
};

struct ChrfScore {
  double score = 0.0;  // in [0, 100]
  ChrfOptions options;
  // [3 * (char_order + word_order)]: hypothesis n-grams, reference n-grams, matches per order
  // (character orders first, then word orders), summed over the corpus.
  std::vector<long long> stats;
  std::string name() const;                 // "chrF2", "chrF2++"
  std::string format(int width = 2) const;  // sacreBLEU's line: "chrF2 = 59.73"
};

// The F score in [0, 100] of summed statistics laid out as ChrfScore::stats.
double chrf_from_stats(std::span<const long long> stats, const ChrfOptions& options = {});

// Corpus chrF of `hyps` [n_lines] against `refs` [n_streams][n_lines]. Empty reference lines
// are skipped as in corpus_bleu; every line needs at least one non-empty reference.
ChrfScore corpus_chrf(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const ChrfOptions& options = {});

ChrfScore sentence_chrf(const std::string& hyp, const std::vector<std::string>& refs,
                        const ChrfOptions& options = {});

}  // namespace attnmt::eval
