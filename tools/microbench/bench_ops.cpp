// bench_ops: what the autograd costs on top of the raw matrix products it is made of.
//   1. Linear forward + backward (x [4096, 512] -> 2048, with bias) through parameter/linear/
//      backward, against the same three GEMMs written directly in Eigen.
//   2. The fused masked attention op (q, k, v [64, 4, 32, 64], key lengths, not causal) forward +
//      backward, against the same math written directly in Eigen (per batch-head GEMMs, masked
//      softmax and its backward), parallel over the batch-heads like the op.
// The two sides of each pair are measured in the same run, interleaved (alternating which goes
// first) after a warm-up; the median of the iterations is reported. The raw side also checks that
// both compute the same numbers, so the comparison is of equal work.
// Built and run by tools/bench-ops; not a test.
// usage: bench_ops [ITERS] [THREADS] [all|linear|attention]     (defaults 15, 2, all)
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/parameters.h"
#include "cli/process.h"
#include "tensor/kernels.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "tensor/threads.h"

namespace {

using namespace attnmt;
using Clock = std::chrono::steady_clock;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<RowMat>;
using CMap = Eigen::Map<const RowMat>;

double seconds_of(const std::function<void()>& fn) {
  auto t0 = Clock::now();
  fn();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Tensor random_tensor(const Shape& s, Rng& rng) {
  Tensor t = Tensor::uninitialized(s);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = u(rng.engine());
  return t;
}

float max_abs_diff(const float* a, const float* b, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Runs a and b `iters` times each after `warmup` rounds, alternating which goes first.
// Returns the per-iteration seconds of each.
struct Pair {
  std::vector<double> a, b;
};
Pair interleave(int warmup, int iters, const std::function<void()>& a,
                const std::function<void()>& b) {
  for (int i = 0; i < warmup; ++i) {
    a();
    b();
  }
  Pair p;
  for (int i = 0; i < iters; ++i) {
    if (i % 2 == 0) {
      p.a.push_back(seconds_of(a));
      p.b.push_back(seconds_of(b));
    } else {
      p.b.push_back(seconds_of(b));
      p.a.push_back(seconds_of(a));
    }
  }
  return p;
}

void report(const char* what, double flops, const Pair& p) {
  double ta = median(p.a), tb = median(p.b);
  double ga = flops / ta * 1e-9, gb = flops / tb * 1e-9;
  fmt::print("{}\n", what);
  fmt::print("  autograd  median {:8.2f} ms  (min {:8.2f})  {:7.1f} GFLOP/s\n", ta * 1e3,
             *std::min_element(p.a.begin(), p.a.end()) * 1e3, ga);
  fmt::print("  raw Eigen median {:8.2f} ms  (min {:8.2f})  {:7.1f} GFLOP/s\n", tb * 1e3,
             *std::min_element(p.b.begin(), p.b.end()) * 1e3, gb);
  // The best times are the least disturbed by neighbours on a shared machine: show both ratios.
  fmt::print("  autograd / raw = {:.1f}% of the raw GFLOP/s (medians), {:.1f}% (best times)\n",
             100.0 * ga / gb,
             100.0 * *std::min_element(p.b.begin(), p.b.end()) /
                 *std::min_element(p.a.begin(), p.a.end()));
}

// ---- 1. Linear
void bench_linear(int iters, Rng& rng) {
  const int64_t R = 4096, In = 512, Out = 2048;
  const double flops = 3.0 * 2.0 * R * In * Out;
  ParameterStore store;
  Var x = store.add("x", random_tensor(Shape{R, In}, rng));     // [R, In]
  Var w = store.add("w", random_tensor(Shape{Out, In}, rng));   // [Out, In]
  Var b = store.add("b", random_tensor(Shape{Out}, rng));       // [Out]
  const Tensor seed = random_tensor(Shape{R, Out}, rng);         // dY [R, Out]

  // Raw: Y = X W^T, dX = dY W, dW = dY^T X into buffers allocated once.
  CMap X(x->value.data(), R, In), W(w->value.data(), Out, In), dY(seed.data(), R, Out);
  RowMat Y(R, Out), dX(R, In), dW(Out, In);

  std::vector<double> fwd, bwd;  // the autograd side's two halves
  auto autograd_step = [&] {
    store.zero_grad();  // as the trainer does before each batch
    auto t0 = Clock::now();
    Var y = linear(x, w, b);
    auto t1 = Clock::now();
    backward(y, seed);
    auto t2 = Clock::now();
    fwd.push_back(std::chrono::duration<double>(t1 - t0).count());
    bwd.push_back(std::chrono::duration<double>(t2 - t1).count());
  };
  std::vector<double> raw_parts[3];
  auto raw_step = [&] {
    auto t0 = Clock::now();
    Y.noalias() = X * W.transpose();
    auto t1 = Clock::now();
    dX.noalias() = dY * W;
    auto t2 = Clock::now();
    dW.noalias() = dY.transpose() * X;
    auto t3 = Clock::now();
    raw_parts[0].push_back(std::chrono::duration<double>(t1 - t0).count());
    raw_parts[1].push_back(std::chrono::duration<double>(t2 - t1).count());
    raw_parts[2].push_back(std::chrono::duration<double>(t3 - t2).count());
  };

  // Same numbers? (The autograd side adds the bias; compare without it.)
  autograd_step();
  raw_step();
  {
    NoGradGuard ng;
    Var y = linear(x, w);
    fmt::print("linear check: max |Y - Y_raw| {:.2e}, |dX - dX_raw| {:.2e}, |dW - dW_raw| {:.2e}\n",
               max_abs_diff(y->value.data(), Y.data(), R * Out),
               max_abs_diff(x->grad.data(), dX.data(), R * In),
               max_abs_diff(w->grad.data(), dW.data(), Out * In));
  }
  fwd.clear();
  bwd.clear();
  for (auto& v : raw_parts) v.clear();

  Pair p = interleave(2, iters, autograd_step, raw_step);
  // The warm-up rounds pushed parts too: keep the measured ones only.
  fwd.erase(fwd.begin(), fwd.end() - iters);
  bwd.erase(bwd.begin(), bwd.end() - iters);
  for (auto& v : raw_parts) v.erase(v.begin(), v.end() - iters);
  report(fmt::format("1. Linear [{}, {}] -> {} with bias, forward + backward ({:.2f} GFLOP)", R,
                     In, Out, flops * 1e-9)
             .c_str(),
         flops, p);
  fmt::print("  parts (median ms): autograd forward {:.2f}, backward {:.2f} | raw X W^T {:.2f}, "
             "dY W {:.2f}, dY^T X {:.2f}\n",
             median(fwd) * 1e3, median(bwd) * 1e3, median(raw_parts[0]) * 1e3,
             median(raw_parts[1]) * 1e3, median(raw_parts[2]) * 1e3);
  // Where the difference goes: the memory passes the tape makes around the three GEMMs,
  // replayed with the same calls (each allocation is fresh, as in a training step).
  std::vector<double> t_out, t_seed, t_grads, t_bias;
  for (int i = 0; i < iters; ++i) {
    t_out.push_back(seconds_of([&] {  // linear(): Y allocated, bias broadcast into it
      Tensor y = Tensor::uninitialized(Shape{R, Out});
      for (int64_t r = 0; r < R; ++r)
        std::copy(b->value.data(), b->value.data() + Out, y.data() + r * Out);
    }));
    t_seed.push_back(seconds_of([&] {  // backward(): root grad zero-filled, then += seed
      Tensor g = Tensor::zeros(Shape{R, Out});
      g.arr() += seed.arr();
    }));
    t_grads.push_back(seconds_of([&] {  // after zero_grad: dX, dW buffers zero-filled
      Tensor gx = Tensor::zeros(Shape{R, In}), gw = Tensor::zeros(Shape{Out, In});
    }));
    Tensor db = Tensor::zeros(Shape{Out});
    t_bias.push_back(seconds_of([&] { kernels::sum_rows(seed.data(), db.data(), R, Out); }));
  }
  fmt::print("  tape memory passes (median ms): Y alloc + bias copy {:.2f}, root grad zeros + seed "
             "{:.2f}, dX/dW zero-fill {:.2f}, db sum_rows {:.2f}\n",
             median(t_out) * 1e3, median(t_seed) * 1e3, median(t_grads) * 1e3,
             median(t_bias) * 1e3);
}

// ---- 2. Attention
// Masked softmax of one [T, S] block in place: columns >= len get probability 0.
void masked_softmax(float* p, int64_t T, int64_t S, int len) {
  for (int64_t t = 0; t < T; ++t) {
    float* r = p + t * S;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t s = 0; s < len; ++s) mx = std::max(mx, r[s]);
    float sum = 0.0f;
    for (int64_t s = 0; s < len; ++s) sum += (r[s] = std::exp(r[s] - mx));
    float inv = len > 0 ? 1.0f / sum : 0.0f;
    for (int64_t s = 0; s < len; ++s) r[s] *= inv;
    for (int64_t s = len; s < S; ++s) r[s] = 0.0f;
  }
}

void bench_attention(int iters, Rng& rng) {
  const int64_t B = 64, H = 4, T = 32, S = 32, d = 64, G = B * H;
  const double flops = 6.0 * 2.0 * G * T * S * d;  // QK^T, PV; dV, dP, dQ, dK
  const float alpha = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<int> lens(B);
  for (int64_t bi = 0; bi < B; ++bi) lens[bi] = static_cast<int>(S - (bi % 8) * 3);  // 32..11
  ParameterStore store;
  Var q = store.add("q", random_tensor(Shape{B, H, T, d}, rng));  // [B, H, T, d]
  Var k = store.add("k", random_tensor(Shape{B, H, S, d}, rng));  // [B, H, S, d]
  Var v = store.add("v", random_tensor(Shape{B, H, S, d}, rng));  // [B, H, S, d]
  const Tensor dO = random_tensor(Shape{B, H, T, d}, rng);        // [B, H, T, d]

  std::vector<double> fwd, bwd;
  auto autograd_step = [&] {
    store.zero_grad();
    auto t0 = Clock::now();
    Var o = attention(q, k, v, lens, false);
    auto t1 = Clock::now();
    backward(o, dO);
    auto t2 = Clock::now();
    fwd.push_back(std::chrono::duration<double>(t1 - t0).count());
    bwd.push_back(std::chrono::duration<double>(t2 - t1).count());
  };
  // Raw buffers, allocated once: P [G, T, S], O, dQ [G, T, d], dK, dV [G, S, d].
  std::vector<float> P(G * T * S), O(G * T * d), dQ(G * T * d), dK(G * S * d), dV(G * S * d);
  const int nt = get_threads();
  std::vector<float> scratch(static_cast<size_t>(nt) * 2 * T * S);  // dP, dS per thread
  // Two parallel loops, forward then backward, as the op must (backward runs after the loss).
  std::vector<double> raw_fwd, raw_bwd;
  auto raw_step = [&] {
    auto t0 = Clock::now();
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < G; ++g) {
      CMap Qg(q->value.data() + g * T * d, T, d), Kg(k->value.data() + g * S * d, S, d),
          Vg(v->value.data() + g * S * d, S, d);
      Map Pg(P.data() + g * T * S, T, S), Og(O.data() + g * T * d, T, d);
      Pg.noalias() = alpha * Qg * Kg.transpose();
      masked_softmax(Pg.data(), T, S, lens[g / H]);
      Og.noalias() = Pg * Vg;
    }
    auto t1 = Clock::now();
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < G; ++g) {
      float* ws = scratch.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * T * S;
      CMap Qg(q->value.data() + g * T * d, T, d), Kg(k->value.data() + g * S * d, S, d),
          Vg(v->value.data() + g * S * d, S, d), dOg(dO.data() + g * T * d, T, d);
      Map Pg(P.data() + g * T * S, T, S);
      Map dPg(ws, T, S), dSg(ws + T * S, T, S);
      Map dQg(dQ.data() + g * T * d, T, d), dKg(dK.data() + g * S * d, S, d),
          dVg(dV.data() + g * S * d, S, d);
      dVg.noalias() = Pg.transpose() * dOg;
      dPg.noalias() = dOg * Vg.transpose();
      for (int64_t t = 0; t < T; ++t) {
        float dot = Pg.row(t).dot(dPg.row(t));
        dSg.row(t) = Pg.row(t).array() * (dPg.row(t).array() - dot);
      }
      dQg.noalias() = alpha * dSg * Kg;
      dKg.noalias() = alpha * dSg.transpose() * Qg;
    }
    auto t2 = Clock::now();
    raw_fwd.push_back(std::chrono::duration<double>(t1 - t0).count());
    raw_bwd.push_back(std::chrono::duration<double>(t2 - t1).count());
  };

