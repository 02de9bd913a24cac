#include "nn/attention.h"

#include <cmath>
#include <vector>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

SoftAttention::SoftAttention(const Scope& scope, AttentionType type, int64_t M, int64_t Q,
                             Rng& rng)
    : type_(type) {
  switch (type) {
    case AttentionType::kGeneral:
      w_a_ = Linear(scope / "w_a", M, Q, false, rng);
      break;
    case AttentionType::kAdditive:
      w_k_ = Linear(scope / "w_k", M, Q, false, rng);
      w_q_ = Linear(scope / "w_q", Q, Q, true, rng);
      v_ = Linear(scope / "v", Q, 1, false, rng);
      break;
    case AttentionType::kDot:
      ATTNMT_CHECK(M == Q, "dot attention needs equal memory ({}) and query ({}) widths", M, Q);
      break;
  }
}

Var SoftAttention::keys(const Var& memory) const {
  switch (type_) {
    case AttentionType::kGeneral: return w_a_(memory);
    case AttentionType::kAdditive: return w_k_(memory);
    case AttentionType::kDot: break;
  }
  return memory;
}

Var SoftAttention::weights(const Var& query, const Var& keys, const Tensor& mask) const {
  const int64_t B = keys->value.dim(0), S = keys->value.dim(1), K = keys->value.dim(2);
  Var scores;  // [B, S]
  if (type_ == AttentionType::kAdditive) {
    Var pre = tanh(add_broadcast(keys, w_q_(query)));  // [B, S, K]
    scores = reshape(v_(pre), Shape{B, S});
  } else {
    Var q = reshape(query, Shape{B, 1, K});
    scores = reshape(bmm(q, keys, false, true), Shape{B, S});  // [B, 1, S]
  }
  return softmax(scores, &mask);
}

Var SoftAttention::context(const Var& weights, const Var& memory) {
  const int64_t B = memory->value.dim(0), S = memory->value.dim(1), M = memory->value.dim(2);
  return reshape(bmm(reshape(weights, Shape{B, 1, S}), memory), Shape{B, M});
}

std::pair<Tensor, Tensor> SoftAttention::attend_rows(const Tensor& query, const Tensor& keys,
                                                     const Tensor& memory, const Tensor& mask,
                                                     std::span<const int> sentence) const {
  const int64_t N = query.dim(0), B = keys.dim(0), S = keys.dim(1), K = keys.dim(2);
  const int64_t M = memory.dim(2);
  ATTNMT_CHECK(static_cast<int64_t>(sentence.size()) == N && memory.dim(0) == B &&
                   memory.dim(1) == S && mask.numel() == B * S,
               "attend_rows: {} rows for a query {}, keys {}, memory {}, mask {}",
               sentence.size(), query.shape().str(), keys.shape().str(), memory.shape().str(),
               mask.shape().str());
  for (int b : sentence) ATTNMT_CHECK(b >= 0 && b < B, "attend_rows: sentence {} of {}", b, B);
  // Additive scores need the projected query, v . tanh(keys + W_q q); dot and general score
  // q . keys (general's keys are W_a memory already).
  const bool additive = type_ == AttentionType::kAdditive;
  Tensor q = additive ? w_q_(constant(query))->value : query;  // [N, K]
  ATTNMT_CHECK(q.dim(1) == K, "attend_rows: a query of {} for keys of {}", q.dim(1), K);
  const float* v = additive ? v_.weight()->value.data() : nullptr;  // [1, K]
  std::vector<int64_t> starts;  // group g = rows [starts[g], starts[g + 1]), one sentence
  for (int64_t n = 0; n < N; ++n)
    if (n == 0 || sentence[n] != sentence[n - 1]) starts.push_back(n);
  starts.push_back(N);
  const int64_t G = static_cast<int64_t>(starts.size()) - 1;
  Tensor weights = Tensor::uninitialized(Shape{N, S}), context = Tensor::uninitialized(Shape{N, M});
  kernels::parallel_for(G, std::max<int64_t>(1, N / std::max<int64_t>(G, 1)) * S * (K + M),
                        [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t n0 = starts[g], m = starts[g + 1] - n0;
      const int64_t b = sentence[n0];
      const float* kb = keys.data() + b * S * K;  // [S, K]
      float* w = weights.data() + n0 * S;         // [m, S]
      if (additive) {
        for (int64_t r = 0; r < m; ++r)
          for (int64_t s = 0; s < S; ++s) {
            const float* qn = q.data() + (n0 + r) * K;
            float score = 0.0f;
            for (int64_t k = 0; k < K; ++k) score += v[k] * std::tanh(kb[s * K + k] + qn[k]);
            w[r * S + s] = score;
          }
      } else {
        gemm_local(false, true, m, S, K, 1.0f, q.data() + n0 * K, kb, 0.0f, w);  // q keys^T
      }
      for (int64_t r = 0; r < m; ++r)
        kernels::softmax_rows(w + r * S, w + r * S, 1, S, mask.data() + b * S);
      gemm_local(false, false, m, M, S, 1.0f, w, memory.data() + b * S * M, 0.0f,
                 context.data() + n0 * M);  // [m, M] = w memory
    }
  });
  return {weights, context};
}

}  // namespace attnmt
