#include "decode/symmetrize.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <vector>

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

LinkSet symmetrize(const LinkSet& forward, const LinkSet& reverse, Symmetrize how) {
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
