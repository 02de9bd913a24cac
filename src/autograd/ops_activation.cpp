// Activations, softmaxes, layer norm, dropout and masking: forward and backward side by side.
#include <cmath>

#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace attnmt {

Var tanh(const Var& x) {
  Tensor Y = Tensor::uninitialized(x->shape());
  Y.arr() = x->value.arr().tanh();
  return make_node(std::move(Y), "tanh", {x}, [](Node& self) {
    self.parents[0]->grad_buffer().arr() +=
        self.grad.arr() * (1.0f - self.value.arr().square());
  });
}

Var sigmoid(const Var& x) {
  Tensor Y = Tensor::uninitialized(x->shape());
  Y.arr() = 1.0f / (1.0f + (-x->value.arr()).exp());
  return make_node(std::move(Y), "sigmoid", {x}, [](Node& self) {
    const auto y = self.value.arr();
    self.parents[0]->grad_buffer().arr() += self.grad.arr() * y * (1.0f - y);
  });
}

Var relu(const Var& x) {
  Tensor Y = Tensor::uninitialized(x->shape());
  const float* px = x->value.data();
  float* py = Y.data();
  kernels::parallel_elementwise(Y.numel(), [&](int64_t i0, int64_t i1) {
    ArrayMap(py + i0, i1 - i0) = ConstArrayMap(px + i0, i1 - i0).max(0.0f);
  });
  return make_node(std::move(Y), "relu", {x}, [](Node& self) {
    bool fresh = false;
    float* dx = self.parents[0]->grad_for_write(fresh).data();
    const float *y = self.value.data(), *dy = self.grad.data();
    kernels::parallel_elementwise(self.grad.numel(), [&](int64_t i0, int64_t i1) {
      const int64_t n = i1 - i0;
      kernels::assign_or_add(
          ArrayMap(dx + i0, n),
          (ConstArrayMap(y + i0, n) > 0.0f).select(ConstArrayMap(dy + i0, n), 0.0f), fresh);
    });
  });
}

Var gelu(const Var& x) {
  Tensor Y = Tensor::uninitialized(x->shape());
  kernels::gelu(x->value.data(), Y.data(), Y.numel());
  return make_node(std::move(Y), "gelu", {x}, [](Node& self) {
    const Var& x = self.parents[0];
    kernels::gelu_backward(x->value.data(), self.grad.data(), x->grad_buffer().data(),
                           x->value.numel());
  });
}

static void check_mask(const Tensor* mask, const Tensor& x, const char* op) {
  if (mask) check_same_shape(*mask, x, op);
}

Var softmax(const Var& x, const Tensor* mask) {
  check_mask(mask, x->value, "softmax mask");
  Tensor Y = Tensor::uninitialized(x->shape());
  int64_t rows = Y.shape().outer(), cols = Y.shape().last();
  kernels::softmax_rows(x->value.data(), Y.data(), rows, cols, mask ? mask->data() : nullptr);
  return make_node(std::move(Y), "softmax", {x}, [rows, cols](Node& self) {
    kernels::softmax_rows_backward(self.value.data(), self.grad.data(),
                                   self.parents[0]->grad_buffer().data(), rows, cols);
  });
}

Var log_softmax(const Var& x, const Tensor* mask) {
  check_mask(mask, x->value, "log_softmax mask");
  Tensor Y = Tensor::uninitialized(x->shape());
  int64_t rows = Y.shape().outer(), cols = Y.shape().last();
  kernels::log_softmax_rows(x->value.data(), Y.data(), rows, cols, mask ? mask->data() : nullptr);
  return make_node(std::move(Y), "log_softmax", {x}, [rows, cols](Node& self) {
    kernels::log_softmax_rows_backward(self.value.data(), self.grad.data(),
                                       self.parents[0]->grad_buffer().data(), rows, cols);
  });
}

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps) {
  const Tensor& X = x->value;  // [R, D]
  int64_t rows = X.shape().outer(), cols = X.shape().last();
  ATTNMT_CHECK(gamma->value.numel() == cols && beta->value.numel() == cols,
               "layer_norm: gamma/beta of {} for width {}", gamma->value.numel(), cols);
  Tensor Y = Tensor::uninitialized(X.shape());
  Tensor stats = Tensor::uninitialized(Shape{2, rows});  // mean, rstd
  kernels::layer_norm_rows(X.data(), gamma->value.data(), beta->value.data(), Y.data(),
                           stats.data(), stats.data() + rows, rows, cols, eps);
  return make_node(std::move(Y), "layer_norm", {x, gamma, beta},
                   [stats, rows, cols](Node& self) {
                     const Var &x = self.parents[0], &g = self.parents[1], &b = self.parents[2];
                     kernels::layer_norm_rows_backward(
                         x->value.data(), g->value.data(), stats.data(), stats.data() + rows,
                         self.grad.data(), wants_grad(x) ? x->grad_buffer().data() : nullptr,
                         wants_grad(g) ? g->grad_buffer().data() : nullptr,
                         wants_grad(b) ? b->grad_buffer().data() : nullptr, rows, cols);
                   });
}

