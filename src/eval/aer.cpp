#include "eval/aer.h"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

#include "tensor/error.h"

namespace attnmt::eval {

Links parse_links(const std::string& line, const std::string& where, bool allow_possible,
                  bool flip) {
  Links links;
  std::istringstream tokens(line);
  for (std::string tok; tokens >> tok;) {
    const size_t sep = tok.find_first_of("-?");
    const bool possible = sep != std::string::npos && tok[sep] == '?';
    int i = -1, j = -1;
    const char* end = tok.data() + tok.size();
    const auto a = std::from_chars(tok.data(), tok.data() + (sep == std::string::npos ? 0 : sep), i);
    const auto b = sep == std::string::npos ? a : std::from_chars(tok.data() + sep + 1, end, j);
    ATTNMT_CHECK(sep != std::string::npos && a.ec == std::errc() && a.ptr == tok.data() + sep &&
                     b.ec == std::errc() && b.ptr == end && i >= 0 && j >= 0,
                 "{}: '{}' is not a link: Pharaoh links are 'i-j' (0-based word indices{})",
                 where, tok, allow_possible ? "; 'i?j' for a possible link" : "");
    ATTNMT_CHECK(!possible || allow_possible,
                 "{}: '{}' is a possible link ('i?j'), which only the gold alignments have", where,
                 tok);
    const std::pair<int, int> link = flip ? std::pair{j, i} : std::pair{i, j};
    if (!possible) links.sure.insert(link);
    links.possible.insert(link);
  }
  return links;
}

void AerScore::add(const Links& a, const Links& gold) {
  proposed += static_cast<int64_t>(a.possible.size());  // a proposal's links are all "sure"
  sure += static_cast<int64_t>(gold.sure.size());
  possible += static_cast<int64_t>(gold.possible.size());
  for (const auto& link : a.possible) {
    hit_sure += gold.sure.count(link);
    hit_possible += gold.possible.count(link);
  }
}

AerScore& AerScore::operator+=(const AerScore& o) {
  proposed += o.proposed, sure += o.sure, possible += o.possible;
  hit_sure += o.hit_sure, hit_possible += o.hit_possible;
  return *this;
}

double AerScore::precision() const {
  return proposed ? static_cast<double>(hit_possible) / static_cast<double>(proposed) : 0.0;
}
double AerScore::recall() const {
  return sure ? static_cast<double>(hit_sure) / static_cast<double>(sure) : 1.0;
}
double AerScore::aer() const {
  const int64_t denominator = proposed + sure;
  if (denominator == 0) return 0.0;
  return 1.0 - static_cast<double>(hit_sure + hit_possible) / static_cast<double>(denominator);
}

std::string AerScore::format(int width) const {
  return fmt::format(
      "AER = {:.{}f} (precision {:.{}f}, recall {:.{}f}; {} links proposed, {} sure, {} "
      "possible)",
      100 * aer(), width, 100 * precision(), width, 100 * recall(), width, proposed, sure,
      possible);
}

}  // namespace attnmt::eval
