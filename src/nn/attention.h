// Soft attention of the LSTM decoder over the encoder memory, with the three classic score
// functions: dot (h_t . h_s), general (Luong: h_t W_a h_s) and additive (Bahdanau:
// v . tanh(W_k h_s + W_q h_t)). Keys that do not depend on the query are computed once per
// sentence (`keys`), so a decoding step costs one small batched product.
// Not here: multi-head attention (the Transformer's blocks).
#pragma once

#include <span>
#include <utility>

#include "nn/kinds.h"
#include "nn/layers.h"

namespace attnmt {

class SoftAttention {
 public:
  SoftAttention() = default;
  // memory width M, query (decoder) width Q.
  SoftAttention(const Scope& scope, AttentionType type, int64_t M, int64_t Q, Rng& rng);
  // memory [B, S, M] -> keys [B, S, K] (K = M for dot, Q for general, Q for additive)
  Var keys(const Var& memory) const;
  // query [B, Q], keys [B, S, K], mask [B, S] (1 = real) -> weights [B, S], rows sum to 1
  Var weights(const Var& query, const Var& keys, const Tensor& mask) const;
  // weights [B, S], memory [B, S, M] -> context [B, M]
  static Var context(const Var& weights, const Var& memory);
  // One decoding step, without gradients, for N rows that read B sentences: query [N, Q];
  // keys [B, S, K], memory [B, S, M] and mask [B, S] are per sentence, row n reading sentence
  // sentence[n] (beam search's rows, never copied per row). Rows of one sentence that are
  // next to each other share one product. Returns weights [N, S] (as weights()) and the
  // context [N, M] (as context()).
  std::pair<Tensor, Tensor> attend_rows(const Tensor& query, const Tensor& keys,
                                        const Tensor& memory, const Tensor& mask,
                                        std::span<const int> sentence) const;

 private:
  AttentionType type_ = AttentionType::kDot;
  Linear w_a_;         // general: [Q, M]
  Linear w_k_, w_q_;   // additive: [Q, M], [Q, Q]
  Linear v_;           // additive: [1, Q]
};

}  // namespace attnmt
