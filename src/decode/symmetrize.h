// Combining the word alignments of two models of opposite directions (source->target and
// target->source), the standard way to raise precision (intersection) or recall (union,
// grow-diag-final-and, Koehn et al. 2003 as Moses implements it).
// Links are (source word i, target word j) pairs; give the reverse model's links already
// flipped into (source, target) order. `agree` reads the two models' soft word matrices instead
// of their links (agreement_links).
// Not here: making the links (alignment.h: hard_alignment), running the two models (aligner).
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tensor/choice.h"

namespace attnmt {

enum class Symmetrize { kIntersect, kUnion, kGrowDiagFinalAnd, kAgree };
constexpr ChoiceTable<Symmetrize, 4> choices(Symmetrize) {
  using enum Symmetrize;
  return {"symmetrization",
          {{kIntersect, "intersect"},
           {kUnion, "union"},
           {kGrowDiagFinalAnd, "grow-diag-final-and"},
           {kAgree, "agree"}}};
}

using LinkSet = std::set<std::pair<int, int>>;
using WordWeights = std::vector<std::vector<float>>;  // [rows][cols]

// Symmetrize::kAgree: forward [T][S] (each target word's weights over the source words) times
// reverse [S][T] (each source word's over the target words) element by element; a link (i, j)
// where that product is the largest of its row j and of its column i (ties: the smaller
// index). A link both models weigh beats one that only one of them is sure of, and a word both
// models are unsure about gets none: a soft intersection. Shapes must agree (throws).
LinkSet agreement_links(const WordWeights& forward, const WordWeights& reverse);

// grow-diag-final-and: start from the intersection; repeatedly add a link of the union that
// neighbours (8 directions) a link already there when its source or its target word has no link
// yet; then add each link of `forward`, then of `reverse`, whose source and target words both
// have none.
// (kAgree needs the matrices: agreement_links; here it throws.)
LinkSet symmetrize(const LinkSet& forward, const LinkSet& reverse, Symmetrize how);

// Pharaoh "i-j" links sorted by target word, then source word (as format_pharaoh).
std::string format_links(const LinkSet& links);

}  // namespace attnmt
