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
                              int pad_id, bool consume_logits) {
  const Tensor& Z = logits->value;  // [N, V]
  const int64_t N = Z.shape().outer(), V = Z.shape().last();
  ATTNMT_CHECK(static_cast<int64_t>(targets.size()) == N,
               "cross_entropy_with_logits: {} targets for {} rows", targets.size(), N);
  ATTNMT_CHECK(smoothing >= 0.0f && smoothing < 1.0f, "label smoothing must be in [0, 1), got {}",
               smoothing);
  for (int y : targets)
    ATTNMT_CHECK(y == pad_id || (y >= 0 && y < V), "cross_entropy: target {} outside [0, {})", y, V);
  const float on = 1.0f - smoothing, off = smoothing / static_cast<float>(V);
  std::vector<int> saved(targets.begin(), targets.end());
  Tensor lse = Tensor::uninitialized(Shape{N});  // log-sum-exp of each row
  // When consuming, the logits' storage is overwritten with the softmax, and backward turns it
  // into the gradient in place.
  Tensor probs = consume_logits ? Z : Tensor();
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (N * V >= kernels::kParallelMinWork)
  for (int64_t r = 0; r < N; ++r) {
    const float* z = Z.data() + r * V;
    ConstArrayMap za(z, V);  // vectorised exp (Eigen)
    const float mx = za.maxCoeff();
    const double s = (za - mx).exp().sum(), zsum = za.sum();
    const float l = mx + static_cast<float>(std::log(s));
    lse[r] = l;
    const int y = saved[r];
    // -sum_c q_c log p_c with log p_c = z_c - lse and q = on * onehot(y) + off.
    if (y != pad_id) total += -(on * (z[y] - l)) - off * (zsum - V * double(l));
    if (consume_logits) ArrayMap(probs.data() + r * V, V) = (za - l).exp();
  }
  Tensor out = Tensor::full(Shape{1}, static_cast<float>(total));
  return make_node(std::move(out), "cross_entropy_with_logits", {logits},
                   [saved = std::move(saved), lse, probs, on, off, N, V, pad_id](Node& self) {
    const float g = self.grad[0];
    const Var& logits = self.parents[0];
    // d z_c = g * (softmax_c - q_c); padding rows get nothing.
    if (!probs.empty()) {
      float* d = const_cast<float*>(probs.data());  // the consumed logits' own storage
      kernels::parallel_for(N, V * 2, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          ArrayMap row(d + r * V, V);
          const int y = saved[r];
          if (y == pad_id) {
            row.setZero();
            continue;
          }
          row = g * (row - off);
          row[y] -= g * on;
        }
      });
      logits->accumulate_grad(probs, true);
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
