// The GEMM seam: the Eigen (float32) backend, and the choice between it and oneDNN's
// (gemm_dnnl.h) per product: low precision, and large float32 products where fp32_gemm() says.
// Eigen's large products are cut into one block of C per thread, each run by single-threaded
// Eigen (set_threads keeps Eigen's own threads at 1); batched products of small matrices are
// parallelised over the batch instead.
#include "tensor/gemm.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <tuple>

#include "tensor/error.h"
#include "tensor/gemm_dnnl.h"
#include "tensor/kernels.h"
#include "tensor/precision.h"

namespace attnmt {

namespace {
// Eigen splits any product above ~1e5 flops over its threads; below this size the split costs
// more than it saves (and far more on a shared machine), so small products run on one thread.
constexpr int64_t kGemmParallelMinMacs = int64_t(1) << 21;

// C[M,N] = (or +=, when accumulate) alpha op(A) op(B) on one thread, for the rows [r0, r1)
// and columns [c0, c1) of C.
void gemm_block(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, const float* B, bool accumulate, float* C, int64_t r0,
                int64_t r1, int64_t c0, int64_t c1) {
  // Row-major [R, C] data read as its transpose is a column-major [C, R] map: no copy.
  using ColMap = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>>;
  auto c = MatrixMap(C, M, N).block(r0, c0, r1 - r0, c1 - c0);
  auto run = [&](const auto& a, const auto& b) {
    if (accumulate) c.noalias() += alpha * a.middleRows(r0, r1 - r0) * b.middleCols(c0, c1 - c0);
    else c.noalias() = alpha * a.middleRows(r0, r1 - r0) * b.middleCols(c0, c1 - c0);
  };
  if (!trans_a && !trans_b) run(ConstMatrixMap(A, M, K), ConstMatrixMap(B, K, N));
  else if (trans_a && !trans_b) run(ColMap(A, M, K), ConstMatrixMap(B, K, N));
  else if (!trans_a && trans_b) run(ConstMatrixMap(A, M, K), ColMap(B, K, N));
  else run(ColMap(A, M, K), ColMap(B, K, N));
}

// A product with nothing to multiply (M, N or K is 0) only scales C: C = beta C. Returns true
// when that was all.
bool empty_product(int64_t M, int64_t N, int64_t K, float beta, float* C) {
  if (M != 0 && N != 0 && K != 0) return false;
  MatrixMap c(C, M, N);
  if (beta == 0.0f) c.setZero();
  else if (beta != 1.0f) c *= beta;
  return true;
}

// Before gemm_block: beta = 0 is an assignment inside each block (its zeroing runs in parallel,
// in cache, instead of one serial pass over C first); other betas scale C, then accumulate.
// Returns whether to accumulate.
bool prepare_accumulation(int64_t M, int64_t N, float beta, float* C) {
  if (beta != 0.0f && beta != 1.0f) MatrixMap(C, M, N) *= beta;
  return beta != 0.0f;
}

// M, N, K of c = op(a) op(b) on the 2-D views ([outer, last]) of a, b, c, checked.
std::tuple<int64_t, int64_t, int64_t> matmul_sizes(const Tensor& a, bool trans_a, const Tensor& b,
                                                   bool trans_b, const Tensor& c) {
  const int64_t ar = a.shape().outer(), ac = a.shape().last();
  const int64_t br = b.shape().outer(), bc = b.shape().last();
  const int64_t M = trans_a ? ac : ar, K = trans_a ? ar : ac;
  const int64_t KB = trans_b ? bc : br, N = trans_b ? br : bc;
  ATTNMT_CHECK(K == KB, "matmul: inner sizes differ, {} vs {}", a.shape().str(), b.shape().str());
  ATTNMT_CHECK(c.shape().outer() == M && c.shape().last() == N,
               "matmul: output {} is not [{}, {}]", c.shape().str(), M, N);
  return {M, N, K};
}

Fp32Gemm default_fp32_gemm() {
  if (const char* v = std::getenv("ATTNMT_FP32_GEMM")) {
    const std::string s(v);
    if (s == "eigen") return Fp32Gemm::kEigen;
    if (s == "onednn") return Fp32Gemm::kOneDnn;
    fail("ATTNMT_FP32_GEMM={}: use eigen or onednn (or unset it)", s);
  }
  return Fp32Gemm::kOneDnn;
}

std::atomic<int> g_fp32_gemm{-1};  // -1: not chosen yet

// oneDNN's sgemm (2.6, AVX2) runs a product with A transposed (the weight gradients dW = dY^T X)
// at 55-70% of its usual speed when a row stride of A or B is a multiple of 1024 floats (4 KiB:
// its packing loads fall into the same cache sets); Eigen does not suffer from it and runs those
// 1.2-1.5x faster (the FFN's two weight gradients: docs/BENCHMARKS.md, "Session 20").
bool sgemm_aliases(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
  const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
  return trans_a && (lda % 1024 == 0 || ldb % 1024 == 0);
}
}  // namespace

Fp32Gemm fp32_gemm() {
  int g = g_fp32_gemm.load();
  if (g < 0) g_fp32_gemm.store(g = static_cast<int>(default_fp32_gemm()));
  return static_cast<Fp32Gemm>(g);
}

void set_fp32_gemm(Fp32Gemm g) { g_fp32_gemm.store(static_cast<int>(g)); }

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, const float* B, float beta, float* C) {
  if (empty_product(M, N, K, beta, C)) return;
  // Low precision outside parallel regions (products inside one are small, one per thread).
  const Precision p = precision();
  if (p != Precision::kFp32 && !omp_in_parallel() &&
      dnnl_backend::gemm(p, trans_a, trans_b, M, N, K, alpha, A, B, beta, C))
    return;
  const bool large = !omp_in_parallel() && M * N * K >= kGemmParallelMinMacs;
  if (large && fp32_gemm() == Fp32Gemm::kOneDnn && !sgemm_aliases(trans_a, trans_b, M, N, K)) {
    dnnl_backend::sgemm(trans_a, trans_b, M, N, K, alpha, A, B, beta, C);
    return;
  }
  const bool accumulate = prepare_accumulation(M, N, beta, C);
  // Large products are cut into one block of C per thread, each computed by single-threaded
  // Eigen. Eigen's own threading synchronises its threads with busy-waits inside every product,
  // which measured a third of training time on a shared 2-core machine.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || M * N * K < kGemmParallelMinMacs) {
    gemm_block(trans_a, trans_b, M, N, K, alpha, A, B, accumulate, C, 0, M, 0, N);
    return;
  }
  const bool by_rows = M >= N;  // cut the longer side of C
  const int64_t len = by_rows ? M : N;
  // Blocks on multiples of 16 (the SIMD width) so that no thread gets ragged edges.
  const int64_t chunk = ((len + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int t = 0; t < threads; ++t) {
    int64_t b = std::min<int64_t>(len, t * chunk), e = std::min<int64_t>(len, b + chunk);
    if (b >= e) continue;
    if (by_rows) gemm_block(trans_a, trans_b, M, N, K, alpha, A, B, accumulate, C, b, e, 0, N);
    else gemm_block(trans_a, trans_b, M, N, K, alpha, A, B, accumulate, C, 0, M, b, e);
  }
}

