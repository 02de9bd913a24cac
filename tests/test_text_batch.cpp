// Token-budget batching (text/batch.h) on synthetic corpora: coverage, determinism, budget,
// padding and the BOS/EOS layout.
#include <algorithm>
#include <map>

#include "helpers.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "text/batch.h"

using namespace attnmt;

namespace {

// n pairs with random lengths in [1, max_len]; ids are >= 4 so specials stand out.
ParallelCorpus synthetic(int n, int max_len, uint64_t seed) {
  Rng rng(seed);
  ParallelCorpus c;
  for (int i = 0; i < n; ++i) {
    std::vector<int> s(1 + rng.next() % max_len), t(1 + rng.next() % max_len);
    for (int& x : s) x = 4 + static_cast<int>(rng.next() % 100);
    for (int& x : t) x = 4 + static_cast<int>(rng.next() % 100);
    c.src.push_back(s);
    c.tgt.push_back(t);
    c.line_no.push_back(i + 1);
  }
  return c;
}

std::vector<int64_t> all_indices(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.index.begin(), b.index.end());
  return out;
}

}  // namespace

TEST_CASE("one epoch holds every pair exactly once", "[text][batch]") {
  ParallelCorpus c = synthetic(1000, 30, 7);
  BatchOptions o;
  o.batch_tokens = 200;
  o.pool_batches = 5;
  auto batches = make_epoch_batches(c, o, 1, 0);
  auto idx = all_indices(batches);
  REQUIRE(idx.size() == 1000);
  std::sort(idx.begin(), idx.end());
  for (int64_t i = 0; i < 1000; ++i) CHECK(idx[i] == i);
}

TEST_CASE("batches are deterministic per (seed, epoch) and change across epochs", "[text][batch]") {
  ParallelCorpus c = synthetic(500, 20, 3);
  BatchOptions o;
  o.batch_tokens = 150;
  o.pool_batches = 4;
  auto a = make_epoch_batches(c, o, 42, 3);
  auto b = make_epoch_batches(c, o, 42, 3);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].index == b[i].index);
    CHECK(a[i].src.ids == b[i].src.ids);
    CHECK(a[i].tgt_out.ids == b[i].tgt_out.ids);
  }
  CHECK(all_indices(a) != all_indices(make_epoch_batches(c, o, 42, 4)));
  CHECK(all_indices(a) != all_indices(make_epoch_batches(c, o, 43, 3)));
}

TEST_CASE("the target token budget counts real tokens with EOS and is respected", "[text][batch]") {
  ParallelCorpus c = synthetic(800, 40, 11);
  // One pair far over the budget must still come out, alone.
  c.src.push_back(std::vector<int>(10, 5));
  c.tgt.push_back(std::vector<int>(300, 6));
  c.line_no.push_back(801);
  BatchOptions o;
  o.batch_tokens = 120;
  o.pool_batches = 10;
  auto batches = make_epoch_batches(c, o, 5, 1);
  bool saw_long = false;
  for (const auto& b : batches) {
    int64_t real = 0;
    for (int64_t i : b.index) real += static_cast<int64_t>(c.tgt[i].size()) + 1;
    CHECK(b.n_tgt_tokens == real);
    if (b.size() > 1) CHECK(b.n_tgt_tokens <= o.batch_tokens);
    if (std::find(b.index.begin(), b.index.end(), 800) != b.index.end()) {
      saw_long = true;
      CHECK(b.size() == 1);
      CHECK(b.n_tgt_tokens == 301);
    }
  }
  CHECK(saw_long);
  // The budget is used, not just respected: batches are mostly well filled.
  int64_t total = 0;
  for (const auto& b : batches) total += b.n_tgt_tokens;
  CHECK(static_cast<double>(total) / batches.size() > 0.7 * o.batch_tokens);
}

TEST_CASE("max_sentences caps the rows of a batch", "[text][batch]") {
  ParallelCorpus c = synthetic(300, 5, 2);
  BatchOptions o;
  o.batch_tokens = 10000;
  o.max_sentences = 16;
  auto batches = make_epoch_batches(c, o, 1, 0);
  for (const auto& b : batches) CHECK(b.size() <= 16);
  CHECK(all_indices(batches).size() == 300);
}

TEST_CASE("make_batch lays out EOS, BOS and padding", "[text][batch]") {
  ParallelCorpus c;
  c.src = {{10, 11, 12}, {20}};
  c.tgt = {{30}, {40, 41, 42, 43}};
  c.line_no = {1, 2};
  std::vector<int64_t> idx = {1, 0};
  Batch b = make_batch(c, idx);
  REQUIRE(b.src.rows == 2);
  REQUIRE(b.src.cols == 4);      // 3 ids + EOS
  REQUIRE(b.tgt_in.cols == 5);   // BOS + 4 ids
  REQUIRE(b.tgt_out.cols == 5);  // 4 ids + EOS
  CHECK(b.src.ids == std::vector<int>{20, kEosId, kPadId, kPadId, 10, 11, 12, kEosId});
  CHECK(b.tgt_in.ids ==
        std::vector<int>{kBosId, 40, 41, 42, 43, kBosId, 30, kPadId, kPadId, kPadId});
  CHECK(b.tgt_out.ids ==
        std::vector<int>{40, 41, 42, 43, kEosId, 30, kEosId, kPadId, kPadId, kPadId});
  CHECK(b.src_len == std::vector<int>{2, 4});
  CHECK(b.tgt_len == std::vector<int>{5, 2});
  CHECK(b.index == std::vector<int64_t>{1, 0});
  CHECK(b.n_tgt_tokens == 7);
}

TEST_CASE("every batch pads exactly beyond the real lengths", "[text][batch]") {
  ParallelCorpus c = synthetic(400, 25, 9);
  BatchOptions o;
  o.batch_tokens = 100;
  for (const auto& b : make_epoch_batches(c, o, 3, 2)) {
    for (int r = 0; r < b.size(); ++r) {
      const auto& s = c.src[b.index[r]];
      const auto& t = c.tgt[b.index[r]];
      REQUIRE(b.src_len[r] == static_cast<int>(s.size()) + 1);
      REQUIRE(b.tgt_len[r] == static_cast<int>(t.size()) + 1);
      for (int j = 0; j < b.src.cols; ++j) {
        int want = j < static_cast<int>(s.size()) ? s[j] : j == b.src_len[r] - 1 ? kEosId : kPadId;
        REQUIRE(b.src.at(r, j) == want);
      }
      for (int j = 0; j < b.tgt_out.cols; ++j) {
        bool pad = j >= b.tgt_len[r];
        REQUIRE((b.tgt_out.at(r, j) == kPadId) == pad);
        REQUIRE((b.tgt_in.at(r, j) == kPadId) == pad);
      }
    }
  }
}

TEST_CASE("ordered batches keep corpus order", "[text][batch]") {
  ParallelCorpus c = synthetic(100, 10, 4);
  BatchOptions o;
  o.batch_tokens = 50;
  auto idx = all_indices(make_ordered_batches(c, o));
  REQUIRE(idx.size() == 100);
  for (int64_t i = 0; i < 100; ++i) CHECK(idx[i] == i);
}

TEST_CASE("a non-positive budget is an error", "[text][batch]") {
  ParallelCorpus c = synthetic(10, 5, 1);
  BatchOptions o;
  o.batch_tokens = 0;
  CHECK_THROWS_AS(make_epoch_batches(c, o, 1, 0), Error);
}
