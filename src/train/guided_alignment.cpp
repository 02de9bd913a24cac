// Reading guided alignments and mapping word links to pieces (see guided_alignment.h).
#include "train/guided_alignment.h"

#include <fmt/format.h>

#include "decode/alignment.h"
#include "eval/aer.h"
#include "tensor/error.h"

namespace attnmt {

namespace {
// For each piece, the word it belongs to; *words receives the word count.
std::vector<int> word_of_piece(const std::vector<std::string>& pieces, int* words) {
  std::vector<int> out(pieces.size());
  int w = -1;
  for (size_t p = 0; p < pieces.size(); ++p) {
    if (p == 0 || pieces[p].compare(0, 3, kWordBoundary) == 0) ++w;
    out[p] = w;
  }
  *words = w + 1;
  return out;
}
}  // namespace

bool word_to_piece_links(const std::vector<std::string>& src_pieces,
                         const std::vector<std::string>& tgt_pieces,
                         const std::vector<std::pair<int, int>>& word_links,
                         std::vector<std::pair<int, int>>& piece_links) {
  piece_links.clear();
  int src_words = 0, tgt_words = 0;
  const std::vector<int> src_word = word_of_piece(src_pieces, &src_words);
  const std::vector<int> tgt_word = word_of_piece(tgt_pieces, &tgt_words);
  for (const auto& [i, j] : word_links)
    if (i < 0 || i >= src_words || j < 0 || j >= tgt_words) return false;
  for (const auto& [i, j] : word_links)
    for (size_t ps = 0; ps < src_pieces.size(); ++ps)
      if (src_word[ps] == i)
        for (size_t pt = 0; pt < tgt_pieces.size(); ++pt)
          if (tgt_word[pt] == j)
            piece_links.emplace_back(static_cast<int>(ps), static_cast<int>(pt));
  return true;
}

GuideStats attach_guided_alignment(ParallelCorpus& corpus, const Vocab& vocab,
                                   const std::string& path, int64_t corpus_lines) {
  const std::vector<std::string> lines = read_lines(path, "guided alignment");
  ATTNMT_CHECK(static_cast<int64_t>(lines.size()) == corpus_lines,
               "--guided-alignment '{}' has {} lines but the training files have {}: it needs "
               "one line of links per sentence pair",
               path, lines.size(), corpus_lines);
  GuideStats stats;
  corpus.guide.assign(corpus.src.size(), {});
  for (size_t k = 0; k < corpus.src.size(); ++k) {
    const int64_t line = corpus.line_no[k];
    const eval::Links links =
        eval::parse_links(lines[line - 1], fmt::format("{}:{}", path, line), true);
    const std::vector<std::pair<int, int>> word_links(links.possible.begin(),
                                                      links.possible.end());
    if (word_links.empty()) continue;
    if (!word_to_piece_links(vocab.pieces(corpus.src[k]), vocab.pieces(corpus.tgt[k]),
                             word_links, corpus.guide[k])) {
      ++stats.mismatched;
      continue;
    }
    ++stats.pairs;
    stats.links += static_cast<int64_t>(word_links.size());
  }
  return stats;
}

}  // namespace attnmt
