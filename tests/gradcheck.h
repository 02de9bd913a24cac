// Finite-difference gradient checks for autograd ops and layers.
// loss = sum(f(inputs) * R) with a fixed random R, accumulated in double; every input element
// is perturbed by +-eps (central differences) and compared with the analytic gradient.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/ops.h"
#include "tensor/random.h"

namespace attnmt::testing {

inline Tensor random_tensor(const Shape& s, Rng& rng, float scale = 1.0f) {
  Tensor t = Tensor::uninitialized(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.normal(0.0f, scale);
  return t;
}

struct GradCheckOptions {
  float eps = 1e-2f;
  float atol = 2e-3f;
  float rtol = 2e-2f;
};

// Returns the number of mismatching elements (also reported through Catch's INFO/CHECK).
inline int gradcheck(const std::function<Var(const std::vector<Var>&)>& f,
                     const std::vector<Tensor>& inputs, GradCheckOptions opt = {}) {
  Rng rng(1234);
  std::vector<Var> params;
  for (const auto& t : inputs) params.push_back(parameter(t.clone()));
  Var out = f(params);
  Tensor R = random_tensor(out->shape(), rng);
  auto loss_of = [&](const Var& o) {
    double s = 0.0;
    for (int64_t i = 0; i < o->value.numel(); ++i) s += double(o->value[i]) * R[i];
    return s;
  };
  backward(out, R);
  int bad = 0;
  for (size_t p = 0; p < params.size(); ++p) {
    Tensor analytic = params[p]->grad.empty() ? Tensor::zeros(params[p]->shape())
                                              : params[p]->grad.clone();
    Tensor& x = params[p]->value;
    for (int64_t i = 0; i < x.numel(); ++i) {
      float saved = x[i];
      double plus, minus;
      {
        NoGradGuard ng;
        x[i] = saved + opt.eps;
        plus = loss_of(f(params));
        x[i] = saved - opt.eps;
        minus = loss_of(f(params));
      }
      x[i] = saved;
      double numeric = (plus - minus) / (2.0 * opt.eps);
      double err = std::abs(numeric - analytic[i]);
      if (err > opt.atol + opt.rtol * std::abs(numeric)) {
        if (bad < 5)
          UNSCOPED_INFO("input " << p << " element " << i << ": analytic " << analytic[i]
                                 << " numeric " << numeric);
        ++bad;
      }
    }
  }
  CHECK(bad == 0);
  return bad;
}

// Checks the gradient of a scalar loss with respect to an existing parameter (for example one
// inside a model) at up to `max_elements` positions spread over the tensor.
inline int gradcheck_parameter(const std::function<Var()>& loss_fn, const Var& param,
                               int max_elements = 24, GradCheckOptions opt = {}) {
  param->grad = Tensor();
  Var loss = loss_fn();
  backward(loss);
  Tensor analytic = param->grad.empty() ? Tensor::zeros(param->shape()) : param->grad.clone();
  Tensor& x = param->value;
  int64_t n = x.numel(), stride = std::max<int64_t>(1, n / max_elements);
  int bad = 0;
  for (int64_t i = 0; i < n; i += stride) {
    float saved = x[i];
    double plus, minus;
    {
      NoGradGuard ng;
      x[i] = saved + opt.eps;
      plus = loss_fn()->value[0];
      x[i] = saved - opt.eps;
      minus = loss_fn()->value[0];
    }
    x[i] = saved;
    double numeric = (plus - minus) / (2.0 * opt.eps);
    if (std::abs(numeric - analytic[i]) > opt.atol + opt.rtol * std::abs(numeric)) {
      if (bad < 5) UNSCOPED_INFO("element " << i << ": analytic " << analytic[i] << " numeric " << numeric);
      ++bad;
    }
  }
  param->grad = Tensor();
  CHECK(bad == 0);
  return bad;
}

}  // namespace attnmt::testing
