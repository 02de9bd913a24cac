// bench_precision: the matrix products of the models in each precision of the GEMM seam, in
// one run: Eigen float32 against oneDNN bf16 (and int8 for the forward products of a weight),
// GFLOP/s and ratios, on 1 and 2 threads.
//   1. The Transformer's real GEMM shapes (transformer-small: d 256, FFN 1024, vocabulary
//      8000) for a training batch of 4096 target tokens, forward (X W^T, W a registered weight)
//      and the two backward products (dX = dY W, dW = dY^T X); and for a decoding step of
//      40 rows (beam 5 x 8 sentences), forward only.
//   2. Linear [4096, 512] -> 2048 with bias, forward + backward through the autograd, fp32
//      against bf16 (the weight's bf16 copy renewed every step, as Adam's step makes it).
// Each pair is interleaved after a warm-up; medians are reported. Built and run by
// tools/bench-ops; not a test.
// usage: bench_precision [ITERS] [THREADS...]     (defaults 15, then 1 and 2 threads)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/parameters.h"
#include "cli/process.h"
#include "tensor/gemm.h"
#include "tensor/precision.h"
#include "tensor/random.h"
#include "tensor/threads.h"

namespace {

using namespace attnmt;
using Clock = std::chrono::steady_clock;

double median_seconds(int iters, const std::function<void()>& fn) {
  fn();  // warm-up: primitives made, weights converted
  fn();
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    auto t0 = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

Tensor random_tensor(const Shape& s, Rng& rng) {
  Tensor t = Tensor::uninitialized(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(-1.0f, 1.0f);
  return t;
}

struct Shape3 {
  const char* what;
  int64_t M, N, K;
};

// One product C[M,N] = op(A) op(B) in `p`, B a registered weight when `weight`.
double product_seconds(Precision p, int iters, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                       const Tensor& A, const Tensor& B, Tensor& C, bool weight) {
  if (weight) register_weight(B);
  ScopedPrecision scoped(p);
  const double s = median_seconds(iters, [&] {
    gemm(ta, tb, M, N, K, 1.0f, A.data(), B.data(), 0.0f, C.data());
  });
  if (weight) unregister_weight(B);
  return s;
}

void bench_shapes(int iters, bool have_bf16, Rng& rng) {
  const std::vector<Shape3> shapes = {
      {"attention q,k,v   ", 4096, 768, 256},  {"attention out     ", 4096, 256, 256},
      {"FFN in            ", 4096, 1024, 256}, {"FFN out           ", 4096, 256, 1024},
      {"output layer      ", 4096, 8000, 256}, {"step: q,k,v       ", 40, 768, 256},
      {"step: FFN in      ", 40, 1024, 256},   {"step: output layer", 40, 8000, 256}};
  fmt::print("  {:<32} {:>9} {:>9} {:>9} {:>7} {:>7}\n", "product [M x K] x [K x N]",
             "fp32 GF/s", "bf16 GF/s", "int8 GF/s", "bf16/32", "int8/32");
  for (const Shape3& s : shapes) {
    const bool step = s.M < 100;
    // Forward: Y[M,N] = X[M,K] W^T, W [N,K] a weight; backward: dX[M,K] = dY[M,N] W,
    // dW[N,K] = dY^T X (training shapes only).
    Tensor X = random_tensor(Shape{s.M, s.K}, rng), W = random_tensor(Shape{s.N, s.K}, rng);
    Tensor Y = Tensor::uninitialized(Shape{s.M, s.N}), dX = Tensor::uninitialized(Shape{s.M, s.K});
    Tensor dW = Tensor::uninitialized(Shape{s.N, s.K});
    struct Run {
      const char* what;
      bool ta, tb;
      int64_t M, N, K;
      const Tensor *A, *B;
      Tensor* C;
      bool weight, int8;
    };
    std::vector<Run> runs = {{"fwd", false, true, s.M, s.N, s.K, &X, &W, &Y, true, true}};
    if (!step) {
      runs.push_back({"dX ", false, false, s.M, s.K, s.N, &Y, &W, &dX, true, false});
      runs.push_back({"dW ", true, false, s.N, s.K, s.M, &Y, &X, &dW, false, false});
    }
    for (const Run& r : runs) {
      const double flops = 2.0 * r.M * r.N * r.K;
      const double t32 = product_seconds(Precision::kFp32, iters, r.ta, r.tb, r.M, r.N, r.K, *r.A,
                                         *r.B, *r.C, r.weight);
      const double t16 = have_bf16 ? product_seconds(Precision::kBf16, iters, r.ta, r.tb, r.M, r.N,
                                                     r.K, *r.A, *r.B, *r.C, r.weight)
                                   : 0;
      const double t8 = r.int8 ? product_seconds(Precision::kInt8, iters, r.ta, r.tb, r.M, r.N,
                                                 r.K, *r.A, *r.B, *r.C, r.weight)
                               : 0;
      auto gf = [&](double t) { return t > 0 ? fmt::format("{:9.1f}", flops / t * 1e-9) : std::string(9, '-'); };
      auto ratio = [&](double t) { return t > 0 ? fmt::format("{:6.2f}x", t32 / t) : std::string(7, '-'); };
      fmt::print("  {} {} [{} x {}] x [{} x {}]{:>{}} {} {} {} {} {}\n", s.what, r.what, r.M, r.K,
                 r.K, r.N, "", 1, gf(t32), gf(t16), gf(t8), ratio(t16), ratio(t8));
    }
  }
}

void bench_linear(int iters, bool have_bf16, Rng& rng) {
  const int64_t R = 4096, I = 512, O = 2048;
  ParameterStore store;
  Var x = parameter(random_tensor(Shape{R, I}, rng));  // an activation: not a registered weight
  Var w = store.add("w", random_tensor(Shape{O, I}, rng));
  Var b = store.add("b", random_tensor(Shape{O}, rng));
  const Tensor seed = random_tensor(Shape{R, O}, rng);  // dY
  auto step = [&] {
    store.zero_grad();
    if (!x->grad.empty()) x->grad.zero();
    Var y = linear(x, w, b);
    backward(y, seed);
    weights_changed();  // as Adam::step: the bf16 copy of W is made again next step
  };
  const double flops = 3 * 2.0 * R * I * O;
  double t32, t16 = 0;
  {
    ScopedPrecision p(Precision::kFp32);
    t32 = median_seconds(iters, step);
  }
  if (have_bf16) {
    ScopedPrecision p(Precision::kBf16);
    t16 = median_seconds(iters, step);
  }
  fmt::print("  Linear [{}, {}] -> {} fwd + bwd (autograd): fp32 {:.1f} ms ({:.1f} GFLOP/s), "
             "bf16 {:.1f} ms ({:.1f} GFLOP/s): bf16 {:.2f}x fp32\n",
             R, I, O, t32 * 1e3, flops / t32 * 1e-9, t16 * 1e3, t16 > 0 ? flops / t16 * 1e-9 : 0,
             t16 > 0 ? t32 / t16 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  attnmt::setup_process(argv);
  const int iters = argc > 1 ? std::atoi(argv[1]) : 15;
  std::vector<int> threads;
  for (int i = 2; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
  if (threads.empty()) threads = {1, 2};
  if (iters < 1 || std::any_of(threads.begin(), threads.end(), [](int t) { return t < 1; })) {
    fmt::print(stderr, "usage: bench_precision [ITERS >= 1] [THREADS >= 1 ...]\n");
    return 2;
  }
  try {
    const CpuFeatures cpu = cpu_features();
    const bool have_bf16 = cpu.avx512_core;
    fmt::print("bench_precision: oneDNN ISA {} (bf16 {}), {} iterations each after warm-up, "
               "medians\n",
               cpu.isa, cpu.amx_bf16 || cpu.avx512_bf16 ? "native" : "emulated or absent", iters);
    Rng rng(77);
    for (int t : threads) {
      set_threads(t);
      fmt::print("\n{} thread{}:\n", get_threads(), t > 1 ? "s" : "");
      bench_shapes(iters, have_bf16, rng);
      bench_linear(iters, have_bf16, rng);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_precision: {}\n", e.what());
    return 1;
  }
  return 0;
}
