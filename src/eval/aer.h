// Alignment error rate (Och & Ney 2003) of Pharaoh word alignments against gold ones with sure
// ("i-j") and possible ("i?j") links, summed over the corpus:
//   precision = |A & P| / |A|,  recall = |A & S| / |S|,  AER = 1 - (|A & S| + |A & P|) / (|A| + |S|)
// with A the proposed links, S the sure gold links and P the possible ones (every sure link is
// also possible). Not here: reading files (cli/cmd_score.cpp), making alignments (decode/).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace attnmt::eval {

struct Links {
  std::set<std::pair<int, int>> sure;      // (source word, target word), 0-based
  std::set<std::pair<int, int>> possible;  // includes every sure link
};

// One line of Pharaoh links, "0-0 1-2 3?4"; "i?j" (a possible link) only when allow_possible.
// `flip` swaps each link's sides (an alignment of the other direction). Throws Error naming
// `where` (file:line) and the bad token.
Links parse_links(const std::string& line, const std::string& where, bool allow_possible,
                  bool flip = false);

struct AerScore {
  int64_t proposed = 0, sure = 0, possible = 0;  // |A|, |S|, |P|
  int64_t hit_sure = 0, hit_possible = 0;        // |A & S|, |A & P|
  double precision() const;                      // in [0, 1]; 0 with nothing proposed
  double recall() const;                         // in [0, 1]; 1 with no sure link
  double aer() const;                            // in [0, 1]
  // "AER = 31.20 (precision 66.20, recall 72.00; 1,234 links proposed, 1,000 sure, 1,500
  // possible)", in per cent.
  std::string format(int width = 2) const;
  void add(const Links& proposed, const Links& gold);
  AerScore& operator+=(const AerScore& o);  // the counts of both
};

}  // namespace attnmt::eval
