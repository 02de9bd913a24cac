// Hand-computed values for the kernels behind the ops, and the Tensor type's views.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

using namespace attnmt;

TEST_CASE("Tensor views share storage and check their ranges", "[tensor]") {
  Tensor t = Tensor::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor r = t.row(1);
  CHECK(r.shape() == Shape{1, 3});
  r[0] = 40;
  CHECK(t.at({1, 0}) == 40);
  CHECK(t.reshape(Shape{3, 2}).at({2, 1}) == 6);
  CHECK(reinterpret_cast<uintptr_t>(Tensor(Shape{5}).data()) % 64 == 0);
  CHECK_THROWS(t.reshape(Shape{4}));
  CHECK_THROWS(t.rows(1, 3));
  Tensor c = t.clone();
  c[0] = -1;
  CHECK(t[0] == 1);
}

TEST_CASE("gemm with transposes matches hand-computed products", "[tensor]") {
  Tensor a = Tensor::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from(Shape{3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor c(Shape{2, 2});
  matmul(a, false, b, false, c);
  CHECK(c.at({0, 0}) == 4);  // 1 + 3
  CHECK(c.at({0, 1}) == 5);  // 2 + 3
  CHECK(c.at({1, 0}) == 10);
  CHECK(c.at({1, 1}) == 11);
  Tensor at(Shape{3, 3});
  matmul(a, true, a, false, at);  // a^T a
  CHECK(at.at({0, 0}) == 17);     // 1 + 16
  CHECK(at.at({2, 1}) == 36);     // 3*2 + 6*5
  matmul(a, false, a, true, c, 1.0f, 1.0f);  // c += a a^T
  CHECK(c.at({0, 0}) == 4 + 14);
  CHECK(c.at({1, 0}) == 10 + 32);
}

// Large products (gemm's route to oneDNN's sgemm starts at 2^21 multiply-adds) in both float32
// backends, each against a double-precision sum, for every transpose and a few alpha and beta.
TEST_CASE("gemm: Eigen and oneDNN's sgemm both compute large float32 products", "[tensor]") {
  const Fp32Gemm saved = fp32_gemm();
  Rng rng(17);
  auto fill = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
    return v;
  };
  struct Case { bool ta, tb; int64_t M, N, K; float alpha, beta; };
  for (const Case& c : {Case{false, false, 129, 301, 65, 1.0f, 0.0f},
                        Case{true, false, 257, 77, 130, 0.5f, 1.0f},
                        Case{false, true, 63, 1001, 40, 1.0f, -2.0f},
                        Case{true, true, 300, 129, 71, -1.0f, 0.25f},
                        // A transposed with a 4 KiB row stride: Eigen even when oneDNN is chosen
                        Case{true, false, 1024, 33, 70, 1.0f, 1.0f}}) {
    REQUIRE(c.M * c.N * c.K >= (int64_t(1) << 21));
    const std::vector<float> A = fill(c.M * c.K), B = fill(c.K * c.N), C0 = fill(c.M * c.N);
    auto a = [&](int64_t m, int64_t k) { return c.ta ? A[k * c.M + m] : A[m * c.K + k]; };
    auto b = [&](int64_t k, int64_t n) { return c.tb ? B[n * c.K + k] : B[k * c.N + n]; };
    for (Fp32Gemm g : {Fp32Gemm::kEigen, Fp32Gemm::kOneDnn}) {
      INFO("ta " << c.ta << " tb " << c.tb << " oneDNN " << (g == Fp32Gemm::kOneDnn));
      set_fp32_gemm(g);
      std::vector<float> C = C0;
      gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), B.data(), c.beta, C.data());
      int64_t wrong = 0;
      for (int64_t m = 0; m < c.M; ++m)
        for (int64_t n = 0; n < c.N; ++n) {
          double want = 0, scale = 0;
          for (int64_t k = 0; k < c.K; ++k) {
            want += static_cast<double>(a(m, k)) * b(k, n);
            scale += std::fabs(a(m, k) * b(k, n));
          }
          want = c.alpha * want + c.beta * C0[m * c.N + n];
          wrong += std::fabs(C[m * c.N + n] - want) > 1e-5 * (scale + 1);
        }
      CHECK(wrong == 0);
    }
  }
  set_fp32_gemm(saved);
}

TEST_CASE("softmax of a known vector", "[tensor]") {
  Var x = constant(Tensor::from(Shape{1, 3}, {1.0f, 2.0f, 3.0f}));
  Var y = softmax(x);
  // e^1, e^2, e^3 over their sum 30.1929...
  CHECK(y->value[0] == Approx(0.0900306).epsilon(1e-5));
  CHECK(y->value[1] == Approx(0.2447285).epsilon(1e-5));
  CHECK(y->value[2] == Approx(0.6652410).epsilon(1e-5));
  Var l = log_softmax(x);
  CHECK(l->value[2] == Approx(std::log(0.6652410)).epsilon(1e-5));
}

TEST_CASE("masked positions get probability zero and a fully masked row stays finite",
          "[tensor]") {
  Var x = constant(Tensor::from(Shape{2, 3}, {5.0f, 1.0f, 1.0f, 2.0f, 3.0f, 4.0f}));
  Tensor mask = Tensor::from(Shape{2, 3}, {0, 1, 1, 0, 0, 0});
  Var y = softmax(x, &mask);
  CHECK(y->value[0] == 0.0f);
  CHECK(y->value[1] == Approx(0.5f));
  CHECK(y->value[2] == Approx(0.5f));
  for (int i = 3; i < 6; ++i) CHECK(y->value[i] == 0.0f);
}

