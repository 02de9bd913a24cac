// eval/bleu: corpus and sentence BLEU against numbers sacreBLEU itself publishes. Sources:
//   [readme]   sacreBLEU README.md, "Using SacreBLEU from Python" (the dog/man example)
//   [t_bleu]   sacreBLEU test/test_bleu.py (2.x), EPSILON = 1e-8 there
//   [t_sent]   sacreBLEU test/test_sentence_bleu.py, EPSILON = 1e-3 there
// sacreBLEU's raw_corpus_bleu(h, r, v) is corpus_bleu with floor smoothing v, tokenize none,
// effective order on: raw_options() below.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "eval/bleu.h"
#include "tensor/error.h"

using namespace attnmt::eval;
using Catch::Matchers::WithinAbs;

namespace {

const std::vector<std::string> kHyps = {"The dog bit the man.", "It wasn't surprising.",
                                        "The man had just bitten him."};
const std::vector<std::vector<std::string>> kRefs = {
    {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
    {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}};

BleuOptions raw_options(double floor_value) {
  BleuOptions o;
  o.smooth = Smoothing::kFloor;
  o.smooth_value = floor_value;
  o.tokenize = Tokenizer::kNone;
  o.effective_order = true;
  return o;
}

}  // namespace

TEST_CASE("BLEU of sacreBLEU's README example, two reference streams", "[eval]") {
  BleuScore s = corpus_bleu(kHyps, kRefs);
  CHECK_THAT(s.score, WithinAbs(48.530827, 1e-6));  // [t_bleu] default settings
  // [readme] the printed line
  CHECK(s.format() ==
        "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)");
  CHECK(s.hyp_len == 17);
  CHECK(s.ref_len == 18);
}

TEST_CASE("BLEU options: tokenize none, no smoothing, n-gram orders 1..6", "[eval]") {
  BleuOptions none;
  none.tokenize = Tokenizer::kNone;
  CHECK_THAT(corpus_bleu(kHyps, kRefs, none).score, WithinAbs(49.1919566, 1e-6));  // [t_bleu]
  BleuOptions unsmoothed;
  unsmoothed.smooth = Smoothing::kNone;
  CHECK_THAT(corpus_bleu(kHyps, kRefs, unsmoothed).score, WithinAbs(48.530827, 1e-6));
  // [t_bleu] test_bleu_max_order: the score printed with two decimals per max order
  const char* expected[] = {"77.65", "60.50", "53.93", "48.53", "46.14", "43.28"};
  for (int order = 1; order <= 6; ++order) {
    BleuOptions o;
    o.max_ngram_order = order;
    CHECK(fmt::format("{:.2f}", corpus_bleu(kHyps, kRefs, o).score) == expected[order - 1]);
  }
}

TEST_CASE("BLEU of empty hypotheses is 0 and they still count as lines", "[eval]") {
  BleuScore s = corpus_bleu({"", "", ""}, kRefs);  // [t_bleu] "empty hypotheses are not removed"
  CHECK(s.score == 0.0);
  CHECK(s.hyp_len == 0);
  CHECK(s.ref_len > 0);
  CHECK(s.bp == 0.0);
}

TEST_CASE("BLEU with a single reference (sacreBLEU's raw_corpus_bleu cases)", "[eval]") {
  // [t_bleu] test_raw_bleu_cases: no match at all is 0 (#141); identical is 1; one word off
  CHECK(corpus_bleu({"this is a test", "another test"}, {{"ref1", "ref2"}}, raw_options(0.01))
            .score == 0.0);
  CHECK_THAT(corpus_bleu({"this is a test"}, {{"this is a test"}}, raw_options(0.01)).score / 100,
             WithinAbs(1.0, 1e-8));
  CHECK_THAT(corpus_bleu({"this is a fest"}, {{"this is a test"}}, raw_options(0.01)).score / 100,
             WithinAbs(0.223606797749979, 1e-8));
  // [t_bleu] test_case_effective_order
  CHECK_THAT(corpus_bleu({"test"}, {{"a test"}}, raw_options(0.01)).score / 100,
             WithinAbs(0.3678794411714425, 1e-8));
  CHECK_THAT(corpus_bleu({"a little test"}, {{"a test"}}, raw_options(0.01)).score / 100,
             WithinAbs(0.03218297948685433, 1e-8));
}

TEST_CASE("BLEU statistics and floor smoothing offsets", "[eval]") {
  const std::vector<std::string> hyp = {"am I am a character sequence"};
  const std::vector<std::vector<std::string>> ref = {{"I am a symbol string sequence a a"}};
  BleuScore s = corpus_bleu(hyp, ref, raw_options(0.01));  // [t_bleu] test_case_statistics
  CHECK(s.counts == std::vector<double>{4, 2, 1, 0});
  CHECK(s.totals == std::vector<double>{6, 5, 4, 3});
  // [t_bleu] test_case_offset: floor 0 gives 0, the default floor (0.1) gives 0.1555722182
  CHECK(corpus_bleu(hyp, ref, raw_options(0.0)).score == 0.0);
  CHECK_THAT(corpus_bleu(hyp, ref, raw_options(-1)).score / 100, WithinAbs(0.1555722182, 1e-8));
}

TEST_CASE("BLEU from statistics, including degenerate ones", "[eval]") {
  BleuOptions none;
  none.smooth = Smoothing::kNone;
  std::vector<double> c = {9, 7, 5, 3}, t = {10, 8, 6, 4};
  CHECK_THAT(compute_bleu(c, t, 11, 11, none).score / 100, WithinAbs(0.8375922397, 1e-8));
  // [t_bleu] test_case_degenerate_stats (floor smoothing with the given value): all exactly 0
  struct Case {
    std::vector<double> c, t;
    long long hyp, ref;
    double value;
  };
  std::vector<Case> cases = {
      {{0, 0, 0, 0}, {4, 4, 2, 1}, 0, 1, 0.0}, {{0, 0, 0, 0}, {10, 11, 12, 0}, 14, 10, 0.0},
      {{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.0}, {{6, 5, 4, 0}, {6, 5, 4, 3}, 6, 6, 0.0},
      {{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.1}, {{0, 0, 0, 0}, {0, 0, 0, 0}, 1, 5, 0.01}};
  for (const auto& k : cases) {
    BleuOptions floor;
    floor.smooth = Smoothing::kFloor;
    floor.smooth_value = k.value;
    CHECK(compute_bleu(k.c, k.t, k.hyp, k.ref, floor).score == 0.0);
  }
}

TEST_CASE("sentence BLEU with each smoothing, tokenizer and lowercasing", "[eval]") {
  // [t_sent] the example of sacreBLEU issue #98, effective order on, tolerance 1e-3
  const std::string ref = "producţia de zahăr brut se exprimă în zahăr alb;";
  const std::string sys =
      "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";
  struct Case {
    Smoothing smooth;
    double value;
    bool lowercase;
    Tokenizer tok;
    double expected;
  };
  const std::vector<Case> cases = {
      {Smoothing::kExp, -1, false, Tokenizer::k13a, 8.493},
      {Smoothing::kNone, -1, false, Tokenizer::k13a, 0.0},
      {Smoothing::kFloor, -1, false, Tokenizer::k13a, 4.51688},
      {Smoothing::kFloor, 0.1, false, Tokenizer::k13a, 4.51688},
      {Smoothing::kFloor, 0.5, false, Tokenizer::k13a, 10.10},
      {Smoothing::kAddK, -1, false, Tokenizer::k13a, 14.882},
      {Smoothing::kAddK, 1, false, Tokenizer::k13a, 14.882},
      {Smoothing::kAddK, 2, false, Tokenizer::k13a, 21.389},
      {Smoothing::kExp, -1, false, Tokenizer::kNone, 7.347},
      {Smoothing::kExp, -1, false, Tokenizer::kChar, 40.8759},
      {Smoothing::kExp, -1, true, Tokenizer::kChar, 42.0267},
  };
  for (const auto& k : cases) {
    BleuOptions o;
    o.smooth = k.smooth;
    o.smooth_value = k.value;
    o.lowercase = k.lowercase;
    o.tokenize = k.tok;
    o.effective_order = true;
    INFO(smoothing_name(k.smooth) << " " << k.value << " " << attnmt::name_of(k.tok));
    CHECK_THAT(sentence_bleu(sys, {ref}, o).score, WithinAbs(k.expected, 1e-3));
  }
  // [t_sent] test_cases_zero_bleu (issue #141): no match is 0 whatever the smoothing
  for (Smoothing sm : {Smoothing::kExp, Smoothing::kNone, Smoothing::kFloor, Smoothing::kAddK}) {
    BleuOptions o;
    o.smooth = sm;
    o.effective_order = true;
    CHECK(sentence_bleu("this is a cat", {"okay thanks"}, o).score == 0.0);
  }
}

TEST_CASE("BLEU skips empty reference lines and refuses misshapen input", "[eval]") {
  // An empty reference means "no reference in this stream for this line" (sacreBLEU).
  BleuScore with_gap = corpus_bleu({"a b c d e"}, {{""}, {"a b c d e"}});
  CHECK(with_gap.score == corpus_bleu({"a b c d e"}, {{"a b c d e"}}).score);
  CHECK(with_gap.ref_len == 5);
  CHECK_THROWS_WITH(corpus_bleu({"a"}, {{""}}), Catch::Contains("line 1"));
  CHECK_THROWS_WITH(corpus_bleu({"a", "b"}, {{"a"}}), Catch::Contains("has 1 lines"));
  CHECK_THROWS_AS(corpus_bleu({"a"}, {}), attnmt::Error);
  // No lines at all: nothing to score, 0 rather than a crash.
  CHECK(corpus_bleu({}, {{}}).score == 0.0);
}

TEST_CASE("the effective reference length is the closest one, ties to the shorter", "[eval]") {
  // hyp 3 tokens; refs of 2 and 4 tokens are equally close: the shorter (2) is used, so BP = 1.
  BleuScore s = corpus_bleu({"a b c"}, {{"a b"}, {"a b c d"}});
  CHECK(s.ref_len == 2);
  CHECK(s.bp == 1.0);
  BleuScore t = corpus_bleu({"a b c"}, {{"a"}, {"a b c d"}});
  CHECK(t.ref_len == 4);
}
