// A finite-difference gradient check for every autograd op: random shapes, batch size 1,
// odd sizes and masked positions.
#include "gradcheck.h"
#include "helpers.h"

using namespace attnmt;
using namespace attnmt::testing;

namespace {
Tensor rnd(const Shape& s, float scale = 1.0f) { return random_tensor(s, test_rng(7), scale); }
}  // namespace

TEST_CASE("gradcheck linear with and without bias, batch 1 and odd sizes", "[autograd][grad]") {
  for (auto [rows, in, out] : {std::tuple{1, 3, 5}, std::tuple{7, 4, 3}}) {
    gradcheck([](const std::vector<Var>& p) { return linear(p[0], p[1], p[2]); },
              {rnd({rows, in}), rnd({out, in}), rnd({out})});
    gradcheck([](const std::vector<Var>& p) { return linear(p[0], p[1]); },
              {rnd({2, rows, in}), rnd({out, in})});
  }
}

// The fused relu (applied by the product): the same values as relu(linear) and gradients that
// pass finite differences (random inputs keep every pre-activation away from 0).
TEST_CASE("gradcheck linear_relu, and it equals relu of linear", "[autograd][grad]") {
  for (auto [rows, in, out] : {std::tuple{1, 3, 5}, std::tuple{7, 4, 3}}) {
    gradcheck([](const std::vector<Var>& p) { return linear_relu(p[0], p[1], p[2]); },
              {rnd({rows, in}), rnd({out, in}), rnd({out})});
    gradcheck([](const std::vector<Var>& p) { return linear_relu(p[0], p[1]); },
              {rnd({2, rows, in}), rnd({out, in})});
  }
  Var x = constant(rnd({6, 5})), w = constant(rnd({4, 5})), b = constant(rnd({4}));
  const Tensor fused = linear_relu(x, w, b)->value, apart = relu(linear(x, w, b))->value;
  int64_t zeros = 0;
  for (int64_t i = 0; i < fused.numel(); ++i) {
    CHECK(fused[i] == Approx(apart[i]).margin(1e-6));
    zeros += fused[i] == 0.0f;
  }
  CHECK(zeros > 0);  // the relu did cut something
  CHECK(zeros < fused.numel());
}

TEST_CASE("gradcheck matmul in all four transpose combinations", "[autograd][grad]") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = ta ? rnd({4, 3}) : rnd({3, 4});
      Tensor b = tb ? rnd({5, 4}) : rnd({4, 5});
      gradcheck([=](const std::vector<Var>& p) { return matmul(p[0], p[1], ta, tb); }, {a, b});
    }
}

TEST_CASE("gradcheck bmm in all four transpose combinations", "[autograd][grad]") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = ta ? rnd({2, 4, 3}) : rnd({2, 3, 4});
      Tensor b = tb ? rnd({2, 5, 4}) : rnd({2, 4, 5});
      gradcheck([=](const std::vector<Var>& p) { return bmm(p[0], p[1], ta, tb); }, {a, b});
    }
}

TEST_CASE("gradcheck element-wise add, sub, mul, scale, add_broadcast", "[autograd][grad]") {
  Tensor a = rnd({3, 5}), b = rnd({3, 5});
  gradcheck([](const std::vector<Var>& p) { return add(p[0], p[1]); }, {a, b});
  gradcheck([](const std::vector<Var>& p) { return sub(p[0], p[1]); }, {a, b});
  gradcheck([](const std::vector<Var>& p) { return mul(p[0], p[1]); }, {a, b});
  gradcheck([](const std::vector<Var>& p) { return scale(p[0], -2.5f); }, {a});
  gradcheck([](const std::vector<Var>& p) { return add_broadcast(p[0], p[1]); },
            {rnd({2, 3, 4}), rnd({2, 4})});
  gradcheck([](const std::vector<Var>& p) { return add_broadcast(p[0], p[1]); },
            {rnd({5, 4}), rnd({4})});
}

TEST_CASE("gradcheck sum and mean", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) { return sum(p[0]); }, {rnd({3, 4})});
  gradcheck([](const std::vector<Var>& p) { return mean(p[0]); }, {rnd({1, 7})});
}

