// The low-precision GEMMs of the seam (gemm.h with tensor/precision.h): bf16 and int8 products
// against float32 ones within bounds that the number format can meet and a broken kernel (a
// wrong transpose, a lost scale, a stale weight) cannot; and the choice of precision.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "helpers.h"
#include "model_testing.h"
#include "models/registry.h"

#include "tensor/gemm.h"
#include "tensor/gemm_shapes.h"
#include "tensor/precision.h"
#include "tensor/random.h"

namespace attnmt {
namespace {

struct Product {
  bool ta, tb;
  int64_t M, N, K;
};

// Random [rows, cols] values in [-1, 1], plus an outlier per tenth row (what per-row scales
// are for).
Tensor random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  Rng rng(seed);
  Tensor t = Tensor::uninitialized(Shape{rows, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(-1.0f, 1.0f);
  for (int64_t r = 0; r < rows; r += 10) t[r * cols] = 8.0f;
  return t;
}

// op(X)[r, c] of X stored row-major as itself or (trans) as its transpose.
float op_at(const Tensor& X, bool trans, int64_t r, int64_t c) {
  return trans ? X[c * X.dim(1) + r] : X[r * X.dim(1) + c];
}

// A stored as [M,K] or [K,M], B as [K,N] or [N,K].
std::pair<Tensor, Tensor> operands(const Product& p, uint64_t seed) {
  return {p.ta ? random_matrix(p.K, p.M, seed) : random_matrix(p.M, p.K, seed),
          p.tb ? random_matrix(p.N, p.K, seed + 1) : random_matrix(p.K, p.N, seed + 1)};
}

Tensor product(const Product& p, const Tensor& A, const Tensor& B, float alpha, float beta,
               const Tensor& C0) {
  Tensor C = C0.clone();
  gemm(p.ta, p.tb, p.M, p.N, p.K, alpha, A.data(), B.data(), beta, C.data());
  return C;
}

const std::vector<Product> kOddShapes = {
    {false, false, 37, 53, 29}, {true, false, 37, 53, 29},  {false, true, 37, 53, 29},
    {true, true, 37, 53, 29},   {false, true, 1, 300, 70},  {false, false, 129, 17, 200},
    {true, false, 5, 1000, 33}, {false, true, 200, 64, 512}};

// A of over 8 MB in bf16: converted in two or three slices of rows (gemm_dnnl.cpp).
const std::vector<Product> kSlicedShapes = {{false, true, 1001, 5, 4201},
                                            {true, false, 1001, 5, 4201},
                                            {false, false, 2100, 3, 4201},
                                            {true, true, 2100, 3, 4201},
                                            // slices of 2048, 1024, 256 rows and a padded tail
                                            {false, true, 3333, 40, 64},
                                            {true, false, 1500, 24, 96}};

bool can_run_bf16() { return cpu_features().avx512_core; }

// How many entries of got [M, N] differ from want by more than bound(m, n), and the largest
// error / bound.
struct Outside {
  int64_t count = 0;
  double worst = 0;
};
template <typename Bound>
Outside compare_within(const Tensor& got, const Tensor& want, int64_t M, int64_t N, Bound bound) {
  Outside o;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const double b = bound(m, n), err = std::fabs(got[m * N + n] - want[m * N + n]);
      o.worst = std::max(o.worst, err / b);
      o.count += err > b;
    }
  return o;
}

}  // namespace

TEST_CASE("precision: auto takes bf16 only where the CPU has bf16 instructions",
          "[tensor][precision]") {
  CpuFeatures none, bf16, amx;
  none.avx512_core = bf16.avx512_core = amx.avx512_core = true;
  none.vnni = bf16.vnni = amx.vnni = true;
  none.avx2 = bf16.avx2 = amx.avx2 = true;
  bf16.avx512_bf16 = true;
  amx.avx512_bf16 = amx.amx_bf16 = true;
  for (auto use : {PrecisionUse::kTraining, PrecisionUse::kTranslation}) {
    CHECK(resolve_precision(Precision::kAuto, use, none).precision == Precision::kFp32);
    CHECK(resolve_precision(Precision::kAuto, use, bf16).precision == Precision::kBf16);
    CHECK(resolve_precision(Precision::kAuto, use, amx).precision == Precision::kBf16);
    CHECK(resolve_precision(Precision::kFp32, use, amx).precision == Precision::kFp32);
  }
  CHECK(resolve_precision(Precision::kAuto, PrecisionUse::kTraining, amx).why.find("AMX-BF16") !=
        std::string::npos);
  // Emulated bf16 runs when asked for, and says it is slow; without AVX-512 it is refused.
  CHECK(resolve_precision(Precision::kBf16, PrecisionUse::kTraining, none).why.find("slower") !=
        std::string::npos);
  CpuFeatures old;
  CHECK_THROWS_WITH(resolve_precision(Precision::kBf16, PrecisionUse::kTraining, old),
                    Catch::Contains("--precision fp32"));
  CHECK_THROWS_WITH(resolve_precision(Precision::kInt8, PrecisionUse::kTraining, amx),
                    Catch::Contains("translate and align only"));
  CHECK(resolve_precision(Precision::kInt8, PrecisionUse::kTranslation, none).precision ==
        Precision::kInt8);
  CHECK(int8_weight_levels(none) == 127);
  // AVX2 alone: int8 with 7-bit weights, no bf16; without AVX2, no int8 either.
  CpuFeatures avx2;
  avx2.avx2 = true;
  avx2.isa = "AVX2";
  const ResolvedPrecision i8 =
      resolve_precision(Precision::kInt8, PrecisionUse::kTranslation, avx2);
  CHECK(i8.precision == Precision::kInt8);
  CHECK(i8.why.find("7-bit weights") != std::string::npos);
  CHECK(int8_weight_levels(avx2) == 63);
  CHECK_THROWS_WITH(resolve_precision(Precision::kBf16, PrecisionUse::kTranslation, avx2),
                    Catch::Contains("--precision fp32"));
  CHECK_THROWS_WITH(resolve_precision(Precision::kInt8, PrecisionUse::kTranslation, old),
                    Catch::Contains("no AVX2"));
}

TEST_CASE("precision: this CPU's features agree with /proc/cpuinfo", "[tensor][precision]") {
  // oneDNN reads cpuid; ONEDNN_MAX_CPU_ISA (set by the ctest run "...without bf16") can only
  // hide instructions, never add them.
  const CpuFeatures f = cpu_features();
  std::string flags;
  if (FILE* in = std::fopen("/proc/cpuinfo", "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) flags.append(buf, n);
    std::fclose(in);
  }
  if (flags.empty()) {
    WARN("skipped: no /proc/cpuinfo");
    return;
  }
  if (f.avx512_bf16) CHECK(flags.find("avx512_bf16") != std::string::npos);
  if (f.amx_bf16) CHECK(flags.find("amx_bf16") != std::string::npos);
  if (f.vnni) CHECK(flags.find("avx512_vnni") != std::string::npos);
  if (f.avx2) CHECK(flags.find(" avx2") != std::string::npos);
  const char* max_isa = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (max_isa && std::string(max_isa) == "AVX512_CORE_VNNI") {
    CHECK_FALSE(f.avx512_bf16);
    CHECK(resolve_precision(Precision::kAuto, PrecisionUse::kTraining, f).precision ==
          Precision::kFp32);
  }
}

TEST_CASE("precision: bf16 products equal float32 ones within bf16's rounding",
          "[tensor][precision][bf16]") {
  if (!can_run_bf16()) {
    WARN("skipped: this CPU has no AVX-512: oneDNN cannot run bf16 here");
    return;
  }
  uint64_t seed = 11;
  std::vector<Product> shapes = kOddShapes;
  shapes.insert(shapes.end(), kSlicedShapes.begin(), kSlicedShapes.end());
  for (const Product& p : shapes) {
    for (const auto& ab : {std::pair{1.0f, 0.0f}, {0.5f, 1.0f}, {1.0f, -2.0f}}) {
      const float alpha = ab.first, beta = ab.second;  // named (clang 14 cannot capture bindings)
      INFO("ta " << p.ta << " tb " << p.tb << " M " << p.M << " N " << p.N << " K " << p.K
                 << " alpha " << alpha << " beta " << beta);
      const auto ops = operands(p, seed += 2);
      const Tensor &A = ops.first, &B = ops.second;
      const Tensor C0 = random_matrix(p.M, p.N, seed + 7);
      const Tensor want = product(p, A, B, alpha, beta, C0);
      for (bool as_weight : {false, true}) {
        if (as_weight) register_weight(B);
        Tensor got;
        {
          ScopedPrecision bf16(Precision::kBf16);
          got = product(p, A, B, alpha, beta, C0);
        }
        if (as_weight) unregister_weight(B);
        // Each input rounds to 8 significant bits (relative error <= 2^-9), so each term of the
        // sum is off by at most ~2^-8 of |a||b|; the float32 sums add almost nothing.
        const Outside o = compare_within(got, want, p.M, p.N, [&](int64_t m, int64_t n) {
          double bound = 0;
          for (int64_t k = 0; k < p.K; ++k)
            bound += std::fabs(op_at(A, p.ta, m, k) * op_at(B, p.tb, k, n));
          return std::fabs(alpha) * bound * std::ldexp(1.0, -7) + 1e-5;
        });
        const double worst = o.worst;
        INFO("as weight " << as_weight << ": worst error / bound " << worst);
        CHECK(o.count == 0);
        // ... and bf16 did run: float32 would be (nearly) exact.
        if (p.M > 1 || as_weight) CHECK(worst > 1e-3);
      }
    }
  }
}

TEST_CASE("precision: a weight's bf16 copy is renewed after weights_changed()",
          "[tensor][precision][bf16]") {
  if (!can_run_bf16()) {
    WARN("skipped: this CPU has no AVX-512: oneDNN cannot run bf16 here");
    return;
  }
  const Product p{false, true, 32, 48, 64};
  auto [A, B] = operands(p, 5);
  register_weight(B);
  ScopedPrecision bf16(Precision::kBf16);
  const Tensor zero = Tensor::zeros(Shape{p.M, p.N});
  const Tensor before = product(p, A, B, 1.0f, 0.0f, zero);
  B.arr() *= -1.0f;  // as an optimiser step would, in place
  weights_changed();
  const Tensor after = product(p, A, B, 1.0f, 0.0f, zero);
  unregister_weight(B);
  for (int64_t i = 0; i < before.numel(); ++i) REQUIRE(after[i] == -before[i]);
}

TEST_CASE("precision: products after the thread's cache is dropped equal those before",
          "[tensor][precision][bf16]") {
  if (!can_run_bf16()) {
    WARN("skipped: this CPU has no AVX-512: oneDNN cannot run bf16 here");
    return;
  }
  const Product p{false, true, 1500, 48, 64};  // sliced, through the buffers
  auto [A, B] = operands(p, 6);
  ScopedPrecision bf16(Precision::kBf16);
  const Tensor zero = Tensor::zeros(Shape{p.M, p.N});
  const Tensor before = product(p, A, B, 1.0f, 0.0f, zero);
  release_thread_gemm_cache();
  const Tensor after = product(p, A, B, 1.0f, 0.0f, zero);
  release_thread_gemm_cache();
  release_thread_gemm_cache();  // twice, and with nothing cached: nothing to do
  for (int64_t i = 0; i < before.numel(); ++i) REQUIRE(after[i] == before[i]);
}

// A row of a bf16 or int8 product of a weight comes out bit for bit the same whatever the number
// of rows beside it (on AMX, oneDNN runs a few rows with other kernels than many), for a tiny
// weight as for a model's: what a sentence translating alike alone and in a batch needs first.
// (float32 products do not promise it: Eigen and oneDNN's sgemm treat a single row apart.)
TEST_CASE("precision: a row of a weight's product does not depend on the rows beside it",
          "[tensor][precision][bf16]") {
  if (!can_run_bf16()) {
    WARN("skipped: this CPU has no AVX-512: oneDNN cannot run bf16 here");
    return;
  }
  for (const Product& shape : {Product{false, true, 0, 32, 32}, Product{false, false, 0, 1024, 256},
                               Product{true, true, 0, 300, 70}}) {
    for (Precision prec : {Precision::kBf16, Precision::kInt8}) {
      const Product all{shape.ta, shape.tb, 9, shape.N, shape.K};
      auto [A, B] = operands(all, 21);
      register_weight(B);
      ScopedPrecision scoped(prec);
      const Tensor C0 = random_matrix(all.M, all.N, 23);
      const Tensor batch = product(all, A, B, 1.0f, 0.5f, C0);
      for (int64_t rows : {1, 2, 3}) {
        INFO("precision " << name_of(prec) << " N " << all.N << " K " << all.K << " rows "
                          << rows);
        const Product part{all.ta, all.tb, rows, all.N, all.K};
        // The first `rows` rows of op(A), stored the way A is.
        Tensor Ap = all.ta ? Tensor::uninitialized(Shape{all.K, rows})
                           : Tensor::uninitialized(Shape{rows, all.K});
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t k = 0; k < all.K; ++k)
            (all.ta ? Ap[k * rows + r] : Ap[r * all.K + k]) = op_at(A, all.ta, r, k);
        Tensor C0p = Tensor::uninitialized(Shape{rows, all.N});
        for (int64_t i = 0; i < C0p.numel(); ++i) C0p[i] = C0[i];
        const Tensor got = product(part, Ap, B, 1.0f, 0.5f, C0p);
        int64_t differ = 0;
        for (int64_t i = 0; i < got.numel(); ++i) differ += got[i] != batch[i];
        CHECK(differ == 0);
      }
      if (prec == Precision::kBf16) {  // ... and bf16 did run: float32 would be (nearly) exact
        ScopedPrecision fp32(Precision::kFp32);
        const Tensor exact = product(all, A, B, 1.0f, 0.5f, C0);
        float worst = 0;
        for (int64_t i = 0; i < exact.numel(); ++i)
          worst = std::max(worst, std::fabs(exact[i] - batch[i]));
        CHECK(worst > 1e-4f);
      }
      unregister_weight(B);
    }
  }
}

// A product with a bias (a layer's affine map: oneDNN adds the bias as it writes C) equals the
// same product accumulated onto the bias written into C first, in every precision: a bias lost,
// added twice or added along the wrong axis differs by far more than the rounding of one sum.
// With relu, it is the max(0, .) of that.
TEST_CASE("precision: a product with a bias equals the product accumulated onto the bias",
          "[tensor][precision]") {
  std::vector<Product> shapes = kOddShapes;
  shapes.push_back({false, true, 1100, 96, 64});  // a padded tail of rows (rounded to 64)
  shapes.push_back(kSlicedShapes[0]);
  uint64_t seed = 301;
  for (Precision prec : {Precision::kFp32, Precision::kBf16, Precision::kInt8}) {
    if (prec == Precision::kBf16 && !can_run_bf16()) continue;
    if (prec == Precision::kInt8 && !cpu_features().avx2) continue;
    for (const Product& p : shapes) {
      INFO("precision " << name_of(prec) << " ta " << p.ta << " tb " << p.tb << " M " << p.M
                        << " N " << p.N << " K " << p.K);
      const auto ops = operands(p, seed += 2);
      const Tensor &A = ops.first, &B = ops.second;
      Tensor bias = Tensor::uninitialized(Shape{p.N});
      for (int64_t n = 0; n < p.N; ++n) bias[n] = 50.0f + static_cast<float>(n % 7);
      Tensor onto = Tensor::uninitialized(Shape{p.M, p.N});
      for (int64_t i = 0; i < onto.numel(); ++i) onto[i] = bias[i % p.N];
      register_weight(B);
      Tensor got = Tensor::zeros(Shape{p.M, p.N}), got_relu = got.clone();
      Tensor shift = bias.clone();  // a bias that leaves about half of the outputs negative
      shift.arr() -= 50.0f;
      Tensor onto_shift = onto.clone();
      onto_shift.arr() -= 50.0f;
      {
        ScopedPrecision scoped(prec);
        onto = product(p, A, B, 1.0f, 1.0f, onto);
        onto_shift = product(p, A, B, 1.0f, 1.0f, onto_shift);
        gemm_bias(p.ta, p.tb, p.M, p.N, p.K, A.data(), B.data(), bias.data(), got.data());
        gemm_bias(p.ta, p.tb, p.M, p.N, p.K, A.data(), B.data(), shift.data(), got_relu.data(),
                  /*relu=*/true);
      }
      unregister_weight(B);
      int64_t differ = 0, cut = 0;
      for (int64_t i = 0; i < got.numel(); ++i) {
        differ += std::fabs(got[i] - onto[i]) > 1e-5f * (std::fabs(onto[i]) + 1.0f);
        const float want = std::max(onto_shift[i], 0.0f);
        differ += std::fabs(got_relu[i] - want) > 1e-5f * (std::fabs(want) + 1.0f);
        cut += want == 0.0f;
      }
      CHECK(differ == 0);
      CHECK(cut > 0);
    }
  }
}

// An affine map's two gradient products on one bf16 copy of dY (the first reads it as it is,
// the second transposed, past a padded tail of rows) against the float32 products, and its bias
// gradient summed in the same pass.
TEST_CASE("precision: an affine map's bf16 gradients equal float32 ones within bf16's rounding",
          "[tensor][precision][bf16]") {
  if (!can_run_bf16()) {
    WARN("skipped: this CPU has no AVX-512: oneDNN cannot run bf16 here");
    return;
  }
  uint64_t seed = 501;
  for (const auto& [T, O, I] : {std::tuple<int64_t, int64_t, int64_t>{7, 40, 24},
                                {37, 53, 29}, {1100, 300, 64}, {1024, 17, 96},
                                {3333, 130, 70}}) {
    for (bool weight : {false, true}) {
      for (float beta : {0.0f, 1.0f}) {
        INFO("T " << T << " O " << O << " I " << I << " weight " << weight << " beta " << beta);
        const Tensor dY = random_matrix(T, O, seed += 4), X = random_matrix(T, I, seed + 1),
                     W = random_matrix(O, I, seed + 2);
        const Tensor dX0 = random_matrix(T, I, seed + 3), dW0 = random_matrix(O, I, seed + 5);
        Tensor want_x = dX0.clone(), want_w = dW0.clone(), want_b = random_matrix(1, O, seed);
        matmul(dY, false, W, false, want_x, 1.0f, beta);
        matmul(dY, true, X, false, want_w, 1.0f, beta);
        Tensor got_x = dX0.clone(), got_w = dW0.clone(), got_b = want_b.clone();
        for (int64_t t = 0; t < T; ++t)
          for (int64_t o = 0; o < O; ++o) want_b[o] += dY[t * O + o];
        if (weight) register_weight(W);
        {
          ScopedPrecision bf16(Precision::kBf16);
          affine_backward(dY, X, W, got_x, beta, got_w, beta, &got_b);
        }
        if (weight) unregister_weight(W);
        const Outside ox = compare_within(got_x, want_x, T, I, [&](int64_t t, int64_t i) {
          double bound = 0;
          for (int64_t o = 0; o < O; ++o) bound += std::fabs(dY[t * O + o] * W[o * I + i]);
          return bound * std::ldexp(1.0, -7) + 1e-5;
        });
        const Outside ow = compare_within(got_w, want_w, O, I, [&](int64_t o, int64_t i) {
          double bound = 0;
          for (int64_t t = 0; t < T; ++t) bound += std::fabs(dY[t * O + o] * X[t * I + i]);
          return bound * std::ldexp(1.0, -7) + 1e-5;
        });
        const double worst_x = ox.worst, worst_w = ow.worst;
        INFO("worst error / bound: dX " << worst_x << ", dW " << worst_w);
        CHECK(ox.count == 0);
        CHECK(ow.count == 0);
        CHECK(worst_x > 1e-3);  // bf16 did run
        CHECK(worst_w > 1e-3);
        // The bias gradient is summed in float32 from dY, row after row: exactly.
        for (int64_t o = 0; o < O; ++o) CHECK(got_b[o] == want_b[o]);
      }
    }
  }
}

TEST_CASE("precision: int8 products of a weight equal float32 ones within the quantisation "
          "error",
          "[tensor][precision][int8]") {
  const CpuFeatures cpu = cpu_features();
  if (!cpu.avx2) {
    WARN("skipped: this CPU has no AVX2: no int8 products here");
    return;
  }
  const double levels = int8_weight_levels(cpu);
  uint64_t seed = 101;
  for (const Product& p : kOddShapes) {
    INFO("ta " << p.ta << " tb " << p.tb << " M " << p.M << " N " << p.N << " K " << p.K);
    const auto ops = operands(p, seed += 2);
    const Tensor &A = ops.first, &B = ops.second;
    const Tensor C0 = random_matrix(p.M, p.N, seed + 3);
    const Tensor want = product(p, A, B, 1.0f, 1.0f, C0);
    register_weight(B);
    Tensor got;
    {
      ScopedPrecision int8(Precision::kInt8);
      got = product(p, A, B, 1.0f, 1.0f, C0);
    }
    unregister_weight(B);
    // Per-row scales sa (of op(A)) and per-column sb (of op(B)): every value is within half a
    // step of its quantised one, so a product's error is bounded by the sum below.
    std::vector<double> sa(p.M, 0), sb(p.N, 0);
    for (int64_t m = 0; m < p.M; ++m)
      for (int64_t k = 0; k < p.K; ++k)
        sa[m] = std::max<double>(sa[m], std::fabs(op_at(A, p.ta, m, k)) / 127);
    for (int64_t n = 0; n < p.N; ++n)
      for (int64_t k = 0; k < p.K; ++k)
        sb[n] = std::max<double>(sb[n], std::fabs(op_at(B, p.tb, k, n)) / levels);
    const Outside o = compare_within(got, want, p.M, p.N, [&](int64_t m, int64_t n) {
      double bound = 0;
      for (int64_t k = 0; k < p.K; ++k)
        bound += std::fabs(op_at(A, p.ta, m, k)) * sb[n] / 2 +
                 std::fabs(op_at(B, p.tb, k, n)) * sa[m] / 2 + sa[m] * sb[n] / 4;
      return bound * 1.01 + 1e-4;
    });
    const double worst = o.worst;
    INFO("worst error / bound " << worst);
    CHECK(o.count == 0);
    CHECK(worst > 1e-3);  // int8 did run
  }
}

// The worst case of a dot product that adds pairs of u8 x s8 products in int16 (vpmaddubsw,
// without VNNI): every activation at its row's largest magnitude (u8 255 or 1 after the +128
// shift) against weights all at their column's. Saturated pairs would lose half of the sum.
TEST_CASE("precision: int8 products of extreme values do not saturate",
          "[tensor][precision][int8]") {
  if (!cpu_features().avx2) {
    WARN("skipped: this CPU has no AVX2: no int8 products here");
    return;
  }
  const Product p{false, true, 8, 16, 512};  // a decoder's rows against a d_model 512 layer
  Tensor A = Tensor::uninitialized(Shape{p.M, p.K}), B = Tensor::uninitialized(Shape{p.N, p.K});
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t k = 0; k < p.K; ++k) A[m * p.K + k] = (m % 2 ? -1.0f : 1.0f) * (1 + m);
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t k = 0; k < p.K; ++k) B[n * p.K + k] = (n % 2 ? -0.5f : 0.5f) * (1 + n);
  register_weight(B);
  Tensor got;
  {
    ScopedPrecision int8(Precision::kInt8);
    got = product(p, A, B, 1.0f, 0.0f, Tensor::zeros(Shape{p.M, p.N}));
  }
  unregister_weight(B);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      const double want = p.K * double(A[m * p.K]) * B[n * p.K];
      INFO("m " << m << " n " << n);
      CHECK(got[m * p.N + n] == Approx(want).epsilon(1e-5));
    }
}

