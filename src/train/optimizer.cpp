#include "train/optimizer.h"

#include <cmath>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

Adam::Adam(ParameterStore& params, AdamOptions options) : params_(params), opt_(options) {
  for (const auto& [name, p] : params_.all()) {
    m_.push_back(Tensor::zeros(p->shape()));
    v_.push_back(Tensor::zeros(p->shape()));
  }
}

void Adam::step(float lr) {
  ++t_;
  const float b1 = opt_.beta1, b2 = opt_.beta2, eps = opt_.eps;
  const float c1 = 1.0f - std::pow(b1, static_cast<float>(t_));
  const float c2 = 1.0f - std::pow(b2, static_cast<float>(t_));
  const float step_size = lr / c1, inv_sqrt_c2 = 1.0f / std::sqrt(c2);
  const auto& all = params_.all();
  for (size_t i = 0; i < all.size(); ++i) {
    Node& p = *all[i].second;
    if (p.grad.empty()) continue;
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* m = m_[i].data();
    float* v = v_[i].data();
    kernels::parallel_elementwise(p.value.numel(), [&](int64_t b, int64_t e) {
      const int64_t n = e - b;
      ConstArrayMap gk(g + b, n);
      ArrayMap mk(m + b, n), vk(v + b, n);
      mk = b1 * mk + (1.0f - b1) * gk;
      vk = b2 * vk + (1.0f - b2) * gk * gk;
      ArrayMap(w + b, n) -= step_size * mk / (vk.sqrt() * inv_sqrt_c2 + eps);
    });
  }
  weights_changed();  // the low-precision copies of the weights are stale now
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  const auto& all = params_.all();
  for (size_t i = 0; i < all.size(); ++i) {
    out.emplace_back("adam/m/" + all[i].first, m_[i]);
    out.emplace_back("adam/v/" + all[i].first, v_[i]);
  }
  return out;
}

void Adam::load_state(const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::string& source) {
  const auto& all = params_.all();
  for (size_t i = 0; i < all.size(); ++i) {
    for (auto* which : {&m_, &v_}) {
      std::string key = (which == &m_ ? "adam/m/" : "adam/v/") + all[i].first;
      const Tensor* found = nullptr;
      for (const auto& [name, t] : tensors)
        if (name == key) found = &t;
      ATTNMT_CHECK(found, "{}: checkpoint lacks optimiser state '{}'", source, key);
      ATTNMT_CHECK(found->shape() == all[i].second->shape(),
                   "{}: optimiser state '{}' has the wrong shape", source, key);
      (*which)[i].copy_from(*found);
    }
  }
}

double clip_grad_norm(ParameterStore& params, double max_norm) {
  // Sums of squares over fixed blocks, added in order: the norm does not depend on the
  // thread count.
  constexpr int64_t kBlock = 1 << 14;
  double sq = 0.0;
  std::vector<double> partial;
  for (const auto& [name, p] : params.all()) {
    if (p->grad.empty()) continue;
    const float* g = p->grad.data();
    const int64_t n = p->grad.numel(), blocks = (n + kBlock - 1) / kBlock;
    partial.assign(blocks, 0.0);
    kernels::parallel_for(blocks, kBlock, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t i = b * kBlock;
        partial[b] = ConstArrayMap(g + i, std::min(kBlock, n - i)).cast<double>().square().sum();
      }
    });
    for (double s : partial) sq += s;
  }
  double norm = std::sqrt(sq);
  if (max_norm > 0.0 && norm > max_norm) {
    float s = static_cast<float>(max_norm / (norm + 1e-6));
    for (const auto& [name, p] : params.all()) {
      if (p->grad.empty()) continue;
      float* g = p->grad.data();
      kernels::parallel_elementwise(p->grad.numel(), [&](int64_t b, int64_t e) {
        ArrayMap(g + b, e - b) *= s;
      });
    }
  }
  return norm;
}

}  // namespace attnmt
