#include "nn/transformer_blocks.h"

#include <cmath>
#include <cstring>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

// ---- fused ops

Var split_heads(const Var& x, int64_t begin, int64_t H, int64_t d) {
  const Tensor& X = x->value;  // [B, T, C]
  ATTNMT_CHECK(X.rank() == 3 && begin >= 0 && begin + H * d <= X.dim(2),
               "split_heads: columns [{}, {}) of {}", begin, begin + H * d, X.shape().str());
  const int64_t B = X.dim(0), T = X.dim(1), C = X.dim(2);
  Tensor Y = Tensor::uninitialized(Shape{B, H, T, d});
  kernels::parallel_for(B * H, T * d, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      const float* src = X.data() + (g / H) * T * C + begin + (g % H) * d;
      float* dst = Y.data() + g * T * d;
      for (int64_t t = 0; t < T; ++t) std::memcpy(dst + t * d, src + t * C, d * sizeof(float));
    }
  });
  return make_node(std::move(Y), "split_heads", {x}, [B, T, C, H, d, begin](Node& self) {
    float* dx = self.parents[0]->grad_buffer().data();
    const float* dy = self.grad.data();
    kernels::parallel_for(B * H, T * d, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        float* dst = dx + (g / H) * T * C + begin + (g % H) * d;
        const float* src = dy + g * T * d;
        for (int64_t t = 0; t < T; ++t)
          for (int64_t i = 0; i < d; ++i) dst[t * C + i] += src[t * d + i];
      }
    });
  });
}

Var merge_heads(const Var& x) {
  const Tensor& X = x->value;  // [B, H, T, d]
  ATTNMT_CHECK(X.rank() == 4, "merge_heads: expected [B, H, T, d], got {}", X.shape().str());
  const int64_t B = X.dim(0), H = X.dim(1), T = X.dim(2), d = X.dim(3), D = H * d;
  Tensor Y = Tensor::uninitialized(Shape{B, T, D});
  kernels::parallel_for(B * H, T * d, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      const float* src = X.data() + g * T * d;
      float* dst = Y.data() + (g / H) * T * D + (g % H) * d;
      for (int64_t t = 0; t < T; ++t) std::memcpy(dst + t * D, src + t * d, d * sizeof(float));
    }
  });
  return make_node(std::move(Y), "merge_heads", {x}, [B, H, T, d, D](Node& self) {
    bool fresh = false;
    float* dx = self.parents[0]->grad_for_write(fresh).data();
    const float* dy = self.grad.data();
    kernels::parallel_for(B * H, T * d, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        const float* src = dy + (g / H) * T * D + (g % H) * d;
        float* dst = dx + g * T * d;
        for (int64_t t = 0; t < T; ++t) {
          if (fresh) std::memcpy(dst + t * d, src + t * D, d * sizeof(float));
          else
            for (int64_t i = 0; i < d; ++i) dst[t * d + i] += src[t * D + i];
        }
      }
    });
  });
}

Var scale_add_positions(const Var& x, float s, const Var& pos) {
  const Tensor &X = x->value, &P = pos->value;  // [B, T, D], [T, D]
  ATTNMT_CHECK(X.rank() == 3 && P.rank() == 2 && P.dim(0) == X.dim(1) && P.dim(1) == X.dim(2),
               "scale_add_positions: {} and positions {}", X.shape().str(), P.shape().str());
  const int64_t B = X.dim(0), TD = P.numel();
  Tensor Y = Tensor::uninitialized(X.shape());
  kernels::parallel_for(B, TD, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      Y.arr().segment(b * TD, TD) = X.arr().segment(b * TD, TD) * s + P.arr();
  });
  return make_node(std::move(Y), "scale_add_positions", {x, pos}, [B, TD, s](Node& self) {
    const Var &x = self.parents[0], &pos = self.parents[1];
    if (wants_grad(x)) {
      bool fresh = false;
      float* dx = x->grad_for_write(fresh).data();
      const float* dy = self.grad.data();
      kernels::parallel_elementwise(self.grad.numel(), [&](int64_t i0, int64_t i1) {
        kernels::assign_or_add(ArrayMap(dx + i0, i1 - i0), ConstArrayMap(dy + i0, i1 - i0) * s,
                               fresh);
      });
    }
    if (wants_grad(pos)) {
      auto dp = pos->grad_buffer().arr();
      for (int64_t b = 0; b < B; ++b) dp += self.grad.arr().segment(b * TD, TD);
    }
  });
}

// ---- positions

Tensor sinusoidal_table(int64_t n, int64_t D) {
  Tensor pe = Tensor::zeros(Shape{n, D});
  for (int64_t i = 0; i < D; i += 2) {
    // As the reference: exp(i * -ln(10000) / D) in float.
    float freq = std::exp(static_cast<float>(i) * (-std::log(10000.0f) / static_cast<float>(D)));
    for (int64_t p = 0; p < n; ++p) {
      float a = static_cast<float>(p) * freq;
      pe.data()[p * D + i] = std::sin(a);
      if (i + 1 < D) pe.data()[p * D + i + 1] = std::cos(a);
    }
  }
  return pe;
}

PositionalEncoding::PositionalEncoding(const Scope& scope, bool learned, int64_t max_positions,
                                       int64_t D, Rng& rng)
    : learned_(learned) {
  const Shape shape{max_positions, D};
  table_ = learned ? scope.add("weight", shape,
                               [&] { return init_normal(shape, 1.0f / std::sqrt(float(D)), rng); })
                   : constant(sinusoidal_table(max_positions, D));
}