void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
               const float* B, const float* bias, float* C, bool relu) {
  const Precision p = precision();
  if (M == 0 || N == 0) return;
  if (p != Precision::kFp32 && K != 0 && !omp_in_parallel() &&
      dnnl_backend::gemm(p, trans_a, trans_b, M, N, K, 1.0f, A, B, 0.0f, C, bias, relu))
    return;
  if (bias) {
    kernels::parallel_for(M, N, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) std::copy(bias, bias + N, C + r * N);
    });
  }
  gemm(trans_a, trans_b, M, N, K, 1.0f, A, B, bias ? 1.0f : 0.0f, C);
  if (relu) {
    kernels::parallel_elementwise(M * N, [&](int64_t b, int64_t e) {
      ArrayMap(C + b, e - b) = ArrayMap(C + b, e - b).max(0.0f);
    });
  }
}

void gemm_local(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, const float* B, float beta, float* C) {
  if (empty_product(M, N, K, beta, C)) return;
  const bool accumulate = prepare_accumulation(M, N, beta, C);
  gemm_block(trans_a, trans_b, M, N, K, alpha, A, B, accumulate, C, 0, M, 0, N);
}

void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha,
            float beta) {
  const auto [M, N, K] = matmul_sizes(a, trans_a, b, trans_b, c);
  gemm(trans_a, trans_b, M, N, K, alpha, a.data(), b.data(), beta, c.data());
}

