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
  weight_ = scope.add("weight", Shape{out, in}, [&] { return init_xavier(out, in, rng); });
  if (bias) bias_ = scope.add("bias", Shape{out}, [&] { return Tensor::zeros(Shape{out}); });
}

Embedding::Embedding(const Scope& scope, int64_t vocab, int64_t dim, Rng& rng) {
  const Shape shape{vocab, dim};
  table_ = scope.add("weight", shape,
                     [&] { return init_normal(shape, 1.0f / std::sqrt(float(dim)), rng); });
}

OutputLayer::OutputLayer(const Scope& scope, const Embedding& tied_to, bool tie, bool bias,
                         Rng& rng) {
  const int64_t V = tied_to.vocab(), D = tied_to.dim();
  weight_ = tie ? tied_to.table()
                : scope.add("weight", Shape{V, D}, [&] { return init_xavier(V, D, rng); });
  if (bias) bias_ = scope.add("bias", Shape{V}, [&] { return Tensor::zeros(Shape{V}); });
}

LayerNorm::LayerNorm(const Scope& scope, int64_t dim) {
  gamma_ = scope.add("gamma", Shape{dim}, [&] { return Tensor::full(Shape{dim}, 1.0f); });
  beta_ = scope.add("beta", Shape{dim}, [&] { return Tensor::zeros(Shape{dim}); });
}

}  // namespace attnmt
