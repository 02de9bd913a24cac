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