TEST_CASE("precision: int8 leaves products of two activations in float32",
          "[tensor][precision][int8]") {
  const Product p{false, true, 40, 40, 64};  // as attention's scores: no weight involved
  auto [A, B] = operands(p, 9);
  const Tensor zero = Tensor::zeros(Shape{p.M, p.N});
  const Tensor want = product(p, A, B, 1.0f, 0.0f, zero);
  ScopedPrecision int8(Precision::kInt8);
  const Tensor got = product(p, A, B, 1.0f, 0.0f, zero);
  for (int64_t i = 0; i < want.numel(); ++i) REQUIRE(got[i] == want[i]);
}

}  // namespace attnmt

// ---- training in bf16 against training in float32

namespace attnmt {
namespace {
// The last "valid step N: ce X" of a training log, or -1.
double last_valid_ce(const std::string& log) {
  double ce = -1;
  for (const std::string& line : testing::split_lines(log)) {
    const auto at = line.find(": ce ");
    if (line.rfind("valid step ", 0) == 0 || line.find("] valid step ") != std::string::npos)
      if (at != std::string::npos) ce = std::stod(line.substr(at + 5));
  }
  return ce;
}
}  // namespace

TEST_CASE("precision: bf16 training reaches float32 training's dev cross-entropy",
          "[e2e][train][precision][bf16]") {
  if (!cpu_features().avx512_core) {
    WARN("skipped: this CPU has no AVX-512: oneDNN cannot run bf16 here");
    return;
  }
  using namespace attnmt::testing;
  TempDir dir("bf16-parity");
  const std::string d = dir.path().string();
  write_tiny_corpus(d, 250);  // 200 training pairs, 50 unseen dev pairs
  for (const char* lang : {"en", "es"}) {
    const std::vector<std::string> lines = split_lines(read_text(d + "/train." + lang));
    std::string train, dev;
    for (size_t i = 0; i < lines.size(); ++i) (i < 200 ? train : dev) += lines[i] + "\n";
    write_text(d + "/tr." + std::string(lang), train);
    write_text(d + "/dev." + std::string(lang), dev);
  }
  for (const Architecture& arch : architectures()) {
    // The tiny recipe stopped at 30 steps, while the dev cross-entropy is still far from 0 and
    // from log V and the runs have not yet turned chaotic (measured, fp32 / bf16: lstm 1.305 /
    // 1.302, transformer 2.108 / 2.107; at 60 steps the LSTM's runs of two seeds differ by 4%).
    std::string recipe(arch.tiny_recipe);
    recipe = recipe.substr(0, recipe.find("--max-steps")) +
             as_options(arch.examples(40).front().config);
    std::map<std::string, double> ce;
    for (const char* precision : {"fp32", "bf16"}) {
      const std::string model = d + "/" + std::string(arch.name) + "-" + precision + ".attnmt";
      auto t = run_attnmt("train --src " + d + "/tr.en --tgt " + d + "/tr.es --valid-src " + d +
                          "/dev.en --valid-tgt " + d + "/dev.es --valid-bleu-sentences 0 -o " +
                          model + " --vocab-size 40 --threads 1 --seed 7 --max-steps 30 " +
                          "--valid-every 30 --save-every 0 --log " + model + ".log --precision " +
                          precision + " -q " + recipe);
      INFO(arch.name << " " << precision << ": " << t.err);
      REQUIRE(t.exit_code == 0);
      ce[precision] = last_valid_ce(read_text(model + ".log"));
      REQUIRE(ce[precision] > 0);
    }
    INFO(arch.name << ": dev ce fp32 " << ce["fp32"] << ", bf16 " << ce["bf16"]);
    CHECK(ce["fp32"] < 0.8 * std::log(40.0));                     // it learned something
    CHECK(std::fabs(ce["bf16"] - ce["fp32"]) < 0.03 * ce["fp32"]);  // ... and bf16 as much
    CHECK(ce["bf16"] != ce["fp32"]);                                // bf16 did run
  }
}

}  // namespace attnmt