Var dropout(const Var& x, float p, Rng& rng, bool training) {
  if (!training || p <= 0.0f) return x;
  ATTNMT_CHECK(p < 1.0f, "dropout probability must be below 1, got {}", p);
  Tensor mask = Tensor::uninitialized(x->shape());
  kernels::dropout_mask(mask.data(), mask.numel(), p, rng);
  Tensor Y = Tensor::uninitialized(x->shape());
  const float *px = x->value.data(), *pm = mask.data();
  float* py = Y.data();
  kernels::parallel_elementwise(Y.numel(), [&](int64_t i0, int64_t i1) {
    const int64_t n = i1 - i0;
    ArrayMap(py + i0, n) = ConstArrayMap(px + i0, n) * ConstArrayMap(pm + i0, n);
  });
  return make_node(std::move(Y), "dropout", {x}, [mask](Node& self) {
    bool fresh = false;
    float* dx = self.parents[0]->grad_for_write(fresh).data();
    const float *dy = self.grad.data(), *m = mask.data();
    kernels::parallel_elementwise(self.grad.numel(), [&](int64_t i0, int64_t i1) {
      const int64_t n = i1 - i0;
      kernels::assign_or_add(ArrayMap(dx + i0, n),
                             ConstArrayMap(dy + i0, n) * ConstArrayMap(m + i0, n), fresh);
    });
  });
}

Var add_dropout(const Var& x, const Var& y, float p, Rng& rng, bool training) {
  if (!training || p <= 0.0f) return add(x, y);
  ATTNMT_CHECK(p < 1.0f, "dropout probability must be below 1, got {}", p);
  check_same_shape(x->value, y->value, "add_dropout");
  Tensor mask = Tensor::uninitialized(y->shape());
  kernels::dropout_mask(mask.data(), mask.numel(), p, rng);
  Tensor Z = Tensor::uninitialized(y->shape());
  const float *px = x->value.data(), *py = y->value.data(), *pm = mask.data();
  float* pz = Z.data();
  kernels::parallel_elementwise(Z.numel(), [&](int64_t i0, int64_t i1) {
    const int64_t n = i1 - i0;
    ArrayMap(pz + i0, n) = ConstArrayMap(px + i0, n) + ConstArrayMap(py + i0, n) *
                                                           ConstArrayMap(pm + i0, n);
  });
  return make_node(std::move(Z), "add_dropout", {x, y}, [mask](Node& self) {
    const Var &x = self.parents[0], &y = self.parents[1];
    if (wants_grad(y)) {  // first: x may take the gradient's storage as its own
      bool fresh = false;
      float* dy = y->grad_for_write(fresh).data();
      const float *g = self.grad.data(), *m = mask.data();
      kernels::parallel_elementwise(self.grad.numel(), [&](int64_t i0, int64_t i1) {
        const int64_t n = i1 - i0;
        kernels::assign_or_add(ArrayMap(dy + i0, n),
                               ConstArrayMap(g + i0, n) * ConstArrayMap(m + i0, n), fresh);
      });
    }
    if (wants_grad(x)) x->accumulate_grad(self.grad, true);
  });
}

Var masked_fill(const Var& x, const Tensor& mask, float value) {
  check_same_shape(mask, x->value, "masked_fill");
  Tensor Y = Tensor::uninitialized(x->shape());
  Y.arr() = (mask.arr() != 0.0f).select(x->value.arr(), value);
  return make_node(std::move(Y), "masked_fill", {x}, [mask](Node& self) {
    self.parents[0]->grad_buffer().arr() += (mask.arr() != 0.0f).select(self.grad.arr(), 0.0f);
  });
}

}  // namespace attnmt