TEST_CASE("gradcheck activations", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) { return tanh(p[0]); }, {rnd({3, 5})});
  gradcheck([](const std::vector<Var>& p) { return sigmoid(p[0]); }, {rnd({3, 5})});
  gradcheck([](const std::vector<Var>& p) { return gelu(p[0]); }, {rnd({3, 5})});
  // relu: keep inputs away from the kink at 0, where finite differences are meaningless.
  Tensor x = rnd({4, 6});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] += x[i] >= 0 ? 0.1f : -0.1f;
  gradcheck([](const std::vector<Var>& p) { return relu(p[0]); }, {x});
}

TEST_CASE("gradcheck softmax and log_softmax with and without a mask", "[autograd][grad]") {
  Tensor mask = Tensor::full(Shape{3, 5}, 1.0f);
  mask.at({0, 4}) = 0.0f;
  mask.at({2, 0}) = 0.0f;
  mask.at({2, 1}) = 0.0f;
  gradcheck([](const std::vector<Var>& p) { return softmax(p[0]); }, {rnd({3, 5})});
  gradcheck([&](const std::vector<Var>& p) { return softmax(p[0], &mask); }, {rnd({3, 5})});
  gradcheck([](const std::vector<Var>& p) { return log_softmax(p[0]); }, {rnd({1, 7})});
  // Masked log-probs are -1e30: compare through a masked_fill that zeroes them.
  gradcheck([&](const std::vector<Var>& p) {
    return masked_fill(log_softmax(p[0], &mask), mask, 0.0f);
  }, {rnd({3, 5})});
}

TEST_CASE("gradcheck layer_norm", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) { return layer_norm(p[0], p[1], p[2]); },
            {rnd({3, 6}), rnd({6}), rnd({6})});
  gradcheck([](const std::vector<Var>& p) { return layer_norm(p[0], p[1], p[2]); },
            {rnd({1, 2, 5}), rnd({5}), rnd({5})});
}

TEST_CASE("gradcheck dropout with a fixed mask", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) {
    Rng rng(99);  // same mask on every evaluation
    return dropout(p[0], 0.3f, rng, true);
  }, {rnd({4, 5})});
}

// The fused residual: gradients by finite differences, with x and y as the same input too (the
// gradient handed to x must not be the one y's is computed from), and the values and draws of
// add(x, dropout(y)).
TEST_CASE("gradcheck add_dropout, and it equals add of dropout", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) {
    Rng rng(99);
    return add_dropout(p[0], p[1], 0.3f, rng, true);
  }, {rnd({4, 5}), rnd({4, 5})});
  gradcheck([](const std::vector<Var>& p) {
    Rng rng(98);
    return add_dropout(p[0], scale(p[0], 2.0f), 0.3f, rng, true);
  }, {rnd({4, 5})});
  Var x = constant(rnd({6, 7})), y = constant(rnd({6, 7}));
  Rng r1(5), r2(5);
  const Tensor fused = add_dropout(x, y, 0.4f, r1, true)->value;
  const Tensor apart = add(x, dropout(y, 0.4f, r2, true))->value;
  int64_t dropped = 0;
  for (int64_t i = 0; i < fused.numel(); ++i) {
    CHECK(fused[i] == Approx(apart[i]).margin(1e-6));
    dropped += fused[i] == x->value[i];
  }
  CHECK(dropped > 0);
  CHECK(dropped < fused.numel());
  CHECK(r1.next() == r2.next());  // the same draws
}

TEST_CASE("gradcheck masked_fill", "[autograd][grad]") {
  Tensor mask = Tensor::from(Shape{2, 3}, {1, 0, 1, 0, 1, 1});
  gradcheck([&](const std::vector<Var>& p) { return masked_fill(p[0], mask, -7.0f); },
            {rnd({2, 3})});
}

TEST_CASE("gradcheck reshape, transpose, concat, slice", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) { return reshape(p[0], Shape{3, 4}); }, {rnd({2, 6})});
  gradcheck([](const std::vector<Var>& p) { return transpose(p[0], 1, 2); }, {rnd({2, 3, 4, 5})});
  gradcheck([](const std::vector<Var>& p) { return transpose(p[0], 0, 1); }, {rnd({3, 4})});
  for (int axis : {0, 1, 2})
    gradcheck([axis](const std::vector<Var>& p) { return concat({p[0], p[1]}, axis); },
              {rnd({2, 3, 4}), rnd({2, 3, 4})});
  gradcheck([](const std::vector<Var>& p) { return concat({p[0], p[1], p[0]}, -1); },
            {rnd({2, 3}), rnd({2, 1})});
  gradcheck([](const std::vector<Var>& p) { return slice(p[0], 1, 1, 3); }, {rnd({2, 4, 3})});
  gradcheck([](const std::vector<Var>& p) { return slice(p[0], 0, 0, 1); }, {rnd({3, 2})});
}