  autograd_step();
  raw_step();
  {
    Var o;
    {
      NoGradGuard ng;
      o = attention(q, k, v, lens, false);
    }
    fmt::print("attention check: max |O - O_raw| {:.2e}, |dQ - dQ_raw| {:.2e}, |dK - dK_raw| "
               "{:.2e}, |dV - dV_raw| {:.2e}\n",
               max_abs_diff(o->value.data(), O.data(), G * T * d),
               max_abs_diff(q->grad.data(), dQ.data(), G * T * d),
               max_abs_diff(k->grad.data(), dK.data(), G * S * d),
               max_abs_diff(v->grad.data(), dV.data(), G * S * d));
  }
  Pair p = interleave(5, iters, autograd_step, raw_step);
  for (auto* v : {&fwd, &bwd, &raw_fwd, &raw_bwd}) v->erase(v->begin(), v->end() - iters);
  report(fmt::format("2. Attention [B {}, H {}, T {}, S {}, d {}], key lengths 11-32, not causal, "
                     "forward + backward ({:.3f} GFLOP in 6 GEMMs per batch-head)",
                     B, H, T, S, d, flops * 1e-9)
             .c_str(),
         flops, p);
  std::vector<double> t_zero;
  for (int i = 0; i < iters; ++i)
    t_zero.push_back(seconds_of([&] {  // root grad + seed, dQ/dK/dV zero-filled, P and O
      Tensor g = Tensor::zeros(Shape{B, H, T, d});
      g.arr() += dO.arr();
      Tensor gq = Tensor::zeros(Shape{B, H, T, d}), gk = Tensor::zeros(Shape{B, H, S, d}),
             gv = Tensor::zeros(Shape{B, H, S, d});
      Tensor pp = Tensor::uninitialized(Shape{B, H, T, S}), oo = Tensor::uninitialized(Shape{B, H, T, d});
    }));
  fmt::print("  parts (median ms): autograd forward {:.2f}, backward {:.2f} | raw forward {:.2f}, "
             "backward {:.2f}\n  tape memory passes (serial: root grad + seed, 3 zero-filled "
             "grads, P and O allocated) {:.2f}\n",
             median(fwd) * 1e3, median(bwd) * 1e3, median(raw_fwd) * 1e3, median(raw_bwd) * 1e3,
             median(t_zero) * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  attnmt::setup_process(argv);
  int iters = argc > 1 ? std::atoi(argv[1]) : 15;
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  std::string which = argc > 3 ? argv[3] : "all";
  if (iters < 1 || threads < 1 || (which != "all" && which != "linear" && which != "attention")) {
    fmt::print(stderr, "usage: bench_ops [ITERS >= 1] [THREADS >= 1] [all|linear|attention]\n");
    return 2;
  }
  try {
    set_threads(threads);
    fmt::print("bench_ops: {} threads (Eigen {}), {} iterations each after warm-up, medians\n",
               get_threads(), Eigen::nbThreads(), iters);
    Rng rng(1234);
    if (which != "attention") bench_linear(iters, rng);
    // The attention step is ~1000x cheaper: more iterations for a stable median.
    if (which != "linear") bench_attention(iters * 10, rng);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_ops: {}\n", e.what());
    return 1;
  }
  return 0;
}
