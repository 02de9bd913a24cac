// eval/chrf: chrF and chrF++ against numbers sacreBLEU itself publishes. Sources:
//   [readme]  sacreBLEU README.md: CHRF().corpus_score(sys, refs) -> "chrF2 = 59.73"
//   [t_chrf]  sacreBLEU test/test_chrf.py (2.x): corpus_chrf(..., char_order=6, word_order=0,
//             beta=3, ...) with eps_smoothing on / off / whitespace kept; EPSILON = 1e-4
#include <catch2/catch.hpp>

#include "eval/chrf.h"
#include "tensor/error.h"

using namespace attnmt::eval;
using Catch::Matchers::WithinAbs;

namespace {

struct Case {
  std::vector<std::string> hyps, refs;
  double expected;
};

ChrfOptions beta3(bool eps_smoothing, bool whitespace = false) {
  ChrfOptions o;
  o.beta = 3;
  o.eps_smoothing = eps_smoothing;
  o.whitespace = whitespace;
  return o;
}

}  // namespace

TEST_CASE("chrF of sacreBLEU's README example, two reference streams", "[eval]") {
  const std::vector<std::string> hyps = {"The dog bit the man.", "It wasn't surprising.",
                                         "The man had just bitten him."};
  const std::vector<std::vector<std::string>> refs = {
      {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
      {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}};
  ChrfScore s = corpus_chrf(hyps, refs);
  CHECK(s.format() == "chrF2 = 59.73");  // [readme]
  CHECK_THAT(s.score, WithinAbs(59.73, 0.005));
}

TEST_CASE("chrF with sacreBLEU's default effective-order averaging", "[eval]") {
  // [t_chrf] test_cases_effective_order (beta = 3, eps_smoothing = false)
  const std::vector<Case> cases = {
      {{"a"}, {"a"}, 100.0},       {{""}, {"reference"}, 0.0}, {{"a b c"}, {"a b c"}, 100.0},
      {{"a b c"}, {"abc"}, 100.0}, {{""}, {"c"}, 0.0},         {{"a", "b"}, {"a", "c"}, 50.0},
      {{"aa"}, {"ab"}, 25.0},
  };
  for (const auto& k : cases) {
    INFO(k.hyps[0] << " | " << k.refs[0]);
    CHECK_THAT(corpus_chrf(k.hyps, {k.refs}, beta3(false)).score, WithinAbs(k.expected, 1e-4));
  }
}

TEST_CASE("chrF with epsilon smoothing (chrF++.py / NLTK / Moses style)", "[eval]") {
  // [t_chrf] test_cases (beta = 3, eps_smoothing = true)
  const std::vector<Case> cases = {
      {{"abcdefg"}, {"hijklmnop"}, 0.0},
      {{"a"}, {"b"}, 0.0},
      {{""}, {"b"}, 0.0},
      {{""}, {"ref"}, 0.0},
      {{""}, {"reference"}, 0.0},
      {{"aa"}, {"ab"}, 8.3333},
      {{"a", "b"}, {"a", "c"}, 8.3333},
      {{"a"}, {"a"}, 16.6667},
      {{"a b c"}, {"a b c"}, 50.0},
      {{"a b c"}, {"abc"}, 50.0},
      {{" risk assessment must be made of those who are qualified and expertise in the sector - "
        "these are the scientists ."},
       {"risk assessment has to be undertaken by those who are qualified and expert in that area "
        "- that is the scientists ."},
       63.361730},
      {{" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "},
       {"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."},
       64.1302698},
      {{"Niemand hat die Absicht, eine Mauer zu errichten"},
       {"Niemand hat die Absicht, eine Mauer zu errichten"},
       100.0},
  };
  for (const auto& k : cases) {
    INFO(k.hyps[0] << " | " << k.refs[0]);
    CHECK_THAT(corpus_chrf(k.hyps, {k.refs}, beta3(true)).score, WithinAbs(k.expected, 1e-4));
  }
}

TEST_CASE("chrF keeping whitespace in the character n-grams", "[eval]") {
  // [t_chrf] test_cases_keep_whitespace (beta = 3, whitespace kept)
  CHECK_THAT(
      corpus_chrf({"Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."},
                  {{"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade "
                    "freundschaftlich."}},
                  beta3(false, true))
          .score,
      WithinAbs(67.3481606, 1e-4));
  CHECK_THAT(corpus_chrf({"risk assessment must be made of those who are qualified and expertise "
                          "in the sector - these are the scientists ."},
                         {{"risk assessment has to be undertaken by those who are qualified and "
                           "expert in that area - that is the scientists ."}},
                         beta3(false, true))
                 .score,
             WithinAbs(65.2414427, 1e-4));
}

TEST_CASE("sentence chrF2 with epsilon smoothing on Czech sentences", "[eval]") {
  // [t_chrf] test_sentence_level_chrf: sentence_chrf(hyp, refs, eps_smoothing=True), beta 2
  ChrfOptions o;
  o.eps_smoothing = true;
  CHECK_THAT(sentence_chrf("Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo "
                           "zemře.",
                           {"Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít "
                            "a kdo zemře."},
                           o)
                 .score,
             WithinAbs(39.14078509, 1e-4));
  CHECK_THAT(sentence_chrf("Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
                           {"A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali "
                            "lékaři."},
                           o)
                 .score,
             WithinAbs(31.22557079, 1e-4));
  CHECK_THAT(sentence_chrf("Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
                           {"Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl "
                            "začít, připomněli."},
                           o)
                 .score,
             WithinAbs(57.15704367, 1e-4));
}

TEST_CASE("chrF keeps the best reference of each line, names and edge cases", "[eval]") {
  // With several references a line is scored against the one it matches best, so adding a
  // useless reference changes nothing.
  const std::string hyp = "the cat sat on the mat";
  double alone = sentence_chrf(hyp, {"a cat sat on a mat"}).score;
  CHECK(sentence_chrf(hyp, {"zzz qqq", "a cat sat on a mat"}).score == alone);
  CHECK(sentence_chrf(hyp, {"a cat sat on a mat", "zzz qqq"}).score == alone);
  CHECK(sentence_chrf(hyp, {"", "a cat sat on a mat"}).score == alone);
  CHECK(sentence_chrf(hyp, {hyp}).score == 100.0);
  ChrfOptions plus;
  plus.word_order = 2;
  CHECK(corpus_chrf({"a"}, {{"a"}}, plus).name() == "chrF2++");
  CHECK(corpus_chrf({"a"}, {{"a"}}).name() == "chrF2");
  CHECK(corpus_chrf({"a"}, {{"a"}}, plus).stats.size() == 3 * 8);
  CHECK_THROWS_AS(corpus_chrf({"a", "b"}, {{"a"}}), attnmt::Error);
  CHECK_THROWS_WITH(corpus_chrf({"a"}, {{""}}), Catch::Contains("line 1"));
}
