#include "nn/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

void KvCache::assign(const Tensor& k_all, const Tensor& v_all) {
  k = k_all;
  v = v_all;
  length = k_all.dim(2);
}

void KvCache::append(const Tensor& kv, int64_t kv_offset, int64_t H, int64_t d) {
  const int64_t N = kv.dim(0), C = kv.shape().last(), D = H * d;
  ATTNMT_CHECK(kv_offset >= 0 && kv_offset + 2 * D <= C,
               "KvCache::append: keys and values at column {} + {} of {}", kv_offset, 2 * D, C);
  const int64_t P = k.empty() ? 0 : k.dim(0);
  if (length == capacity() || N > P) {  // grow: positions by doubling, rows to N; keep the past
    const int64_t cap = length == capacity() ? std::max<int64_t>(16, 2 * capacity()) : capacity();
    const int64_t rows = std::max(N, P), old_cap = capacity();
    Tensor nk = Tensor::uninitialized(Shape{rows, H, cap, d});
    Tensor nv = Tensor::uninitialized(Shape{rows, H, cap, d});
    for (int64_t g = 0; g < P * H && length > 0; ++g) {
      std::memcpy(nk.data() + g * cap * d, k.data() + g * old_cap * d, length * d * sizeof(float));
      std::memcpy(nv.data() + g * cap * d, v.data() + g * old_cap * d, length * d * sizeof(float));
    }
    k = nk;
    v = nv;
  }
  ATTNMT_CHECK(k.dim(1) == H && k.dim(3) == d, "KvCache::append: {} heads of {} into a cache {}",
               H, d, k.shape().str());
  const int64_t cap = capacity();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h) {
      const float* src = kv.data() + n * C + kv_offset + h * d;
      std::memcpy(k.data() + ((n * H + h) * cap + length) * d, src, d * sizeof(float));
      std::memcpy(v.data() + ((n * H + h) * cap + length) * d, src + D, d * sizeof(float));
    }
  ++length;
}

void KvRows::append() {
  if (length_ == capacity_) {  // grow by doubling, keeping each row's past
    const int64_t cap = std::max<int64_t>(16, 2 * capacity_);
    std::vector<int> grown(static_cast<size_t>(rows_ * cap));
    for (int64_t n = 0; n < rows_; ++n)
      std::copy_n(table_.data() + n * capacity_, length_, grown.data() + n * cap);
    table_.swap(grown);
    capacity_ = cap;
  }
  for (int n = 0; n < rows_; ++n) table_[n * capacity_ + length_] = n;
  ++length_;
}

void KvRows::reset_to_own_rows() {
  for (int n = 0; n < rows_; ++n) std::fill_n(table_.data() + n * capacity_, length_, n);
}

void KvRows::select(std::span<const int> rows) {
  spare_.resize(rows.size() * static_cast<size_t>(capacity_));
  for (size_t i = 0; i < rows.size(); ++i) {
    ATTNMT_CHECK(rows[i] >= 0 && rows[i] < rows_, "KvRows::select: row {} of {}", rows[i], rows_);
    std::copy_n(table_.data() + rows[i] * capacity_, length_, spare_.data() + i * capacity_);
  }
  table_.swap(spare_);
  rows_ = static_cast<int>(rows.size());
}

namespace {

// Calls f(row, s0, s1) for each run [s0, s1) of positions < L that row n reads from one stored
// row: a run's keys and values are contiguous, so each run is one matrix-vector product.
template <class F>
void for_each_run(const RowMap& map, int64_t n, int64_t L, F&& f) {
  for (int64_t s0 = 0; s0 < L;) {
    const int row = map.at(n, s0);
    int64_t s1 = s0 + 1;
    while (s1 < L && map.at(n, s1) == row) ++s1;
    f(row, s0, s1);
    s0 = s1;
  }
}

}  // namespace

