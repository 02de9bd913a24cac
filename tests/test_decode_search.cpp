// Beam and greedy search (decode/search.h) on a mock model (mock_seq2seq.h) whose scores are a
// fixed function of source and history: beam 1 = greedy, n-best order, length limits, a
// greedy trap, attention rows, and batch bookkeeping (rescoring, batch = one by one).
#include <cmath>
#include <set>

#include "decode/search.h"
#include "helpers.h"
#include "mock_seq2seq.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {

constexpr int kV = 12;

// Sentences of varied lengths over ids 4..V-1.
std::vector<std::vector<int>> sources() {
  return {{4, 5, 6}, {7}, {8, 9, 10, 11, 4, 5, 6}, {5, 5}, {11, 10, 9, 8, 7}, {6, 4, 8, 9}};
}

std::vector<std::vector<Hypothesis>> search(MockSeq2Seq& model,
                                            const std::vector<std::vector<int>>& src,
                                            const SearchOptions& o) {
  std::vector<int> len;
  IdMatrix m = pad_sources(src, len);
  return beam_search(model, m, len, o);
}

}  // namespace

TEST_CASE("beam 1 finds what greedy finds", "[decode]") {
  for (float eos_bias : {-1.0f, 0.5f, 2.0f}) {
    MockSeq2Seq model(kV, random_scores(kV, eos_bias));
    SearchOptions beam1;
    beam1.beam = 1;
    SearchOptions greedy;
    greedy.greedy = true;
    auto a = search(model, sources(), beam1);
    auto b = search(model, sources(), greedy);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      REQUIRE(a[i].size() == 1);
      REQUIRE(b[i].size() == 1);
      CHECK(a[i][0].tokens == b[i][0].tokens);
      CHECK(a[i][0].score == Approx(b[i][0].score));
      CHECK(a[i][0].attention == b[i][0].attention);
    }
  }
}

TEST_CASE("n-best lists are sorted, distinct and rescore to their log-probabilities", "[decode]") {
  MockSeq2Seq model(kV, random_scores(kV, 0.0f));
  SearchOptions o;
  o.beam = 5;
  o.n_best = 4;
  o.length_penalty = 0.6f;
  auto src = sources();
  auto result = search(model, src, o);
  REQUIRE(result.size() == src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    const auto& hyps = result[i];
    REQUIRE(hyps.size() == 4);
    std::set<std::vector<int>> seen;
    std::vector<int> with_eos = src[i];
    with_eos.push_back(kEosId);
    for (size_t k = 0; k < hyps.size(); ++k) {
      if (k) CHECK(hyps[k - 1].score >= hyps[k].score);
      CHECK(seen.insert(hyps[k].tokens).second);
      // The search's own sum equals a fresh scoring of the same tokens: select() kept every
      // row's history with its score.
      CHECK(hyps[k].logprob ==
            Approx(model.sequence_logprob(with_eos, hyps[k].tokens)).margin(1e-4));
      const double len = static_cast<double>(hyps[k].tokens.size()) + 1;
      CHECK(hyps[k].score == Approx(hyps[k].logprob / std::pow(len, 0.6)).margin(1e-4));
      for (int tok : hyps[k].tokens) {
        CHECK(tok != kPadId);
        CHECK(tok != kBosId);
        CHECK(tok != kEosId);
      }
    }
  }
}

TEST_CASE("hypotheses respect the length limit and every search ends without EOS", "[decode]") {
  // EOS far below everything: only the forced EOS can end a hypothesis.
  MockSeq2Seq model(kV, random_scores(kV, -30.0f));
  for (int beam : {1, 3}) {
    for (bool greedy : {false, true}) {
      SearchOptions o;
      o.beam = beam;
      o.greedy = greedy;
      o.max_length_ratio = 1.5f;
      o.max_length_extra = 2;
      o.max_length = 8;
      auto src = sources();
      auto result = search(model, src, o);
      for (size_t i = 0; i < src.size(); ++i) {
        const int limit = std::min(8, static_cast<int>(1.5 * src[i].size()) + 2);
        CHECK(max_output_length(static_cast<int>(src[i].size()) + 1, o) == limit);
        REQUIRE(!result[i].empty());
        // Never over the limit; with EOS this unlikely, the search runs right up to it.
        CHECK(static_cast<int>(result[i][0].tokens.size()) == limit);
      }
      CHECK(model.steps.load() <= 1000);
    }
  }
}