// The slices a large bf16 product runs in (tensor/gemm_shapes.h): every row once, in order, in a
// few fixed heights whatever the row count, padding only in a last slice of 64 rows; smaller
// products in equal slices of their own height.
TEST_CASE("precision: large products run in slices of a few fixed heights", "[tensor][precision]") {
  using namespace dnnl_backend;
  for (int64_t most : {int64_t(512), int64_t(16384)}) {
    std::set<int64_t> heights;
    for (int64_t M = kShapeMinRows; M < 9000; M += 37) {
      INFO("M " << M << " most " << most);
      const std::vector<Slice> parts = slices(M, row_step(M, 16), most);
      int64_t next = 0;
      for (size_t i = 0; i < parts.size(); ++i) {
        const Slice& s = parts[i];
        CHECK(s.m0 == next);
        next += s.rows;
        const bool last = i + 1 == parts.size();
        CHECK((s.rows == s.height || (last && s.rows < s.height && s.height == kShapeStep)));
        CHECK(s.height <= most);
        const int64_t times = s.height / kShapeStep;  // a power of two
        CHECK((s.height % kShapeStep == 0 && (times & (times - 1)) == 0));
        if (i > 0) CHECK(s.height <= parts[i - 1].height);
        heights.insert(s.height);
      }
      CHECK(next == M);
      CHECK(padded_rows(parts) == (M + kShapeStep - 1) / kShapeStep * kShapeStep);
    }
    // 64 times the powers of two up to `most`: 4 heights for 512, 9 for 16384.
    CHECK(heights.size() <= (most == 512 ? 4u : 9u));
  }
  // Smaller products: a few rows padded to the minimum; otherwise equal slices, no padding.
  const std::vector<Slice> few = slices(5, row_step(5, 16), 4096);
  REQUIRE(few.size() == 1);
  CHECK((few[0].m0 == 0 && few[0].rows == 5 && few[0].height == 16));
  const std::vector<Slice> equal = slices(300, row_step(300, 16), 128);
  REQUIRE(equal.size() == 3);
  for (const Slice& s : equal) CHECK((s.rows == 100 && s.height == 100));
  CHECK(padded_rows(equal) == 300);
}
