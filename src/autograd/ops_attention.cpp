// Fused scaled dot-product attention with padding and causal masks and dropout of the weights:
// forward and backward side by side. One (batch, head) pair per task, spread over the threads;
// the probabilities are kept for backward and, on request, handed out as the alignment.
#include <cmath>

#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

namespace {
// The mask row for query t of batch item b: 1 where key s may be attended to.
void fill_mask_row(float* m, int64_t S, int64_t T, int64_t t, int key_len, bool causal) {
  int64_t last = causal ? t + (S - T) : S - 1;  // the last query sees the last key
  for (int64_t s = 0; s < S; ++s) m[s] = (s < key_len && s <= last) ? 1.0f : 0.0f;
}

// out = x * keep (dropout's scaled keep-mask), n entries; returns out.
float* drop(const float* x, const float* keep, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * keep[i];
  return out;
}
}  // namespace

Var attention(const Var& q, const Var& k, const Var& v, std::span<const int> key_lengths,
              bool causal, Tensor* probs, float dropout_p, Rng* rng) {
  const Tensor &Q = q->value, &K = k->value, &V = v->value;  // [B,H,T,d], [B,H,S,d] x2
  ATTNMT_CHECK(Q.rank() == 4 && K.rank() == 4 && V.shape() == K.shape() && Q.dim(0) == K.dim(0) &&
                   Q.dim(1) == K.dim(1) && Q.dim(3) == K.dim(3),
               "attention: q {}, k {}, v {} do not fit", Q.shape().str(), K.shape().str(),
               V.shape().str());
  const int64_t B = Q.dim(0), H = Q.dim(1), T = Q.dim(2), S = K.dim(2), d = Q.dim(3);
  ATTNMT_CHECK(key_lengths.empty() || static_cast<int64_t>(key_lengths.size()) == B,
               "attention: {} key lengths for batch {}", key_lengths.size(), B);
  std::vector<int> klen(B, static_cast<int>(S));
  for (int64_t b = 0; b < static_cast<int64_t>(key_lengths.size()); ++b) klen[b] = key_lengths[b];
  const float alpha = 1.0f / std::sqrt(static_cast<float>(d));
  Tensor P = Tensor::uninitialized(Shape{B, H, T, S});  // attention weights
  Tensor O = Tensor::uninitialized(Shape{B, H, T, d});
  Tensor D;  // [B, H, T, S] dropout's keep-mask (0 or 1/(1-p)), when dropping
  if (dropout_p > 0.0f) {
    ATTNMT_CHECK(rng && dropout_p < 1.0f, "attention: dropout {} needs an Rng and p < 1",
                 dropout_p);
    D = Tensor::uninitialized(P.shape());
    kernels::dropout_mask(D.data(), D.numel(), dropout_p, *rng);
  }
  const bool spread = B * H > 1 && B * H * T * S * d >= kernels::kParallelMinWork;
#pragma omp parallel if (spread)
  {
    std::vector<float> mask(T * S), dropped(D.empty() ? 0 : T * S);
#pragma omp for schedule(static)
    for (int64_t g = 0; g < B * H; ++g) {
      int64_t b = g / H;
      float* p = P.data() + g * T * S;
      gemm_local(false, true, T, S, d, alpha, Q.data() + g * T * d, K.data() + g * S * d, 0.0f, p);
      for (int64_t t = 0; t < T; ++t) fill_mask_row(mask.data() + t * S, S, T, t, klen[b], causal);
      kernels::softmax_rows(p, p, T, S, mask.data());
      const float* weigh = p;  // what multiplies V: the weights, or their dropped-out copy
      if (!D.empty()) weigh = drop(p, D.data() + g * T * S, T * S, dropped.data());
      gemm_local(false, false, T, d, S, 1.0f, weigh, V.data() + g * S * d, 0.0f,
                 O.data() + g * T * d);
    }
  }
  if (probs) *probs = P;
  return make_node(std::move(O), "attention", {q, k, v}, [P, D, B, H, T, S, d, alpha](Node& self) {
    const Var &q = self.parents[0], &k = self.parents[1], &v = self.parents[2];
    const Tensor& dO = self.grad;  // [B, H, T, d]
    float* dQ = wants_grad(q) ? q->grad_buffer().data() : nullptr;
    float* dK = wants_grad(k) ? k->grad_buffer().data() : nullptr;
    float* dV = wants_grad(v) ? v->grad_buffer().data() : nullptr;
    const bool spread = B * H > 1 && B * H * T * S * d >= kernels::kParallelMinWork;
#pragma omp parallel if (spread)
    {
      std::vector<float> dP(T * S), dS(T * S), dropped(D.empty() ? 0 : T * S);
#pragma omp for schedule(static)
      for (int64_t g = 0; g < B * H; ++g) {
        const float* p = P.data() + g * T * S;
        const float* m = D.empty() ? nullptr : D.data() + g * T * S;
        const float* go = dO.data() + g * T * d;
        // O = P' V with P' = P * m (dropped) or P: dV += P'^T dO, dP' = dO V^T, dP = dP' * m.
        const float* weigh = m ? drop(p, m, T * S, dropped.data()) : p;
        if (dV) gemm_local(true, false, S, d, T, 1.0f, weigh, go, 1.0f, dV + g * S * d);
        gemm_local(false, true, T, S, d, 1.0f, go, self.parents[2]->value.data() + g * S * d, 0.0f,
                   dP.data());
        if (m) drop(dP.data(), m, T * S, dP.data());
        // Through the softmax (masked entries have p = 0, so they get no gradient).
        std::fill(dS.begin(), dS.end(), 0.0f);
        kernels::softmax_rows_backward(p, dP.data(), dS.data(), T, S);
        // scores = alpha Q K^T: dQ += alpha dS K, dK += alpha dS^T Q.
        if (dQ)
          gemm_local(false, false, T, d, S, alpha, dS.data(),
                     self.parents[1]->value.data() + g * S * d, 1.0f, dQ + g * T * d);
        if (dK)
          gemm_local(true, false, S, d, T, alpha, dS.data(),
                     self.parents[0]->value.data() + g * T * d, 1.0f, dK + g * S * d);
      }
    }
  });
}

}  // namespace attnmt
