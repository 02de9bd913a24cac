// Label-smoothed cross-entropy with a padding mask: forward and backward side by side.
#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

#include <cmath>

namespace attnmt {

Var cross_entropy(const Var& logp, std::span<const int> targets, float smoothing, int pad_id) {
  const Tensor& L = logp->value;  // [N, V]
  int64_t N = L.shape().outer(), V = L.shape().last();
  ATTNMT_CHECK(static_cast<int64_t>(targets.size()) == N, "cross_entropy: {} targets for {} rows",
               targets.size(), N);
  ATTNMT_CHECK(smoothing >= 0.0f && smoothing < 1.0f, "label smoothing must be in [0, 1), got {}",
               smoothing);
  const float on = 1.0f - smoothing, off = smoothing / static_cast<float>(V);
  std::vector<int> saved(targets.begin(), targets.end());
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (N * V >= kernels::kParallelMinWork)
  for (int64_t r = 0; r < N; ++r) {
    int y = saved[r];
    if (y == pad_id) continue;
    const float* row = L.data() + r * V;
    double all = 0.0;
    if (off != 0.0f)
      for (int64_t c = 0; c < V; ++c) all += row[c];
    total += -(on * row[y]) - off * all;
  }
  for (int y : saved)
    ATTNMT_CHECK(y == pad_id || (y >= 0 && y < V), "cross_entropy: target {} outside [0, {})", y,
                 V);
  Tensor out = Tensor::full(Shape{1}, static_cast<float>(total));
  return make_node(std::move(out), "cross_entropy", {logp},
                   [saved = std::move(saved), on, off, N, V, pad_id](Node& self) {
                     float g = self.grad[0];
                     float* d = self.parents[0]->grad_buffer().data();
                     kernels::parallel_for(N, V, [&](int64_t r0, int64_t r1) {
                       for (int64_t r = r0; r < r1; ++r) {
                         int y = saved[r];
                         if (y == pad_id) continue;
                         float* row = d + r * V;
                         if (off != 0.0f)
                           for (int64_t c = 0; c < V; ++c) row[c] -= g * off;
                         row[y] -= g * on;
                       }
                     });
                   });
}

}  // namespace attnmt

namespace attnmt {

Var cross_entropy_with_logits(const Var& logits, std::span<const int> targets, float smoothing,
                              int pad_id, bool consume_logits, float expected_grad) {
  const Tensor& Z = logits->value;  // [N, V]
  const int64_t N = Z.shape().outer(), V = Z.shape().last();
  ATTNMT_CHECK(static_cast<int64_t>(targets.size()) == N,
               "cross_entropy_with_logits: {} targets for {} rows", targets.size(), N);
  ATTNMT_CHECK(smoothing >= 0.0f && smoothing < 1.0f, "label smoothing must be in [0, 1), got {}",
               smoothing);
  ATTNMT_CHECK(expected_grad != 0.0f, "cross_entropy_with_logits: an expected gradient of 0");
  for (int y : targets)
    ATTNMT_CHECK(y == pad_id || (y >= 0 && y < V), "cross_entropy: target {} outside [0, {})", y, V);
  const float on = 1.0f - smoothing, off = smoothing / static_cast<float>(V);
  std::vector<int> saved(targets.begin(), targets.end());
  Tensor lse = Tensor::uninitialized(Shape{N});  // log-sum-exp of each row
  // When consuming, the logits' storage is overwritten with their gradient for expected_grad:
  // g0 (softmax - q), 0 on padding rows.
  Tensor grad = consume_logits ? Z : Tensor();
  const float g0 = expected_grad;
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (N * V >= kernels::kParallelMinWork)
  for (int64_t r = 0; r < N; ++r) {
    const float* z = Z.data() + r * V;
    ConstArrayMap za(z, V);  // vectorised exp (Eigen)
    const float mx = za.maxCoeff();
    const int y = saved[r];
    const double zsum = za.sum();
    const float zy = y != pad_id ? z[y] : 0.0f;
    double s;
    if (consume_logits) {  // exp(z - max) in place, then scaled into the gradient
      ArrayMap row(grad.data() + r * V, V);
      row = (row - mx).exp();
      s = row.sum();
      if (y == pad_id) row.setZero();
      else row = row * static_cast<float>(g0 / s) - g0 * off;
      if (y != pad_id) row[y] -= g0 * on;
    } else {
      s = (za - mx).exp().sum();
    }
    const float l = mx + static_cast<float>(std::log(s));
    lse[r] = l;
    // -sum_c q_c log p_c with log p_c = z_c - lse and q = on * onehot(y) + off.
    if (y != pad_id) total += -(on * (zy - l)) - off * (zsum - V * double(l));
  }
  Tensor out = Tensor::full(Shape{1}, static_cast<float>(total));
  return make_node(std::move(out), "cross_entropy_with_logits", {logits},
                   [saved = std::move(saved), lse, grad, g0, on, off, N, V, pad_id](Node& self) {
    const float g = self.grad[0];
    const Var& logits = self.parents[0];
    // d z_c = g * (softmax_c - q_c); padding rows get nothing.
    if (!grad.empty()) {  // made in the forward pass for g0
      if (g != g0) {
        const float rescale = g / g0;
        float* d = const_cast<float*>(grad.data());  // the consumed logits' own storage
        kernels::parallel_elementwise(N * V, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) d[i] *= rescale;
        });
      }
      logits->accumulate_grad(grad, true);
      return;
    }
    const float* Z = logits->value.data();
    bool fresh = false;
    float* d = logits->grad_for_write(fresh).data();
    kernels::parallel_for(N, V * 4, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int y = saved[r];
        ArrayMap row(d + r * V, V);
        if (y == pad_id) {
          if (fresh) row.setZero();
          continue;
        }
        kernels::assign_or_add(row, g * ((ConstArrayMap(Z + r * V, V) - lse[r]).exp() - off),
                               fresh);
        row[y] -= g * on;
      }
    });
  });
}

}  // namespace attnmt
