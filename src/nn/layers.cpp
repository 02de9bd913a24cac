#include "nn/layers.h"

#include <cmath>

namespace attnmt {

Tensor init_uniform(const Shape& shape, float bound, Rng& rng) {
  Tensor t = Tensor::uninitialized(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(-bound, bound);
  return t;
}

Tensor init_normal(const Shape& shape, float stddev, Rng& rng) {
  Tensor t = Tensor::uninitialized(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.normal(0.0f, stddev);
  return t;
}

Tensor init_xavier(int64_t out, int64_t in, Rng& rng) {
  return init_uniform(Shape{out, in}, std::sqrt(6.0f / static_cast<float>(in + out)), rng);
}

Linear::Linear(const Scope& scope, int64_t in, int64_t out, bool bias, Rng& rng) {
  weight_ = scope.add("weight", init_xavier(out, in, rng));
  if (bias) bias_ = scope.add("bias", Tensor::zeros(Shape{out}));
}

Embedding::Embedding(const Scope& scope, int64_t vocab, int64_t dim, Rng& rng) {
  table_ = scope.add("weight", init_normal(Shape{vocab, dim}, 1.0f / std::sqrt(float(dim)), rng));
}

OutputLayer::OutputLayer(const Scope& scope, const Embedding& tied_to, bool tie, bool bias,
                         Rng& rng) {
  weight_ = tie ? tied_to.table() : scope.add("weight", init_xavier(tied_to.vocab(), tied_to.dim(), rng));
  if (bias) bias_ = scope.add("bias", Tensor::zeros(Shape{tied_to.vocab()}));
}

LayerNorm::LayerNorm(const Scope& scope, int64_t dim) {
  gamma_ = scope.add("gamma", Tensor::full(Shape{dim}, 1.0f));
  beta_ = scope.add("beta", Tensor::zeros(Shape{dim}));
}

}  // namespace attnmt
