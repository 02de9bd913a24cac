// Symmetrisation of two directions' word alignments on hand-made links.
#include "decode/symmetrize.h"
#include "helpers.h"

using namespace attnmt;

TEST_CASE("intersect, union and grow-diag-final-and on hand-made links", "[decode][symmetrize]") {
  // Forward: 0-0 1-1 2-1 and a far link 4-0; reverse: 0-0 1-1 2-2 and 3-3.
  const LinkSet forward{{0, 0}, {1, 1}, {2, 1}, {4, 0}}, reverse{{0, 0}, {1, 1}, {2, 2}, {3, 3}};
  CHECK(symmetrize(forward, reverse, Symmetrize::kIntersect) == LinkSet{{0, 0}, {1, 1}});
  CHECK(symmetrize(forward, reverse, Symmetrize::kUnion) ==
        LinkSet{{0, 0}, {1, 1}, {2, 1}, {2, 2}, {3, 3}, {4, 0}});
  // grow-diag from {0-0, 1-1}: 2-1 neighbours 1-1 (source 2 free): added; 2-2 neighbours 1-1
  // diagonally (target 2 free): added; then 3-3 neighbours 2-2 (both free): added. final-and:
  // 4-0 has source 4 free but target 0 taken: not added.
  CHECK(symmetrize(forward, reverse, Symmetrize::kGrowDiagFinalAnd) ==
        LinkSet{{0, 0}, {1, 1}, {2, 1}, {2, 2}, {3, 3}});
  // final-and adds a lone link whose two words have no link at all.
  const LinkSet f2{{0, 0}, {5, 7}}, r2{{0, 0}};
  CHECK(symmetrize(f2, r2, Symmetrize::kGrowDiagFinalAnd) == LinkSet{{0, 0}, {5, 7}});
  // A union link next to the intersection whose two words are both already linked: not added.
  const LinkSet f3{{0, 0}, {1, 1}, {0, 1}}, r3{{0, 0}, {1, 1}};
  CHECK(symmetrize(f3, r3, Symmetrize::kGrowDiagFinalAnd) == LinkSet{{0, 0}, {1, 1}});
  CHECK(symmetrize({}, {}, Symmetrize::kGrowDiagFinalAnd).empty());
}

TEST_CASE("agree links where the product of the two matrices is the best of its row and column",
          "[decode][symmetrize]") {
  // forward [target j][source i], reverse [source i][target j].
  const WordWeights forward{{0.6f, 0.3f, 0.1f}, {0.5f, 0.4f, 0.1f}, {0.1f, 0.2f, 0.7f}};
  const WordWeights reverse{{0.2f, 0.7f, 0.1f}, {0.6f, 0.3f, 0.1f}, {0.1f, 0.1f, 0.8f}};
  // Products (row j: i = 0, 1, 2): .12 .18 .01 / .35 .12 .01 / .01 .02 .56. Each row's best is
  // also its column's best: 1-0, 0-1, 2-2. The hard links (forward 0-0 0-1 2-2, reverse 0-1 1-0
  // 2-2) intersect in 0-1 and 2-2 only: the forward model's second choice 1-0 (0.3), the reverse
  // model's first, wins here.
  CHECK(agreement_links(forward, reverse) == LinkSet{{1, 0}, {0, 1}, {2, 2}});
  // A word whose best partner prefers another word gets no link; ties go to the smaller index.
  // Products: .25 .25 0 / .2 .2 .1: rows pick source 0 twice, column 0 picks target 0.
  const WordWeights f2{{0.5f, 0.5f, 0.0f}, {0.4f, 0.4f, 0.2f}};
  const WordWeights r2{{0.5f, 0.5f}, {0.5f, 0.5f}, {0.5f, 0.5f}};
  CHECK(agreement_links(f2, r2) == LinkSet{{0, 0}});
  CHECK(agreement_links({}, {}).empty());
  // Matrices of different words: an error, not a guess.
  CHECK_THROWS_AS(agreement_links(f2, WordWeights{{0.5f, 0.5f}, {0.5f, 0.5f}}), Error);
  CHECK_THROWS_AS(symmetrize({}, {}, Symmetrize::kAgree), Error);
}
