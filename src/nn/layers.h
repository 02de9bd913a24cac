// The basic layers both architectures are built from: Linear, Embedding, OutputLayer (tied to
// the embedding by default), LayerNorm. Each registers its parameters under its Scope's path.
// Not here: recurrent and attention layers (lstm.h, attention.h, transformer_blocks.h).
#pragma once

#include <span>

#include "autograd/ops.h"
#include "autograd/parameters.h"

namespace attnmt {

// Initialisers (write into a fresh tensor).
Tensor init_uniform(const Shape& shape, float bound, Rng& rng);  // U(-bound, bound)
Tensor init_normal(const Shape& shape, float stddev, Rng& rng);
// Xavier/Glorot uniform for a [out, in] weight.
Tensor init_xavier(int64_t out, int64_t in, Rng& rng);

class Linear {
 public:
  Linear() = default;
  // weight [out, in] at scope/weight, bias [out] at scope/bias.
  Linear(const Scope& scope, int64_t in, int64_t out, bool bias, Rng& rng);
  Var operator()(const Var& x) const { return linear(x, weight_, bias_); }  // [..., in] -> [..., out]
  const Var& weight() const { return weight_; }
  const Var& bias() const { return bias_; }

 private:
  Var weight_;  // [out, in]
  Var bias_;    // [out] or null
};

// One matrix for source and target (the vocabulary is joint), normal(0, D^-1/2) as the reference.
class Embedding {
 public:
  Embedding() = default;
  Embedding(const Scope& scope, int64_t vocab, int64_t dim, Rng& rng);
  // ids (row-major, shape ids_shape) -> ids_shape + [D]
  Var operator()(std::span<const int> ids, const Shape& ids_shape) const {
    return embedding(table_, ids, ids_shape);
  }
  const Var& table() const { return table_; }  // [V, D]
  int64_t dim() const { return table_->value.dim(1); }
  int64_t vocab() const { return table_->value.dim(0); }

 private:
  Var table_;
};

// Projection to the vocabulary and log-softmax. Tied: logits = x E^T with the embedding E
// (one tensor, gradients from both uses add up); untied: its own [V, D] weight.
class OutputLayer {
 public:
  OutputLayer() = default;
  OutputLayer(const Scope& scope, const Embedding& tied_to, bool tie, bool bias, Rng& rng);
  Var logits(const Var& x) const { return linear(x, weight_, bias_); }  // [..., D] -> [..., V]
  Var operator()(const Var& x) const { return log_softmax(logits(x)); }
  const Var& weight() const { return weight_; }

 private:
  Var weight_;  // [V, D]: the embedding table itself when tied
  Var bias_;    // [V] or null
};

class LayerNorm {
 public:
  LayerNorm() = default;
  LayerNorm(const Scope& scope, int64_t dim);  // gamma = 1, beta = 0
  Var operator()(const Var& x) const { return layer_norm(x, gamma_, beta_); }

 private:
  Var gamma_, beta_;  // [D]
};

}  // namespace attnmt
