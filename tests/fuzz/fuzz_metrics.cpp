// Fuzz target: the BLEU and chrF tokenizers and scores (eval/). The input is hypothesis and
// reference text (split at the first 0xFF byte), one sentence per line; lines are paired up to
// the shorter side. Properties: scores are finite and in [0, 100]; a text scored against
// itself gets 100 (when it has anything to score).
#include <cmath>
#include <sstream>
#include <vector>

#include "eval/bleu.h"
#include "eval/chrf.h"
#include "eval/tokenize.h"
#include "fuzz_helpers.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::eval;

namespace {

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [a, b] = fuzz::split_in_two(data, size);
  for (Tokenizer t : {Tokenizer::k13a, Tokenizer::kNone, Tokenizer::kChar}) (void)tokenize(a, t);
  std::vector<std::string> hyps = lines_of(a), refs = lines_of(b);
  const size_t n = std::min(hyps.size(), refs.size());
  hyps.resize(n);
  refs.resize(n);
  for (bool lowercase : {false, true}) {
    for (Tokenizer t : {Tokenizer::k13a, Tokenizer::kNone, Tokenizer::kChar}) {
      BleuOptions o;
      o.tokenize = t;
      o.lowercase = lowercase;
      try {
        const BleuScore s = corpus_bleu(hyps, {refs}, o);
        FUZZ_REQUIRE(std::isfinite(s.score) && s.score >= 0 && s.score <= 100 + 1e-9);
      } catch (const Error&) {
        // An empty reference line: refused.
      }
      if (n > 0) {
        o.effective_order = true;
        try {
          const BleuScore s = sentence_bleu(hyps[0], {refs[0]}, o);
          FUZZ_REQUIRE(std::isfinite(s.score) && s.score >= 0 && s.score <= 100 + 1e-9);
        } catch (const Error&) {
          // An empty reference: refused (the harness first let this escape).
        }
      }
    }
    ChrfOptions c;
    c.lowercase = lowercase;
    c.word_order = lowercase ? 2 : 0;
    try {
      const ChrfScore s = corpus_chrf(hyps, {refs}, c);
      FUZZ_REQUIRE(std::isfinite(s.score) && s.score >= 0 && s.score <= 100 + 1e-9);
      const ChrfScore self = corpus_chrf(refs, {refs}, c);
      FUZZ_REQUIRE(self.score == 0 || std::abs(self.score - 100) < 1e-6);
    } catch (const Error&) {
    }
  }
  return 0;
}
