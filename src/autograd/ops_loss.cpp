// Label-smoothed cross-entropy with a padding mask: forward and backward side by side.
#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

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
