// Combining the word alignments of two models of opposite directions (source->target and
// target->source), the standard way to raise precision (intersection) or recall (union,
// grow-diag-final-and, Koehn et al. 2003 as Moses implements it).
// Links are (source word i, target word j) pairs; give the reverse model's links already
// flipped into (source, target) order.
// Not here: making the links (alignment.h: hard_alignment), running the two models (aligner).
#pragma once

#include <set>
#include <string>
#include <utility>

#include "tensor/choice.h"

namespace attnmt {

enum class Symmetrize { kIntersect, kUnion, kGrowDiagFinalAnd };
constexpr ChoiceTable<Symmetrize, 3> choices(Symmetrize) {
  using enum Symmetrize;
  return {"symmetrization",
          {{kIntersect, "intersect"}, {kUnion, "union"}, {kGrowDiagFinalAnd, "grow-diag-final-and"}}};
}

using LinkSet = std::set<std::pair<int, int>>;

// grow-diag-final-and: start from the intersection; repeatedly add a link of the union that
// neighbours (8 directions) a link already there when its source or its target word has no link
// yet; then add each link of `forward`, then of `reverse`, whose source and target words both
// have none.
LinkSet symmetrize(const LinkSet& forward, const LinkSet& reverse, Symmetrize how);

// Pharaoh "i-j" links sorted by target word, then source word (as format_pharaoh).
std::string format_links(const LinkSet& links);

}  // namespace attnmt
