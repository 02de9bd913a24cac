// Tests of incremental decoding's attention memory (nn/kv_cache.h): the cache against the fused
// attention op, and beam-search reordering through the KvRows table (rows duplicated, dropped,
// widened and narrowed) against each row's history kept by hand.
#include <algorithm>
#include <cmath>

#include "gradcheck.h"
#include "helpers.h"
#include "nn/kv_cache.h"
#include "nn/transformer_blocks.h"
#include "tensor/error.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {
Tensor kv_rnd(const Shape& s) { return random_tensor(s, test_rng(13)); }

// softmax(q k^T / sqrt(d)) v of one head over the first `klen` positions of a row's history
// (each position [2D]: keys of all heads, then values), written the plain way.
std::vector<float> naive_head(const float* q, const std::vector<std::vector<float>>& history,
                              int64_t h, int64_t d, int64_t D, int64_t klen) {
  std::vector<float> w(klen);
  float top = -1e30f;
  for (int64_t s = 0; s < klen; ++s) {
    double dot = 0;
    for (int64_t i = 0; i < d; ++i) dot += q[h * d + i] * history[s][h * d + i];
    w[s] = static_cast<float>(dot / std::sqrt(static_cast<double>(d)));
    top = std::max(top, w[s]);
  }
  double total = 0;
  for (float& x : w) total += (x = std::exp(x - top));
  std::vector<float> out(d, 0.0f);
  for (int64_t s = 0; s < klen; ++s)
    for (int64_t i = 0; i < d; ++i)
      out[i] += static_cast<float>(w[s] / total) * history[s][D + h * d + i];
  return out;
}
}  // namespace

TEST_CASE("attend_cached equals the fused attention op for the last query", "[nn][transformer]") {
  const int64_t N = 3, H = 2, S = 5, d = 4, D = H * d;
  Tensor q = kv_rnd({N, H, 1, d}), k = kv_rnd({N, H, S, d}), v = kv_rnd({N, H, S, d});
  std::vector<int> len{5, 3, 1};
  Tensor p_ref;
  Tensor ref = attention(constant(q), constant(k), constant(v), len, false, &p_ref)->value;
  // The same keys/values fed one position at a time through a growing cache.
  KvCache cache;
  for (int64_t s = 0; s < S; ++s) {
    Tensor kv = Tensor::zeros(Shape{N, 1 + 2 * D});  // one junk column first: offset 1
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < d; ++i) {
          kv.at({n, 1 + h * d + i}) = k.at({n, h, s, i});
          kv.at({n, 1 + D + h * d + i}) = v.at({n, h, s, i});
        }
    cache.append(kv, 1, H, d);
  }
  REQUIRE(cache.length == S);
  Tensor p;
  Tensor out = attend_cached(q.data(), D, N, cache, {}, len, &p);  // q [N, H, 1, d] = rows of D
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t i = 0; i < d; ++i)
        CHECK(out.at({n, h * d + i}) == Approx(ref.at({n, h, 0, i})).margin(1e-5));
      for (int64_t s = 0; s < S; ++s)
        CHECK(p.at({n, h, s}) == Approx(p_ref.at({n, h, 0, s})).margin(1e-6));
    }
  // A map that sends every row to stored row 0 (as the source cache is read by the beams of one
  // sentence) answers as row 0 does.
  const std::vector<int> zeros(N, 0);
  Tensor out0 = attend_cached(q.data(), D, N, cache, RowMap{zeros.data(), 1, 0}, {}, nullptr);
  Tensor ref0 = attention(constant(q), constant(index_rows(constant(k), zeros)->value),
                          constant(index_rows(constant(v), zeros)->value), {}, false)
                    ->value;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < D; ++i)
      CHECK(out0.at({n, i}) == Approx(ref0.at({n, i / d, 0, i % d})).margin(1e-5));
}

TEST_CASE("KvRows: reordered rows read their own past while the caches stay in place",
          "[nn][transformer][search]") {
  // With make_room before each step (as the Transformer does) and without it.
  for (bool compact : {false, true}) {
    INFO("make_room " << compact);
    const int64_t H = 2, d = 4, D = H * d, kSteps = 40;  // 40 > 16: the caches grow twice
    Rng& rng = test_rng(compact ? 6 : 5);
    int N = 2;
    KvRows rows(N);
    std::vector<KvCache> caches(2);  // two layers' caches share the table
    KvCache& cache = caches[0];
    std::vector<std::vector<std::vector<float>>> history(N);  // [row][position][2D]
    int64_t widest = N, compactions = 0;
    for (int64_t t = 0; t < kSteps; ++t) {
      if (compact && make_room(caches, rows)) {
        // Only the live rows' pasts were kept, each in its own row, in one run.
        ++compactions;
        for (const KvCache& c : caches) {
          CHECK(c.k.dim(0) == N);
          CHECK(c.capacity() == 2 * t);
        }
        for (int n = 0; n < N; ++n)
          for (int64_t s = 0; s < t; ++s) REQUIRE(rows.map().at(n, s) == n);
      }
      rows.append();
      caches[1].append(kv_rnd({N, 2 * D}), 0, H, d);
      Tensor kv = kv_rnd({N, 3 + 2 * D});  // keys and values at column 3
      cache.append(kv, 3, H, d);
      for (int n = 0; n < N; ++n)
        history[n].emplace_back(kv.data() + n * (3 + 2 * D) + 3, kv.data() + (n + 1) * (3 + 2 * D));
      REQUIRE(rows.length() == t + 1);
      REQUIRE(cache.length == t + 1);
      // Every row against its own history; odd steps mask each row's keys past a random length.
      Tensor q = kv_rnd({N, D});
      std::vector<int> klen;
      if (t % 2 == 1)
        for (int n = 0; n < N; ++n) klen.push_back(1 + static_cast<int>(rng.next() % (t + 1)));
      Tensor out = attend_cached(q.data(), D, N, cache, rows.map(), klen, nullptr);
      int wrong = 0;
      for (int n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h) {
          const int64_t L = klen.empty() ? t + 1 : klen[n];
          const std::vector<float> ref = naive_head(q.data() + n * D, history[n], h, d, D, L);
          for (int64_t i = 0; i < d; ++i)
            wrong += std::abs(out.at({n, h * d + i}) - ref[i]) > 1e-5f;
        }
      CHECK(wrong == 0);
      // Reorder as beam search does: the next rows, 1 to 6 of them, each continuing a random
      // old row (so rows are duplicated and dropped; the count widens and narrows).
      const int next = 1 + static_cast<int>(rng.next() % 6);
      std::vector<int> pick(next);
      for (int& r : pick) r = static_cast<int>(rng.next() % N);
      std::vector<std::vector<std::vector<float>>> moved;
      for (int r : pick) moved.push_back(history[r]);
      history = std::move(moved);
      rows.select(pick);
      N = next;
      widest = std::max<int64_t>(widest, N);
    }
    // Stored rows never exceed the widest the search has been: nothing is stored per reorder.
    CHECK(cache.k.dim(0) <= widest);
    CHECK(compactions == (compact ? 2 : 0));  // at 16 and 32 positions
    CHECK_THROWS_WITH(rows.select(std::vector<int>{N}), Catch::Contains("KvRows::select: row"));
  }
}