void matmul_bias(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& bias,
                 Tensor& c, bool relu) {
  const auto [M, N, K] = matmul_sizes(a, trans_a, b, trans_b, c);
  ATTNMT_CHECK(bias.empty() || bias.numel() == N, "matmul: bias {} for {} outputs",
               bias.shape().str(), N);
  gemm_bias(trans_a, trans_b, M, N, K, a.data(), b.data(), bias.empty() ? nullptr : bias.data(),
            c.data(), relu);
}

void affine_backward(const Tensor& dY, const Tensor& X, const Tensor& W, Tensor& dX, float beta_x,
                     Tensor& dW, float beta_w, Tensor* db) {
  const int64_t T = dY.shape().outer(), O = dY.shape().last(), I = X.shape().last();
  ATTNMT_CHECK(X.shape().outer() == T && W.shape().outer() == O && W.shape().last() == I &&
                   dX.shape().outer() == T && dX.shape().last() == I && dW.shape().outer() == O &&
                   dW.shape().last() == I,
               "affine_backward: shapes dY {}, X {}, W {}, dX {}, dW {} do not fit",
               dY.shape().str(), X.shape().str(), W.shape().str(), dX.shape().str(),
               dW.shape().str());
  ATTNMT_CHECK(!db || db->numel() == O, "affine_backward: a bias gradient {} for {} outputs",
               db ? db->shape().str() : "", O);
  float* db_data = db ? db->data() : nullptr;
  if (precision() == Precision::kBf16 && !omp_in_parallel() &&
      dnnl_backend::affine_backward(T, O, I, dY.data(), X.data(), W.data(), dX.data(), beta_x,
                                    dW.data(), beta_w, db_data))
    return;
  matmul(dY, false, W, false, dX, 1.0f, beta_x);
  matmul(dY, true, X, false, dW, 1.0f, beta_w);
  if (db) kernels::sum_rows(dY.data(), db_data, T, O);
}

void batched_matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                    float alpha, float beta) {
  ATTNMT_CHECK(a.rank() == 3 && b.rank() == 3 && c.rank() == 3,
               "batched_matmul needs 3-D tensors, got {} {} {}", a.shape().str(),
               b.shape().str(), c.shape().str());
  int64_t G = a.dim(0);
  int64_t M = trans_a ? a.dim(2) : a.dim(1), K = trans_a ? a.dim(1) : a.dim(2);
  int64_t KB = trans_b ? b.dim(2) : b.dim(1), N = trans_b ? b.dim(1) : b.dim(2);
  ATTNMT_CHECK(b.dim(0) == G && c.dim(0) == G && K == KB && c.dim(1) == M && c.dim(2) == N,
               "batched_matmul: shapes {} x {} -> {} do not fit", a.shape().str(),
               b.shape().str(), c.shape().str());
  const float* A = a.data();
  const float* B = b.data();
  float* C = c.data();
  int64_t sa = a.numel() / std::max<int64_t>(G, 1), sb = b.numel() / std::max<int64_t>(G, 1),
          sc = c.numel() / std::max<int64_t>(G, 1);
  // Inside this parallel loop Eigen sees a nested region and stays single-threaded.
  const bool spread = G > 1 && G * M * N * K >= (int64_t(1) << 18) && M * N * K < (1 << 22);
#pragma omp parallel for schedule(static) if (spread)
  for (int64_t g = 0; g < G; ++g) {
    if (spread)
      gemm_local(trans_a, trans_b, M, N, K, alpha, A + g * sa, B + g * sb, beta, C + g * sc);
    else
      gemm(trans_a, trans_b, M, N, K, alpha, A + g * sa, B + g * sb, beta, C + g * sc);
  }
}

void register_weight(const Tensor& w) { dnnl_backend::register_weight(w); }
void unregister_weight(const Tensor& w) { dnnl_backend::unregister_weight(w); }
void weights_changed() { dnnl_backend::weights_changed(); }
void release_thread_gemm_cache() { dnnl_backend::release_thread_cache(); }

}  // namespace attnmt
