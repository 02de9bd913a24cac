// Guided alignment (Garg et al. 2019; Marian's --guided-alignment): word alignments given for
// the training pairs (Pharaoh "i-j" lines, line-parallel with --src/--tgt, e.g. from fast_align
// or from `attnmt align` of an earlier model) supervise one source-attention head of the
// Transformer's alignment layer. The loss is the cross-entropy between that head's attention
// and the given links spread evenly over the linked source pieces, summed over the linked
// target pieces and added to the translation loss with a weight.
// Here: reading the file and turning word links into piece links. The loss itself is in
// models/transformer (Transformer::decode), its sum in train/trainer.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "text/corpus.h"
#include "text/vocab.h"

namespace attnmt {

// The piece links of one pair: every piece of source word i linked to every piece of target
// word j for each word link (i, j). Words are the pieces from one starting with "▁" (U+2581)
// to the next, as `attnmt align` counts them. Returns false (and no links) when a link names
// a word the pieces do not have (the line's words and its pieces disagree).
bool word_to_piece_links(const std::vector<std::string>& src_pieces,
                         const std::vector<std::string>& tgt_pieces,
                         const std::vector<std::pair<int, int>>& word_links,
                         std::vector<std::pair<int, int>>& piece_links);

struct GuideStats {
  int64_t pairs = 0;       // training pairs given links
  int64_t links = 0;       // word links read for them
  int64_t mismatched = 0;  // pairs left unguided: a link beyond their words
};

// Reads `path` (one line of Pharaoh links per line of the training files; possible links "i?j"
// count as links) and fills corpus.guide for every kept pair (corpus.line_no says which line).
// Throws attnmt::Error naming the file when its line count differs from `corpus_lines` or a
// line is not Pharaoh links (file:line).
GuideStats attach_guided_alignment(ParallelCorpus& corpus, const Vocab& vocab,
                                   const std::string& path, int64_t corpus_lines);

}  // namespace attnmt
