// Products and element-wise arithmetic: forward and backward side by side.
#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

namespace {
Shape with_last(const Shape& s, int64_t last) {
  switch (s.rank()) {
    case 1: return Shape{last};
    case 2: return Shape{s[0], last};
    case 3: return Shape{s[0], s[1], last};
    default: return Shape{s[0], s[1], s[2], last};
  }
}
}  // namespace

namespace {
// The gradients of y = x w^T + b for dY [R, Out]: dx, dw and db, as the inputs want them.
void linear_backward(const Var& x, const Var& w, const Var& b, const Tensor& dY) {
  bool fresh = false;
  if (wants_grad(x) && wants_grad(w)) {  // all at once: in bf16, dY is read once
    bool fresh_w = false;
    Tensor& dx = x->grad_for_write(fresh);
    Tensor& dw = w->grad_for_write(fresh_w);
    Tensor* db = wants_grad(b) ? &b->grad_buffer() : nullptr;
    affine_backward(dY, x->value, w->value, dx, fresh ? 0.0f : 1.0f, dw, fresh_w ? 0.0f : 1.0f,
                    db);
    return;
  }
  if (wants_grad(x)) {
    Tensor& dx = x->grad_for_write(fresh);
    matmul(dY, false, w->value, false, dx, 1.0f, fresh ? 0.0f : 1.0f);
  }
  if (wants_grad(w)) {
    Tensor& dw = w->grad_for_write(fresh);
    matmul(dY, true, x->value, false, dw, 1.0f, fresh ? 0.0f : 1.0f);
  }
  if (wants_grad(b))
    kernels::sum_rows(dY.data(), b->grad_buffer().data(), dY.shape().outer(), dY.shape().last());
}

// y = x w^T + b, then max(0, y) with relu: [..., In] -> [..., Out].
Tensor affine_forward(const Var& x, const Var& w, const Var& b, bool relu) {
  const Tensor& X = x->value;  // [..., In] viewed as [R, In]
  const Tensor& W = w->value;  // [Out, In]
  ATTNMT_CHECK(W.rank() == 2 && X.shape().last() == W.dim(1), "linear: input {} vs weight {}",
               X.shape().str(), W.shape().str());
  const int64_t out_dim = W.dim(0);
  Tensor Y = Tensor::uninitialized(with_last(X.shape(), out_dim));  // [..., Out]
  if (b)
    ATTNMT_CHECK(b->value.numel() == out_dim, "linear: bias {} for {} outputs",
                 b->value.shape().str(), out_dim);
  matmul_bias(X, false, W, true, b ? b->value : Tensor(), Y, relu);
  return Y;
}
}  // namespace

Var linear(const Var& x, const Var& w, const Var& b) {
  return make_node(affine_forward(x, w, b, false), "linear", {x, w, b}, [](Node& self) {
    linear_backward(self.parents[0], self.parents[1], self.parents[2], self.grad);
  });
}

Var linear_relu(const Var& x, const Var& w, const Var& b) {
  return make_node(affine_forward(x, w, b, true), "linear_relu", {x, w, b}, [](Node& self) {
    // Through the relu: dZ = dY where the output is positive, 0 elsewhere.
    Tensor dZ = Tensor::uninitialized(self.grad.shape());
    const float *y = self.value.data(), *dy = self.grad.data();
    float* dz = dZ.data();
    kernels::parallel_elementwise(dZ.numel(), [&](int64_t i0, int64_t i1) {
      const int64_t n = i1 - i0;
      ArrayMap(dz + i0, n) =
          (ConstArrayMap(y + i0, n) > 0.0f).select(ConstArrayMap(dy + i0, n), 0.0f);
    });
    linear_backward(self.parents[0], self.parents[1], self.parents[2], dZ);
  });
}

Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  int64_t M = trans_a ? a->value.shape().last() : a->value.shape().outer();
  int64_t N = trans_b ? b->value.shape().outer() : b->value.shape().last();
  Tensor C = Tensor::uninitialized(Shape{M, N});
  matmul(a->value, trans_a, b->value, trans_b, C);
  return make_node(std::move(C), "matmul", {a, b}, [trans_a, trans_b](Node& self) {
    const Var &a = self.parents[0], &b = self.parents[1];
    const Tensor& dC = self.grad;
    // C = op(A) op(B): dop(A) = dC op(B)^T, dop(B) = op(A)^T dC.
    bool fresh = false;
    if (wants_grad(a)) {
      Tensor& da = a->grad_for_write(fresh);
      const float beta = fresh ? 0.0f : 1.0f;
      if (!trans_a) matmul(dC, false, b->value, !trans_b, da, 1.0f, beta);
      else matmul(b->value, trans_b, dC, true, da, 1.0f, beta);
    }
    if (wants_grad(b)) {
      Tensor& db = b->grad_for_write(fresh);
      const float beta = fresh ? 0.0f : 1.0f;
      if (!trans_b) matmul(a->value, !trans_a, dC, false, db, 1.0f, beta);
      else matmul(dC, true, a->value, trans_a, db, 1.0f, beta);
    }
  });
}