Var PositionalEncoding::operator()(const Var& emb, int64_t offset) const {
  const int64_t T = emb->value.dim(1), D = emb->value.dim(2);
  if (offset + T > max_positions())
    fail(
        "a sequence of {} positions does not fit the model's max_positions = {}: shorten the "
        "input or train a model with a larger max_positions",
        offset + T, max_positions());
  Var pos = learned_ ? slice(table_, 0, offset, offset + T)
                     : constant(table_->value.rows(offset, offset + T));
  return scale_add_positions(emb, std::sqrt(static_cast<float>(D)), pos);
}

// ---- attention

Var scaled_attention(const Var& q, const Var& k, const Var& v, std::span<const int> key_lengths,
                     bool causal, float dropout_p, Rng& rng, bool training, Tensor* probs,
                     Var* log_probs) {
  const bool drop = training && dropout_p > 0.0f;
  if (!log_probs) return attention(q, k, v, key_lengths, causal, probs, drop ? dropout_p : 0, &rng);
  const int64_t B = q->value.dim(0), H = q->value.dim(1), T = q->value.dim(2);
  const int64_t S = k->value.dim(2), d = q->value.dim(3);
  Tensor mask = Tensor::uninitialized(Shape{B * H, T, S});
  for (int64_t g = 0; g < B * H; ++g) {
    int64_t klen = key_lengths.empty() ? S : key_lengths[g / H];
    for (int64_t t = 0; t < T; ++t)
      for (int64_t s = 0; s < S; ++s)
        mask.data()[(g * T + t) * S + s] = (s < klen && (!causal || s <= t + S - T)) ? 1.f : 0.f;
  }
  Var q3 = reshape(q, Shape{B * H, T, d}), k3 = reshape(k, Shape{B * H, S, d});
  Var scores = scale(bmm(q3, k3, false, true), 1.0f / std::sqrt(static_cast<float>(d)));
  Var p = softmax(scores, &mask);  // [BH, T, S]
  if (probs) *probs = p->value.reshape(Shape{B, H, T, S});
  // The same weights' logarithms, for a loss on them (guided alignment): from the scores, so
  // that they are exact where the weights underflow.
  if (log_probs) *log_probs = reshape(log_softmax(scores, &mask), Shape{B, H, T, S});
  Var out = bmm(drop ? dropout(p, dropout_p, rng, true) : p, reshape(v, Shape{B * H, S, d}));
  return reshape(out, Shape{B, H, T, d});
}

MultiHeadAttention::MultiHeadAttention(const Scope& scope, int64_t D, int64_t H, Rng& rng)
    : heads_(H), head_dim_(D / H) {
  ATTNMT_CHECK(H > 0 && D % H == 0, "model width {} is not divisible by {} heads", D, H);
  query_ = Linear(scope / "query", D, D, true, rng);
  key_ = Linear(scope / "key", D, D, true, rng);
  value_ = Linear(scope / "value", D, D, true, rng);
  output_ = Linear(scope / "output", D, D, true, rng);
}

Var MultiHeadAttention::qkv_weight() const {
  return concat({query_.weight(), key_.weight(), value_.weight()}, 0);
}
Var MultiHeadAttention::qkv_bias() const {
  return concat({query_.bias(), key_.bias(), value_.bias()}, 0);
}
Var MultiHeadAttention::kv_weight() const { return concat({key_.weight(), value_.weight()}, 0); }
Var MultiHeadAttention::kv_bias() const { return concat({key_.bias(), value_.bias()}, 0); }

Var MultiHeadAttention::self_attention(const Var& x, std::span<const int> lengths, bool causal,
                                       float dropout_p, Rng& rng, bool training,
                                       Tensor* probs) const {
  const int64_t H = heads_, d = head_dim_, D = H * d;
  Var qkv = linear(x, qkv_weight(), qkv_bias());  // [B, T, 3D]: one GEMM
  Var q = split_heads(qkv, 0, H, d), k = split_heads(qkv, D, H, d),
      v = split_heads(qkv, 2 * D, H, d);  // [B, H, T, d]
  Var ctx = scaled_attention(q, k, v, lengths, causal, dropout_p, rng, training, probs);
  return output_(merge_heads(ctx));  // [B, T, D]
}

Var MultiHeadAttention::source_attention(const Var& x, const Var& memory,
                                         std::span<const int> memory_lengths, float dropout_p,
                                         Rng& rng, bool training, Tensor* probs,
                                         Var* log_probs) const {
  const int64_t H = heads_, d = head_dim_, D = H * d;
  Var q = split_heads(query_(x), 0, H, d);                         // [B, H, T, d]
  Var kv = linear(memory, kv_weight(), kv_bias());                 // [B, S, 2D]: one GEMM
  Var k = split_heads(kv, 0, H, d), v = split_heads(kv, D, H, d);  // [B, H, S, d]
  Var ctx = scaled_attention(q, k, v, memory_lengths, false, dropout_p, rng, training, probs,
                             log_probs);
  return output_(merge_heads(ctx));
}

// ---- feed-forward

FeedForward::FeedForward(const Scope& scope, int64_t D, int64_t F, Activation activation,
                         Rng& rng)
    : activation_(activation) {
  inner_ = Linear(scope / "inner", D, F, true, rng);
  outer_ = Linear(scope / "outer", F, D, true, rng);
}

Var FeedForward::operator()(const Var& x, float dropout_p, Rng& rng, bool training) const {
  Var h = activation_ == Activation::kGelu ? gelu(inner_(x))  // [..., F]
                                            : linear_relu(x, inner_.weight(), inner_.bias());
  return outer_(dropout(h, dropout_p, rng, training));
}

// ---- decoding cache

}  // namespace attnmt
