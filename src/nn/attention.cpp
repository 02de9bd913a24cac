#include "nn/attention.h"

#include "tensor/error.h"

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

}  // namespace attnmt