Var bmm(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  const Tensor &A = a->value, &B = b->value;
  ATTNMT_CHECK(A.rank() == 3 && B.rank() == 3, "bmm needs 3-D inputs, got {} and {}",
               A.shape().str(), B.shape().str());
  int64_t M = trans_a ? A.dim(2) : A.dim(1);
  int64_t N = trans_b ? B.dim(1) : B.dim(2);
  Tensor C = Tensor::uninitialized(Shape{A.dim(0), M, N});
  batched_matmul(A, trans_a, B, trans_b, C);
  return make_node(std::move(C), "bmm", {a, b}, [trans_a, trans_b](Node& self) {
    const Var &a = self.parents[0], &b = self.parents[1];
    const Tensor& dC = self.grad;
    bool fresh = false;
    if (wants_grad(a)) {
      Tensor& da = a->grad_for_write(fresh);
      const float beta = fresh ? 0.0f : 1.0f;
      if (!trans_a) batched_matmul(dC, false, b->value, !trans_b, da, 1.0f, beta);
      else batched_matmul(b->value, trans_b, dC, true, da, 1.0f, beta);
    }
    if (wants_grad(b)) {
      Tensor& db = b->grad_for_write(fresh);
      const float beta = fresh ? 0.0f : 1.0f;
      if (!trans_b) batched_matmul(a->value, !trans_a, dC, false, db, 1.0f, beta);
      else batched_matmul(dC, true, a->value, trans_a, db, 1.0f, beta);
    }
  });
}

Var affine_sum(const Var& base, const std::vector<std::pair<Var, Var>>& terms) {
  Tensor Y = base->value.clone();  // [N, Out]
  std::vector<Var> inputs{base};
  for (const auto& [x, w] : terms) {
    matmul(x->value, false, w->value, true, Y, 1.0f, 1.0f);  // Y += x w^T
    inputs.push_back(x);
    inputs.push_back(w);
  }
  return make_node(std::move(Y), "affine_sum", std::move(inputs), [](Node& self) {
    const Tensor& dY = self.grad;
    if (wants_grad(self.parents[0])) self.parents[0]->grad_buffer().arr() += dY.arr();
    for (size_t i = 1; i + 1 < self.parents.size(); i += 2) {
      const Var &x = self.parents[i], &w = self.parents[i + 1];
      if (wants_grad(x)) matmul(dY, false, w->value, false, x->grad_buffer(), 1.0f, 1.0f);
      if (wants_grad(w)) matmul(dY, true, x->value, false, w->grad_buffer(), 1.0f, 1.0f);
    }
  });
}

Var add(const Var& a, const Var& b) {
  check_same_shape(a->value, b->value, "add");
  Tensor Y = Tensor::uninitialized(a->shape());
  const float *pa = a->value.data(), *pb = b->value.data();
  float* py = Y.data();
  kernels::parallel_elementwise(Y.numel(), [&](int64_t i0, int64_t i1) {
    ArrayMap(py + i0, i1 - i0) = ConstArrayMap(pa + i0, i1 - i0) + ConstArrayMap(pb + i0, i1 - i0);
  });
  return make_node(std::move(Y), "add", {a, b}, [](Node& self) {
    // The first parent may take this node's gradient as its own (no copy); the second adds.
    bool shared = false;
    for (const Var& p : self.parents)
      if (wants_grad(p)) {
        p->accumulate_grad(self.grad, !shared);
        shared = true;
      }
  });
}