bool make_room(std::span<KvCache> caches, KvRows& rows) {
  if (caches.empty() || caches[0].length == 0 || caches[0].length < caches[0].capacity())
    return false;
  const int64_t N = rows.rows(), L = rows.length();
  const RowMap map = rows.map();
  const int64_t P = caches[0].k.dim(0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < L; ++s)
      ATTNMT_CHECK(map.at(n, s) >= 0 && map.at(n, s) < P,
                   "make_room: row {} reads stored row {} of {}", n, map.at(n, s), P);
  for (KvCache& c : caches) {
    ATTNMT_CHECK(c.length == L && c.length == c.capacity() && c.k.dim(0) == P,
                 "make_room: a cache of {} positions (capacity {}, {} rows) beside a row table "
                 "of {} positions ({} rows)", c.length, c.capacity(), c.k.dim(0), L, P);
    const int64_t H = c.k.dim(1), d = c.k.dim(3), cap = 2 * c.capacity();
    Tensor nk = Tensor::uninitialized(Shape{N, H, cap, d});
    Tensor nv = Tensor::uninitialized(Shape{N, H, cap, d});
    kernels::parallel_for(N * H, L * d, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        const int64_t n = g / H, h = g % H;
        for_each_run(map, n, L, [&](int row, int64_t s0, int64_t s1) {
          const int64_t from = ((row * H + h) * L + s0) * d, to = (g * cap + s0) * d;
          std::memcpy(nk.data() + to, c.k.data() + from, (s1 - s0) * d * sizeof(float));
          std::memcpy(nv.data() + to, c.v.data() + from, (s1 - s0) * d * sizeof(float));
        });
      }
    });
    c.k = nk;
    c.v = nv;
  }
  rows.reset_to_own_rows();
  return true;
}

Tensor attend_cached(const float* q, int64_t q_stride, int64_t N, const KvCache& cache,
                     const RowMap& map, std::span<const int> key_lengths, Tensor* probs) {
  const int64_t P = cache.k.dim(0), H = cache.k.dim(1), cap = cache.capacity();
  const int64_t d = cache.k.dim(3), L = cache.length, D = H * d;
  ATTNMT_CHECK(key_lengths.empty() || static_cast<int64_t>(key_lengths.size()) == N,
               "attend_cached: {} key lengths for {} rows", key_lengths.size(), N);
  ATTNMT_CHECK(L > 0, "attend_cached: the cache holds no position");
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < L; ++s)
      ATTNMT_CHECK(map.at(n, s) >= 0 && map.at(n, s) < P,
                   "attend_cached: row {} reads stored row {} of {}", n, map.at(n, s), P);
  const float alpha = 1.0f / std::sqrt(static_cast<float>(d));
  Tensor out = Tensor::uninitialized(Shape{N, D});
  Tensor W = Tensor::uninitialized(Shape{N, H, L});
  kernels::parallel_for(N * H, L * d, [&](int64_t g0, int64_t g1) {
    std::vector<float> mask(L);
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t n = g / H, h = g % H;
      const float* qg = q + n * q_stride + h * d;
      float* p = W.data() + g * L;
      for_each_run(map, n, L, [&](int row, int64_t s0, int64_t s1) {
        const float* K = cache.k.data() + ((row * H + h) * cap + s0) * d;  // [s1 - s0, d]
        gemm_local(false, true, 1, s1 - s0, d, alpha, qg, K, 0.0f, p + s0);  // alpha q K^T
      });
      const int64_t klen = key_lengths.empty() ? L : std::min<int64_t>(L, key_lengths[n]);
      for (int64_t s = 0; s < L; ++s) mask[s] = s < klen ? 1.0f : 0.0f;
      kernels::softmax_rows(p, p, 1, L, mask.data());
      float* o = out.data() + n * D + h * d;  // [1, d] = sum over runs of p V
      float beta = 0.0f;
      for_each_run(map, n, L, [&](int row, int64_t s0, int64_t s1) {
        const float* V = cache.v.data() + ((row * H + h) * cap + s0) * d;
        gemm_local(false, false, 1, d, s1 - s0, 1.0f, p + s0, V, beta, o);
        beta = 1.0f;
      });
    }
  });
  if (probs) *probs = W;
  return out;
}

}  // namespace attnmt
