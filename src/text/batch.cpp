// Token-budget batching: shuffle, pool, sort by length, cut, shuffle batch order.
#include "text/batch.h"

#include <algorithm>
#include <numeric>

#include "tensor/error.h"
#include "tensor/random.h"

namespace attnmt {

namespace {

// splitmix64 finaliser: mixes (seed, epoch) into one well-spread generator seed, so that
// neighbouring epochs and seeds give unrelated orders.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Fisher-Yates with our own index draws: std::shuffle's sequence differs between standard
// libraries, and a resumed run must see the same order everywhere.
template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.next() % i]);
}

int64_t tgt_tokens(const ParallelCorpus& c, int64_t i) {
  return static_cast<int64_t>(c.tgt[i].size()) + 1;  // + EOS
}

// Cuts `order` (already arranged) into consecutive batches within the budget.
void cut(const ParallelCorpus& corpus, std::span<const int64_t> order, const BatchOptions& o,
         std::vector<std::vector<int64_t>>& out) {
  std::vector<int64_t> cur;
  int64_t tokens = 0;
  for (int64_t i : order) {
    int64_t t = tgt_tokens(corpus, i);
    bool full = tokens + t > o.batch_tokens ||
                (o.max_sentences > 0 && static_cast<int>(cur.size()) >= o.max_sentences);
    if (!cur.empty() && full) {
      out.push_back(std::move(cur));
      cur.clear();
      tokens = 0;
    }
    cur.push_back(i);
    tokens += t;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
}

void check(const BatchOptions& o) {
  ATTNMT_CHECK(o.batch_tokens > 0, "batch token budget must be positive (got {})", o.batch_tokens);
  ATTNMT_CHECK(o.pool_batches > 0, "pool size in batches must be positive (got {})",
               o.pool_batches);
  ATTNMT_CHECK(o.max_sentences >= 0, "max sentences per batch must be >= 0");
}

}  // namespace

namespace {

// Batch::guide from the corpus's piece links: each linked target piece's row spreads 1 evenly
// over its source pieces.
void add_guide(const ParallelCorpus& corpus, std::span<const int64_t> indices, Batch& b) {
  const int64_t T = b.tgt_out.cols, S = b.src.cols;
  b.guide.assign(static_cast<size_t>(b.size()) * T * S, 0.0f);
  for (int r = 0; r < b.size(); ++r) {
    float* g = b.guide.data() + static_cast<size_t>(r) * T * S;
    for (const auto& [i, j] : corpus.guide[indices[r]]) {
      ATTNMT_CHECK(i >= 0 && i < b.src_len[r] - 1 && j >= 0 && j < b.tgt_len[r] - 1,
                   "guided alignment: link {}-{} is outside pair {} ({} x {} pieces)", i, j,
                   indices[r], b.src_len[r] - 1, b.tgt_len[r] - 1);
      g[j * S + i] = 1.0f;
    }
    for (int64_t t = 0; t < T; ++t) {
      float* row = g + t * S;
      float sum = 0;
      for (int64_t s = 0; s < S; ++s) sum += row[s];
      if (sum == 0) continue;
      for (int64_t s = 0; s < S; ++s) row[s] /= sum;
      ++b.guided_rows;
    }
  }
}

}  // namespace

Batch make_batch(const ParallelCorpus& corpus, std::span<const int64_t> indices) {
  Batch b;
  const int n = static_cast<int>(indices.size());
  int max_s = 0, max_t = 0;
  for (int64_t i : indices) {
    ATTNMT_CHECK(i >= 0 && i < corpus.size(), "make_batch: index {} outside corpus of {}", i,
                 corpus.size());
    max_s = std::max(max_s, static_cast<int>(corpus.src[i].size()) + 1);
    max_t = std::max(max_t, static_cast<int>(corpus.tgt[i].size()) + 1);
  }
  auto shape = [n](IdMatrix& m, int cols) {
    m.rows = n;
    m.cols = cols;
    m.ids.assign(static_cast<size_t>(n) * cols, kPadId);
  };
  shape(b.src, max_s);
  shape(b.tgt_in, max_t);
  shape(b.tgt_out, max_t);
  b.src_len.resize(n);
  b.tgt_len.resize(n);
  b.index.assign(indices.begin(), indices.end());
  for (int r = 0; r < n; ++r) {
    const auto& s = corpus.src[indices[r]];
    const auto& t = corpus.tgt[indices[r]];
    const int ls = static_cast<int>(s.size()), lt = static_cast<int>(t.size());
    std::copy(s.begin(), s.end(), &b.src.at(r, 0));
    b.src.at(r, ls) = kEosId;
    b.tgt_in.at(r, 0) = kBosId;
    std::copy(t.begin(), t.end(), &b.tgt_in.at(r, 0) + 1);
    std::copy(t.begin(), t.end(), &b.tgt_out.at(r, 0));
    b.tgt_out.at(r, lt) = kEosId;
    b.src_len[r] = ls + 1;
    b.tgt_len[r] = lt + 1;
    b.n_tgt_tokens += lt + 1;
  }
  if (!corpus.guide.empty()) add_guide(corpus, indices, b);
  return b;
}

std::vector<Batch> make_epoch_batches(const ParallelCorpus& corpus, const BatchOptions& o,
                                      uint64_t seed, int64_t epoch) {
  check(o);
  Rng rng(mix(mix(seed) ^ static_cast<uint64_t>(epoch)));
  std::vector<int64_t> order(corpus.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);

  const int64_t pool_tokens = o.batch_tokens * o.pool_batches;
  std::vector<std::vector<int64_t>> groups;
  size_t begin = 0;
  while (begin < order.size()) {
    size_t end = begin;
    int64_t tokens = 0;
    while (end < order.size() && tokens < pool_tokens) tokens += tgt_tokens(corpus, order[end++]);
    // Similar lengths side by side: less padding. stable_sort keeps it deterministic.
    std::stable_sort(order.begin() + begin, order.begin() + end, [&](int64_t a, int64_t b) {
      if (corpus.tgt[a].size() != corpus.tgt[b].size())
        return corpus.tgt[a].size() < corpus.tgt[b].size();
      return corpus.src[a].size() < corpus.src[b].size();
    });
    cut(corpus, std::span<const int64_t>(order).subspan(begin, end - begin), o, groups);
    begin = end;
  }
  // Sorted pools would otherwise feed short batches first, then long ones.
  shuffle(groups, rng);
  std::vector<Batch> batches;
  batches.reserve(groups.size());
  for (const auto& g : groups) batches.push_back(make_batch(corpus, g));
  return batches;
}

std::vector<Batch> make_ordered_batches(const ParallelCorpus& corpus, const BatchOptions& o) {
  check(o);
  std::vector<int64_t> order(corpus.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::vector<int64_t>> groups;
  cut(corpus, order, o, groups);
  std::vector<Batch> batches;
  for (const auto& g : groups) batches.push_back(make_batch(corpus, g));
  return batches;
}

}  // namespace attnmt