TEST_CASE("beam search escapes a trap that greedy falls into", "[decode]") {
  // Step 0: A (4) = 0.5, B (5) = 0.4. After A every token is equally likely (EOS too); after B
  // EOS is almost certain. Greedy takes A; the best sequence is B EOS.
  ScoreFn trap = [](const std::vector<int>&, const std::vector<int>& h) {
    std::vector<float> p(kV, 1e-6f);
    if (h.size() == 1) {
      p[4] = 0.5f, p[5] = 0.4f, p[kEosId] = 0.1f;
    } else if (h[1] == 5) {
      p[kEosId] = 0.99f;
    } else {
      for (int v = 3; v < kV; ++v) p[v] = 1.0f / (kV - 3);
    }
    for (float& x : p) x = std::log(x);
    return p;
  };
  MockSeq2Seq model(kV, trap);
  SearchOptions greedy;
  greedy.greedy = true;
  SearchOptions beam;
  beam.beam = 3;
  auto g = search(model, {{6, 7}}, greedy);
  auto b = search(model, {{6, 7}}, beam);
  REQUIRE(g[0][0].tokens.at(0) == 4);
  CHECK(b[0][0].tokens == std::vector<int>{5});
  CHECK(b[0][0].score > g[0][0].score);
  // log 0.4 for B; after B the mock renormalises 0.99 against 1e-6s, so EOS costs ~1e-5.
  CHECK(b[0][0].logprob == Approx(std::log(0.4)).margin(1e-3));
}

TEST_CASE("attention rows are distributions over the sentence's own source positions", "[decode]") {
  MockSeq2Seq model(kV, random_scores(kV, 0.5f));
  SearchOptions o;
  o.beam = 4;
  o.n_best = 2;
  auto src = sources();
  auto result = search(model, src, o);
  for (size_t i = 0; i < src.size(); ++i) {
    for (const auto& h : result[i]) {
      REQUIRE(h.attention.size() == h.tokens.size() + 1);
      for (size_t t = 0; t < h.attention.size(); ++t) {
        REQUIRE(h.attention[t].size() == src[i].size() + 1);
        float sum = 0;
        for (float w : h.attention[t]) sum += w;
        CHECK(sum == Approx(1.0f).margin(1e-5));
        // The mock peaks at position t mod len: the row is the one of step t.
        const auto peak = std::max_element(h.attention[t].begin(), h.attention[t].end());
        CHECK(peak - h.attention[t].begin() == static_cast<long>(t % h.attention[t].size()));
      }
    }
  }
}

TEST_CASE("a batch gives each sentence what it gets alone, and finished sentences leave",
          "[decode]") {
  MockSeq2Seq model(kV, random_scores(kV, 0.3f));
  SearchOptions o;
  o.beam = 4;
  o.n_best = 3;
  auto src = sources();
  auto batched = search(model, src, o);
  // Rows never exceed live sentences x beam, and shrink as sentences finish.
  CHECK(model.max_rows.load() <= static_cast<int>(src.size()) * 4);
  for (size_t i = 0; i < src.size(); ++i) {
    auto alone = search(model, {src[i]}, o);
    REQUIRE(alone[0].size() == batched[i].size());
    for (size_t k = 0; k < alone[0].size(); ++k) {
      CHECK(alone[0][k].tokens == batched[i][k].tokens);
      CHECK(alone[0][k].score == Approx(batched[i][k].score));
    }
  }
}

TEST_CASE("a copy model is reproduced exactly by beam and greedy search", "[decode]") {
  MockSeq2Seq model(kV, copy_scores(kV));
  auto src = sources();
  for (bool greedy : {false, true}) {
    SearchOptions o;
    o.greedy = greedy;
    auto result = search(model, src, o);
    for (size_t i = 0; i < src.size(); ++i) CHECK(result[i][0].tokens == src[i]);
  }
}