Var sub(const Var& a, const Var& b) {
  check_same_shape(a->value, b->value, "sub");
  Tensor Y = Tensor::uninitialized(a->shape());
  Y.arr() = a->value.arr() - b->value.arr();
  return make_node(std::move(Y), "sub", {a, b}, [](Node& self) {
    if (wants_grad(self.parents[0])) self.parents[0]->grad_buffer().arr() += self.grad.arr();
    if (wants_grad(self.parents[1])) self.parents[1]->grad_buffer().arr() -= self.grad.arr();
  });
}

Var mul(const Var& a, const Var& b) {
  check_same_shape(a->value, b->value, "mul");
  Tensor Y = Tensor::uninitialized(a->shape());
  Y.arr() = a->value.arr() * b->value.arr();
  return make_node(std::move(Y), "mul", {a, b}, [](Node& self) {
    const Var &a = self.parents[0], &b = self.parents[1];
    if (wants_grad(a)) a->grad_buffer().arr() += self.grad.arr() * b->value.arr();
    if (wants_grad(b)) b->grad_buffer().arr() += self.grad.arr() * a->value.arr();
  });
}

Var scale(const Var& x, float s) {
  Tensor Y = Tensor::uninitialized(x->shape());
  const float* px = x->value.data();
  float* py = Y.data();
  kernels::parallel_elementwise(Y.numel(), [&](int64_t i0, int64_t i1) {
    ArrayMap(py + i0, i1 - i0) = ConstArrayMap(px + i0, i1 - i0) * s;
  });
  return make_node(std::move(Y), "scale", {x}, [s](Node& self) {
    bool fresh = false;
    float* dx = self.parents[0]->grad_for_write(fresh).data();
    const float* dy = self.grad.data();
    kernels::parallel_elementwise(self.grad.numel(), [&](int64_t i0, int64_t i1) {
      kernels::assign_or_add(ArrayMap(dx + i0, i1 - i0), ConstArrayMap(dy + i0, i1 - i0) * s,
                             fresh);
    });
  });
}

Var add_broadcast(const Var& x, const Var& y) {
  const Tensor &X = x->value, &Yv = y->value;
  // X viewed as [A, R, C], y as [A, C].
  int64_t C = X.shape().last();
  int64_t A = Yv.rank() == 1 ? 1 : Yv.dim(0);
  ATTNMT_CHECK(Yv.shape().last() == C && (Yv.rank() == 1 || (X.rank() == 3 && X.dim(0) == A)),
               "add_broadcast: {} + {} do not broadcast", X.shape().str(), Yv.shape().str());
  int64_t R = X.numel() / (A * C);
  Tensor Out = Tensor::uninitialized(X.shape());
  for (int64_t a = 0; a < A; ++a)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c)
        Out.data()[(a * R + r) * C + c] = X.data()[(a * R + r) * C + c] + Yv.data()[a * C + c];
  return make_node(std::move(Out), "add_broadcast", {x, y}, [A, R, C](Node& self) {
    const Var &x = self.parents[0], &y = self.parents[1];
    if (wants_grad(x)) x->grad_buffer().arr() += self.grad.arr();
    if (wants_grad(y)) {
      float* dy = y->grad_buffer().data();
      for (int64_t a = 0; a < A; ++a)
        kernels::sum_rows(self.grad.data() + a * R * C, dy + a * C, R, C);
    }
  });
}

Var sum(const Var& x) {
  Tensor Y = Tensor::full(Shape{1}, static_cast<float>(x->value.arr().cast<double>().sum()));
  return make_node(std::move(Y), "sum", {x}, [](Node& self) {
    self.parents[0]->grad_buffer().arr() += self.grad[0];
  });
}

Var mean(const Var& x) {
  double n = static_cast<double>(std::max<int64_t>(x->value.numel(), 1));
  Tensor Y = Tensor::full(Shape{1}, static_cast<float>(x->value.arr().cast<double>().sum() / n));
  return make_node(std::move(Y), "mean", {x}, [n](Node& self) {
    self.parents[0]->grad_buffer().arr() += static_cast<float>(self.grad[0] / n);
  });
}

}  // namespace attnmt
