#include "decode/symmetrize.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <vector>

#include "tensor/error.h"

namespace attnmt {

namespace {

// Links per word on each side, to ask "has source word i (target word j) a link yet?".
struct Coverage {
  std::map<int, int> src, tgt;
  void add(const std::pair<int, int>& link) { ++src[link.first], ++tgt[link.second]; }
  bool has_src(int i) const { return src.count(i) > 0; }
  bool has_tgt(int j) const { return tgt.count(j) > 0; }
};

void final_and(const LinkSet& candidates, LinkSet& out, Coverage& cov) {
  for (const auto& link : candidates)
    if (!cov.has_src(link.first) && !cov.has_tgt(link.second) && out.insert(link).second)
      cov.add(link);
}

}  // namespace

LinkSet agreement_links(const WordWeights& forward, const WordWeights& reverse) {
  const size_t T = forward.size(), S = reverse.size();
  for (const auto& row : forward)
    ATTNMT_CHECK(row.size() == S, "agree: the forward matrix has a row of {} source words, the "
                 "reverse one {} source words", row.size(), S);
  for (const auto& row : reverse)
    ATTNMT_CHECK(row.size() == T, "agree: the reverse matrix has a row of {} target words, the "
                 "forward one {} target words", row.size(), T);
  LinkSet out;
  if (T == 0 || S == 0) return out;
  auto product = [&](size_t i, size_t j) { return forward[j][i] * reverse[i][j]; };
  std::vector<size_t> best_i(T, 0), best_j(S, 0);  // each row's and each column's largest
  for (size_t j = 0; j < T; ++j)
    for (size_t i = 0; i < S; ++i) {
      if (product(i, j) > product(best_i[j], j)) best_i[j] = i;
      if (product(i, j) > product(i, best_j[i])) best_j[i] = j;
    }
  for (size_t j = 0; j < T; ++j)
    if (best_j[best_i[j]] == j) out.insert({static_cast<int>(best_i[j]), static_cast<int>(j)});
  return out;
}

LinkSet symmetrize(const LinkSet& forward, const LinkSet& reverse, Symmetrize how) {
  ATTNMT_CHECK(how != Symmetrize::kAgree,
               "symmetrize: agree combines the two models' matrices (agreement_links), not links");
  LinkSet both, either;
  std::set_intersection(forward.begin(), forward.end(), reverse.begin(), reverse.end(),
                        std::inserter(both, both.end()));
  std::set_union(forward.begin(), forward.end(), reverse.begin(), reverse.end(),
                 std::inserter(either, either.end()));
  if (how == Symmetrize::kIntersect) return both;
  if (how == Symmetrize::kUnion) return either;
  LinkSet out = both;
  Coverage cov;
  for (const auto& link : out) cov.add(link);
  static constexpr int kNeighbours[8][2] = {{-1, 0}, {0, -1}, {1, 0},  {0, 1},
                                            {-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
  for (bool grew = true; grew;) {  // grow-diag, until nothing more is added
    grew = false;
    const LinkSet current = out;  // a pass visits the links as they were when it began
    for (const auto& [i, j] : current)
      for (const auto& d : kNeighbours) {
        const std::pair<int, int> next{i + d[0], j + d[1]};
        if (!either.count(next) || out.count(next)) continue;
        if (cov.has_src(next.first) && cov.has_tgt(next.second)) continue;
        out.insert(next);
        cov.add(next);
        grew = true;
      }
  }
  final_and(forward, out, cov);
  final_and(reverse, out, cov);
  return out;
}

std::string format_links(const LinkSet& links) {
  std::vector<std::pair<int, int>> by_target(links.begin(), links.end());
  std::sort(by_target.begin(), by_target.end(), [](const auto& a, const auto& b) {
    return std::pair{a.second, a.first} < std::pair{b.second, b.first};
  });
  std::string out;
  for (const auto& [i, j] : by_target) out += fmt::format("{}{}-{}", out.empty() ? "" : " ", i, j);
  return out;
}

}  // namespace attnmt