TEST_CASE("layer norm of a known row", "[tensor]") {
  // Row 1 2 3 4: mean 2.5, variance 1.25, so xhat = (-1.5, -0.5, 0.5, 1.5) / sqrt(1.25 + eps).
  Var x = constant(Tensor::from(Shape{1, 4}, {1, 2, 3, 4}));
  Var g = constant(Tensor::from(Shape{4}, {1, 1, 2, 1}));
  Var b = constant(Tensor::from(Shape{4}, {0, 0, 0, 10}));
  Var y = layer_norm(x, g, b, 0.0f);
  CHECK(y->value[0] == Approx(-1.3416408f));
  CHECK(y->value[1] == Approx(-0.4472136f));
  CHECK(y->value[2] == Approx(2 * 0.4472136f));
  CHECK(y->value[3] == Approx(10 + 1.3416408f));
}

TEST_CASE("label-smoothed cross-entropy of a 3-class example, padding contributes nothing",
          "[tensor]") {
  // log-probs of one row: log(0.7), log(0.2), log(0.1); target 0; smoothing 0.3 spreads 0.1 to
  // each class: loss = -(0.7 + 0.1) log 0.7 - 0.1 log 0.2 - 0.1 log 0.1.
  Var lp = constant(Tensor::from(Shape{2, 3}, {std::log(0.7f), std::log(0.2f), std::log(0.1f),
                                               -0.5f, -1.0f, -2.0f}));
  double expected = -(0.8 * std::log(0.7) + 0.1 * std::log(0.2) + 0.1 * std::log(0.1));
  Var loss = cross_entropy(lp, std::vector<int>{0, 9}, 0.3f, 9);  // row 2 is padding (id 9)
  CHECK(loss->value[0] == Approx(expected).epsilon(1e-5));
  Var plain = cross_entropy(lp, std::vector<int>{1, 9}, 0.0f, 9);
  CHECK(plain->value[0] == Approx(-std::log(0.2)).epsilon(1e-5));
  // The padded row receives no gradient.
  Var p = parameter(lp->value.clone());
  backward(cross_entropy(p, std::vector<int>{0, 9}, 0.3f, 9));
  for (int i = 3; i < 6; ++i) CHECK(p->grad[i] == 0.0f);
  CHECK(p->grad[0] == Approx(-0.8f));
}

TEST_CASE("no-grad mode records nothing and allocates no gradients", "[autograd]") {
  Var w = parameter(Tensor::from(Shape{2, 2}, {1, 2, 3, 4}));
  Var x = constant(Tensor::from(Shape{1, 2}, {1, 1}));
  {
    NoGradGuard ng;
    Var y = linear(x, w);
    CHECK_FALSE(y->requires_grad);
    CHECK(y->parents.empty());
    CHECK_FALSE(y->backward);
  }
  Var y = linear(x, w);
  CHECK(y->requires_grad);
  backward(sum(y));
  CHECK(w->grad.at({1, 0}) == 1.0f);
}

namespace {
// Runs fn with omp's thread count set to n, then restores it.
template <typename F>
void with_threads(int n, F&& fn) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(n);
  fn();
  omp_set_num_threads(saved);
}
}  // namespace

TEST_CASE("dropout masks: the seed alone decides them, whatever the thread count", "[tensor]") {
  const int64_t n = 1000003;  // odd, and above the parallel threshold
  const float p = 0.3f;
  Tensor one = Tensor::uninitialized(Shape{n}), two = Tensor::uninitialized(Shape{n});
  Rng r1(42), r2(42);
  with_threads(1, [&] { kernels::dropout_mask(one.data(), n, p, r1); });
  with_threads(2, [&] { kernels::dropout_mask(two.data(), n, p, r2); });
  CHECK(std::equal(one.data(), one.data() + n, two.data()));
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    REQUIRE((one[i] == 0.0f || one[i] == Approx(1.0f / (1.0f - p))));
    dropped += one[i] == 0.0f;
  }
  CHECK(double(dropped) / n == Approx(p).margin(0.003));
  // Neighbours are independent: P(both dropped) = p^2.
  int64_t pairs = 0;
  for (int64_t i = 0; i + 1 < n; i += 2) pairs += one[i] == 0.0f && one[i + 1] == 0.0f;
  CHECK(double(pairs) / (n / 2) == Approx(p * p).margin(0.003));
  // The next draw gives another mask.
  kernels::dropout_mask(two.data(), n, p, r1);
  CHECK_FALSE(std::equal(one.data(), one.data() + n, two.data()));
}

TEST_CASE("parallel copy and add_into match the serial loop on large and ragged sizes",
          "[tensor]") {
  for (int64_t n : {int64_t(5), int64_t(1) << 20, (int64_t(1) << 20) + 7}) {
    Tensor src = Tensor::uninitialized(Shape{n}), dst = Tensor::uninitialized(Shape{n});
    for (int64_t i = 0; i < n; ++i) {
      src[i] = static_cast<float>(i % 1013) * 0.5f;
      dst[i] = static_cast<float>(i % 7);
    }
    with_threads(2, [&] { kernels::add_into(src.data(), dst.data(), n); });
    bool ok = true;
    for (int64_t i = 0; i < n; ++i) ok = ok && dst[i] == static_cast<float>(i % 7) + src[i];
    CHECK(ok);
    with_threads(2, [&] { kernels::copy(src.data(), dst.data(), n); });
    CHECK(std::equal(src.data(), src.data() + n, dst.data()));
  }
}