TEST_CASE("gradcheck embedding and index_rows with repeated ids", "[autograd][grad]") {
  std::vector<int> ids{2, 0, 2, 3, 1, 2};
  gradcheck([&](const std::vector<Var>& p) { return embedding(p[0], ids, Shape{2, 3}); },
            {rnd({4, 5})});
  std::vector<int> rows{1, 1, 0};
  gradcheck([&](const std::vector<Var>& p) { return index_rows(p[0], rows); }, {rnd({2, 3, 2})});
}

TEST_CASE("gradcheck label-smoothed cross-entropy with padding", "[autograd][grad]") {
  std::vector<int> targets{3, 0, 1, 4};  // 0 = pad
  for (float eps : {0.0f, 0.1f})
    gradcheck([&](const std::vector<Var>& p) {
      return cross_entropy(log_softmax(p[0]), targets, eps, 0);
    }, {rnd({4, 5})});
}

TEST_CASE("gradcheck lstm_cell", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) { return lstm_cell(p[0], p[1]); },
            {rnd({3, 8}), rnd({3, 2})});
}

TEST_CASE("gradcheck lstm_sequence both directions with padding", "[autograd][grad]") {
  std::vector<int> lengths{4, 2, 1};
  for (bool reverse : {false, true})
    gradcheck([&](const std::vector<Var>& p) {
      return lstm_sequence(p[0], p[1], lengths, reverse);
    }, {rnd({3, 4, 12}), rnd({12, 3}, 0.5f)});
}

TEST_CASE("gradcheck attention with padding and causal masks", "[autograd][grad]") {
  std::vector<int> klen{3, 5};
  for (bool causal : {false, true}) {
    int S = causal ? 4 : 5;
    std::vector<int> lens = causal ? std::vector<int>{4, 2} : klen;
    gradcheck([&](const std::vector<Var>& p) {
      return attention(p[0], p[1], p[2], lens, causal);
    }, {rnd({2, 2, 4, 3}), rnd({2, 2, S, 3}), rnd({2, 2, S, 3})});
  }
  // Batch 1, one head, one query.
  gradcheck([](const std::vector<Var>& p) { return attention(p[0], p[1], p[2], {}, false); },
            {rnd({1, 1, 1, 4}), rnd({1, 1, 3, 4}), rnd({1, 1, 3, 4})});
}

TEST_CASE("gradcheck fused log-softmax cross-entropy, it equals the unfused loss",
          "[autograd][grad]") {
  std::vector<int> targets{3, 0, 1, 4, 2};  // 0 = pad
  for (float eps : {0.0f, 0.1f}) {
    gradcheck([&](const std::vector<Var>& p) {
      return cross_entropy_with_logits(p[0], targets, eps, 0);
    }, {rnd({5, 6})});
    Var z = constant(rnd({5, 6}, 3.0f));
    float fused = cross_entropy_with_logits(z, targets, eps, 0)->value[0];
    float unfused = cross_entropy(log_softmax(z), targets, eps, 0)->value[0];
    CHECK(fused == Approx(unfused).epsilon(1e-5));
  }
}

