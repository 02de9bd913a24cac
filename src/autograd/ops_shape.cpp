// Shape ops and lookups: reshape, transpose, concat, slice, embedding, row selection.
#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/kernels.h"

namespace attnmt {

namespace {
// Splits a shape around `axis` into [outer, axis length, inner].
struct AxisSplit {
  int64_t outer = 1, len = 1, inner = 1;
};
AxisSplit split_at(const Shape& s, int axis) {
  AxisSplit a;
  for (int i = 0; i < s.rank(); ++i) {
    if (i < axis) a.outer *= s[i];
    else if (i == axis) a.len = s[i];
    else a.inner *= s[i];
  }
  return a;
}
Shape with_dim(const Shape& s, int axis, int64_t len) {
  int64_t d[4];
  for (int i = 0; i < s.rank(); ++i) d[i] = i == axis ? len : s[i];
  switch (s.rank()) {
    case 1: return Shape{d[0]};
    case 2: return Shape{d[0], d[1]};
    case 3: return Shape{d[0], d[1], d[2]};
    default: return Shape{d[0], d[1], d[2], d[3]};
  }
}
int norm_axis(int axis, int rank, const char* op) {
  if (axis < 0) axis += rank;
  ATTNMT_CHECK(axis >= 0 && axis < rank, "{}: axis out of range for rank {}", op, rank);
  return axis;
}
}  // namespace

Var reshape(const Var& x, const Shape& shape) {
  Tensor Y = x->value.reshape(shape);  // shares storage
  return make_node(std::move(Y), "reshape", {x}, [](Node& self) {
    const Var& x = self.parents[0];
    x->accumulate_grad(self.grad.reshape(x->shape()), true);
  });
}

Var transpose(const Var& x, int axis_a, int axis_b) {
  int r = x->value.rank();
  axis_a = norm_axis(axis_a, r, "transpose");
  axis_b = norm_axis(axis_b, r, "transpose");
  Tensor Y = Tensor::uninitialized(kernels::swapped_shape(x->shape(), axis_a, axis_b));
  kernels::transpose_axes(x->value, axis_a, axis_b, Y);
  return make_node(std::move(Y), "transpose", {x}, [axis_a, axis_b](Node& self) {
    kernels::transpose_axes(self.grad, axis_a, axis_b, self.parents[0]->grad_buffer(), true);
  });
}

Var concat(const std::vector<Var>& xs, int axis) {
  ATTNMT_CHECK(!xs.empty(), "concat of nothing");
  const Shape& s0 = xs[0]->shape();
  axis = norm_axis(axis, s0.rank(), "concat");
  int64_t total = 0;
  for (const auto& x : xs) {
    ATTNMT_CHECK(x->value.rank() == s0.rank() && with_dim(x->shape(), axis, 1) == with_dim(s0, axis, 1),
                 "concat: {} does not fit {} on axis {}", x->shape().str(), s0.str(), axis);
    total += x->shape()[axis];
  }
  Shape out_shape = with_dim(s0, axis, total);
  Tensor Y = Tensor::uninitialized(out_shape);
  AxisSplit o = split_at(out_shape, axis);
  std::vector<int64_t> offsets;
  int64_t off = 0;
  for (const auto& x : xs) {
    AxisSplit a = split_at(x->shape(), axis);
    kernels::copy_strided(x->value.data(), a.len * a.inner, Y.data() + off * o.inner,
                          o.len * o.inner, o.outer, a.len * a.inner, false);
    offsets.push_back(off);
    off += a.len;
  }
  return make_node(std::move(Y), "concat", xs, [axis, offsets, o](Node& self) {
    for (size_t i = 0; i < self.parents.size(); ++i) {
      const Var& x = self.parents[i];
      if (!wants_grad(x)) continue;
      AxisSplit a = split_at(x->shape(), axis);
      kernels::copy_strided(self.grad.data() + offsets[i] * o.inner, o.len * o.inner,
                            x->grad_buffer().data(), a.len * a.inner, o.outer, a.len * a.inner,
                            true);
    }
  });
}

Var slice(const Var& x, int axis, int64_t begin, int64_t end) {
  const Shape& s = x->shape();
  axis = norm_axis(axis, s.rank(), "slice");
  ATTNMT_CHECK(0 <= begin && begin <= end && end <= s[axis], "slice [{}, {}) of axis {} in {}",
               begin, end, axis, s.str());
  Shape out_shape = with_dim(s, axis, end - begin);
  AxisSplit a = split_at(s, axis);
  Tensor Y = Tensor::uninitialized(out_shape);
  int64_t len = (end - begin) * a.inner;
  kernels::copy_strided(x->value.data() + begin * a.inner, a.len * a.inner, Y.data(), len,
                        a.outer, len, false);
  return make_node(std::move(Y), "slice", {x}, [a, begin, len](Node& self) {
    kernels::copy_strided(self.grad.data(), len,
                          self.parents[0]->grad_buffer().data() + begin * a.inner,
                          a.len * a.inner, a.outer, len, true);
  });
}

Var embedding(const Var& table, std::span<const int> ids, const Shape& ids_shape) {
  const Tensor& W = table->value;  // [V, D]
  ATTNMT_CHECK(W.rank() == 2, "embedding table must be [V, D], got {}", W.shape().str());
  ATTNMT_CHECK(static_cast<int64_t>(ids.size()) == ids_shape.numel() && ids_shape.rank() < 4,
               "embedding: {} ids for shape {}", ids.size(), ids_shape.str());
  int64_t D = W.dim(1);
  Shape out_shape;
  switch (ids_shape.rank()) {
    case 0: out_shape = Shape{D}; break;
    case 1: out_shape = Shape{ids_shape[0], D}; break;
    case 2: out_shape = Shape{ids_shape[0], ids_shape[1], D}; break;
    default: out_shape = Shape{ids_shape[0], ids_shape[1], ids_shape[2], D}; break;
  }
  Tensor Y = Tensor::uninitialized(out_shape);
  kernels::gather_rows(W.data(), W.dim(0), D, ids.data(), ids.size(), Y.data());
  std::vector<int> saved(ids.begin(), ids.end());
  return make_node(std::move(Y), "embedding", {table}, [saved, D](Node& self) {
    kernels::scatter_add_rows(self.parents[0]->grad_buffer().data(), D, saved.data(),
                              saved.size(), self.grad.data());
  });
}

Var narrow_rows(const Var& x, int64_t begin, int64_t end) {
  Tensor Y = x->value.rows(begin, end);  // shares storage
  return make_node(std::move(Y), "narrow_rows", {x}, [begin, end](Node& self) {
    self.parents[0]->grad_buffer().rows(begin, end).arr() += self.grad.arr();
  });
}

Var index_rows(const Var& x, std::span<const int> rows) {
  const Tensor& X = x->value;
  int64_t n = X.dim(0), inner = X.numel() / std::max<int64_t>(n, 1);
  Tensor flat = X.reshape(Shape{n, inner});
  Tensor Y = Tensor::uninitialized(with_dim(X.shape(), 0, rows.size()));
  kernels::gather_rows(flat.data(), n, inner, rows.data(), rows.size(), Y.data());
  std::vector<int> saved(rows.begin(), rows.end());
  return make_node(std::move(Y), "index_rows", {x}, [saved, inner](Node& self) {
    kernels::scatter_add_rows(self.parents[0]->grad_buffer().data(), inner, saved.data(),
                              saved.size(), self.grad.data());
  });
}

}  // namespace attnmt
