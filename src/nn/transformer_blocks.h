// The Transformer's building blocks: multi-head attention (teacher-forced on [B, T, D] inputs;
// incremental decoding's key/value cache is nn/kv_cache.h), the position-wise
// feed-forward block, positional encodings (sinusoidal or learned), and the few fused ops they
// need (head split/merge, scaled embeddings plus positions), forward and backward side by side.
// Legend: B batch, T query length, S key length, D model width, H heads, d = D / H,
//         F feed-forward width.
// Not here: the encoder/decoder stacks, norms and residuals (models/transformer.*).
#pragma once

#include <span>
#include <string>

#include "nn/kinds.h"
#include "nn/layers.h"

namespace attnmt {

// ---- fused ops (transformer_blocks.cpp; gradient-checked in tests/test_nn_transformer_blocks.cpp)
// x [B, T, C]: columns [begin, begin + H*d) split into heads -> [B, H, T, d] (one copy).
Var split_heads(const Var& x, int64_t begin, int64_t H, int64_t d);
// x [B, H, T, d] -> [B, T, H*d] (one copy).
Var merge_heads(const Var& x);
// x [B, T, D] * s + pos [T, D] (broadcast over B) in one pass.
Var scale_add_positions(const Var& x, float s, const Var& pos);

// The sinusoidal table [n, D] of the reference: even columns sin(p f_i), odd cos(p f_i),
// f_i = 10000^(-2i/D).
Tensor sinusoidal_table(int64_t n, int64_t D);

// Positions added to scaled embeddings. Sinusoidal (a constant table) or learned (a parameter
// [max_positions, D] at scope/weight).
class PositionalEncoding {
 public:
  PositionalEncoding() = default;
  PositionalEncoding(const Scope& scope, bool learned, int64_t max_positions, int64_t D, Rng& rng);
  // emb [B, T, D] -> emb * sqrt(D) + positions [offset, offset + T). Throws when past the table.
  Var operator()(const Var& emb, int64_t offset) const;
  int64_t max_positions() const { return table_->value.dim(0); }

 private:
  Var table_;  // [max_positions, D]: a constant or a parameter
  bool learned_ = false;
};

// Scaled dot-product attention as the model uses it: the fused op (attention dropout included
// when training), or the unfused product (scores, masked softmax, dropout, product) when
// log_probs is asked for.
// q [B, H, T, d], k and v [B, H, S, d] -> [B, H, T, d]; probs (optional) [B, H, T, S].
// log_probs (optional) receives the weights' logarithms [B, H, T, S] as a graph node, for a loss
// on the attention (guided alignment; the unfused path then runs, masked entries -1e30).
Var scaled_attention(const Var& q, const Var& k, const Var& v, std::span<const int> key_lengths,
                     bool causal, float dropout_p, Rng& rng, bool training, Tensor* probs,
                     Var* log_probs = nullptr);

// Multi-head attention with biases on every projection (as torch.nn.Linear): parameters at
// scope/{query,key,value,output}/{weight [D, D], bias [D]}. The query/key/value projections
// run as one GEMM on the concatenated weights (self-attention [3D, D], source attention's
// keys/values [2D, D]).
class MultiHeadAttention {
 public:
  MultiHeadAttention() = default;
  MultiHeadAttention(const Scope& scope, int64_t D, int64_t H, Rng& rng);

  // Self-attention: x [B, T, D]; keys at t >= lengths[b] masked (empty span: none), `causal`
  // masks the future. -> [B, T, D]
  Var self_attention(const Var& x, std::span<const int> lengths, bool causal, float dropout_p,
                     Rng& rng, bool training, Tensor* probs = nullptr) const;
  // Attention of x [B, T, D] over memory [B, S, D] with memory_lengths [B]. -> [B, T, D]
  // log_probs: see scaled_attention.
  Var source_attention(const Var& x, const Var& memory, std::span<const int> memory_lengths,
                       float dropout_p, Rng& rng, bool training, Tensor* probs = nullptr,
                       Var* log_probs = nullptr) const;

  // Pieces for incremental decoding (and for the two calls above).
  Var qkv_weight() const;  // [3D, D] concatenated query, key, value weights
  Var qkv_bias() const;    // [3D]
  Var kv_weight() const;   // [2D, D]
  Var kv_bias() const;     // [2D]
  const Linear& query() const { return query_; }
  const Linear& output() const { return output_; }
  int64_t heads() const { return heads_; }
  int64_t head_dim() const { return head_dim_; }

 private:
  Linear query_, key_, value_, output_;
  int64_t heads_ = 0, head_dim_ = 0;
};

// Position-wise feed-forward: outer(dropout(act(inner(x)))); inner [F, D] and outer [D, F]
// with biases at scope/{inner,outer}.
class FeedForward {
 public:
  FeedForward() = default;
  FeedForward(const Scope& scope, int64_t D, int64_t F, Activation activation, Rng& rng);
  Var operator()(const Var& x, float dropout_p, Rng& rng, bool training) const;  // [..., D]

 private:
  Linear inner_, outer_;
  Activation activation_ = Activation::kRelu;
};

}  // namespace attnmt