TEST_CASE("cross-entropy that consumes its logits: same loss and gradients, logits overwritten",
          "[autograd][grad]") {
  std::vector<int> targets{3, 0, 1, 4, 2};  // 0 = pad
  for (float eps : {0.0f, 0.1f}) {
    gradcheck([&](const std::vector<Var>& p) {  // an intermediate's logits: linear(x, w)
      return cross_entropy_with_logits(linear(p[0], p[1]), targets, eps, 0, true);
    }, {rnd({5, 3}), rnd({6, 3})});
    Tensor x0 = rnd({5, 3}), w0 = rnd({6, 3});
    Var x1 = parameter(x0.clone()), w1 = parameter(w0.clone());
    Var x2 = parameter(x0.clone()), w2 = parameter(w0.clone());
    Var z1 = linear(x1, w1), z2 = linear(x2, w2);
    Var kept = cross_entropy_with_logits(z1, targets, eps, 0, false);
    Var consumed = cross_entropy_with_logits(z2, targets, eps, 0, true, 0.25f);
    CHECK(consumed->value[0] == Approx(kept->value[0]).epsilon(1e-6));
    // The consumed logits now hold their gradient for 0.25: 0.25 (softmax - smoothed target),
    // whose row sums to zero, and zero on the padding row.
    CHECK(z2->value.mat().row(0).sum() == Approx(0.0f).margin(1e-6));
    CHECK(z2->value.mat().row(0).maxCoeff() > 0.01f);
    CHECK(z2->value.mat().row(0).minCoeff() < -0.01f);
    CHECK(z2->value.mat().row(1).cwiseAbs().maxCoeff() == 0.0f);  // target 0: padding
    CHECK(z1->value.mat().row(0).sum() != Approx(0.0f).margin(1e-3));
    backward(kept, Tensor::full(Shape{1}, 0.25f));
    backward(consumed, Tensor::full(Shape{1}, 0.25f));
    for (int64_t i = 0; i < x0.numel(); ++i) CHECK(x2->grad[i] == Approx(x1->grad[i]).margin(1e-6));
    for (int64_t i = 0; i < w0.numel(); ++i) CHECK(w2->grad[i] == Approx(w1->grad[i]).margin(1e-6));
    // Another gradient than the expected one: the made gradient is rescaled.
    Var x3 = parameter(x0.clone()), w3 = parameter(w0.clone());
    backward(cross_entropy_with_logits(linear(x3, w3), targets, eps, 0, true, 0.25f),
             Tensor::full(Shape{1}, 0.5f));
    for (int64_t i = 0; i < x0.numel(); ++i)
      CHECK(x3->grad[i] == Approx(2.0f * x1->grad[i]).margin(1e-6));
  }
}

TEST_CASE("gradcheck affine_sum and narrow_rows", "[autograd][grad]") {
  gradcheck([](const std::vector<Var>& p) {
    return affine_sum(p[0], {{p[1], p[2]}, {p[3], p[4]}});
  }, {rnd({3, 4}), rnd({3, 2}), rnd({4, 2}), rnd({3, 5}), rnd({4, 5})});
  gradcheck([](const std::vector<Var>& p) {
    Var v = narrow_rows(p[0], 1, 3);
    return concat({v, narrow_rows(p[0], 0, 2)}, 1);  // overlapping views add up
  }, {rnd({4, 3})});
}

TEST_CASE("gradcheck inputs that several ops read: first writes assign, later ones add",
          "[autograd][grad]") {
  // Each input reaches the output through several ops, in orders that make every op both the
  // first writer of a gradient (which assigns into an unfilled buffer, or hands its own buffer
  // on) and a later one (which adds): linear, matmul, bmm, add, scale, relu, dropout, reshape,
  // cross-entropy. add(x, x) hands one buffer to the same parent twice.
  gradcheck([](const std::vector<Var>& p) {
    const Var &x = p[0], &w = p[1], &b = p[2];  // x [3, 4], w [4, 4], b [4]
    Rng rng(5);
    Var h = relu(linear(x, w, b));
    Var y = add(h, add(x, x));
    y = add(y, scale(dropout(linear(y, w), 0.25f, rng, true), 0.5f));
    Var r = reshape(y, Shape{1, 3, 4});
    Var m = bmm(r, reshape(x, Shape{1, 3, 4}), true, false);  // [1, 4, 4]
    Var z = add(reshape(m, Shape{4, 4}), matmul(w, w, false, true));
    return add(reshape(z, Shape{16}), scale(reshape(add(w, relu(w)), Shape{16}), -1.0f));
  }, {rnd({3, 4}), rnd({4, 4}), rnd({4})});
  gradcheck([](const std::vector<Var>& p) {  // b reached twice: add must not hand one buffer
    Var a = scale(p[0], 2.0f), b = relu(p[1]);  // to two parents
    return add(add(a, b), b);
  }, {rnd({3, 5}), rnd({3, 5})});
  gradcheck([](const std::vector<Var>& p) {  // the loss writes the first gradient of its logits
    const int targets[] = {2, 0, 0, 4};  // 0 = padding
    Var logits = add(p[0], scale(p[0], 0.5f));
    return add(cross_entropy_with_logits(logits, targets, 0.1f, 0),
               cross_entropy_with_logits(p[0], targets, 0.2f, 0));
  }, {rnd({4, 6})});
}
