// The one matrix-product interface of attnmt. Every GEMM of the project goes through here, so
// that the backend can change without touching layers. Two backends sit behind it:
//   Eigen (float32), and oneDNN (float32 where fp32_gemm() says so; bf16 or int8 inputs with
//   float32 accumulation and outputs),
// chosen per product by the process-wide precision (tensor/precision.h) and the product's size:
// products too small to gain from a conversion, and products inside a parallel region, stay
// float32. Layers never see oneDNN types.
// Row-major throughout: C[M,N] = alpha * op(A) * op(B) + beta * C, op = identity or transpose.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace attnmt {

// A is [M,K] (or [K,M] when trans_a), B is [K,N] (or [N,K] when trans_b), C is [M,N].
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, const float* B, float beta, float* C);

// C[M,N] = op(A) op(B) + bias[N] on every row: a layer's affine map. oneDNN adds the bias as it
// writes C; float32 writes the bias into C first and accumulates the product onto it (a pass over
// C more, which cost 3.6% of a bf16 Transformer training step in the output layer's logits).
// With relu, C = max(0, op(A) op(B) + bias): the activation as oneDNN writes C too (float32
// takes a pass over C more). bias may be null with relu.
void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
               const float* B, const float* bias, float* C, bool relu = false);

// Which library runs the large float32 products of gemm() (at least 2^21 multiply-adds,
// outside parallel regions; the rest is Eigen's). Eigen, or oneDNN's sgemm, the default: it was
// the faster on AVX2 (session 19, AMD Zen 3: training 1.27x, beam-5 decoding 1.46x) and on
// AVX-512 (session 21, AMD Zen 5: training 1.31x, decoding 1.15-1.30x, for 5-20% more memory;
// docs/BENCHMARKS.md). The environment variable ATTNMT_FP32_GEMM=eigen|onednn overrides it.
enum class Fp32Gemm { kEigen, kOneDnn };
Fp32Gemm fp32_gemm();
void set_fp32_gemm(Fp32Gemm g);  // process-wide, for tests

// A small product on the calling thread, in float32 (Eigen): one of the many of a loop over
// sentences and heads (attention), whether or not that loop runs on several threads. gemm()
// would hand each to oneDNN when the loop happens to run on one thread (--threads 1), paying a
// conversion and a call per product: 2.3x slower bf16 training measured on 1 thread.
void gemm_local(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, const float* B, float beta, float* C);

// Tensor form on the 2-D views ([outer, last]) of a, b, c.
void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            float alpha = 1.0f, float beta = 0.0f);

// c = op(a) op(b) + bias (a [N] vector added to every row; none if empty), then max(0, c) with
// relu, as gemm_bias.
void matmul_bias(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& bias,
                 Tensor& c, bool relu = false);

// The gradients of an affine map (Y = X W^T + b, Y and X seen as 2-D): dX = dY W + beta_x dX,
// dW = dY^T X + beta_w dW, and db += the sum of dY's rows when db is not null. All read dY, and
// in bf16 it is read once for all: converted once for both products, not once each (it can be
// the largest operand: the logits' gradient), with db summed in that pass.
void affine_backward(const Tensor& dY, const Tensor& X, const Tensor& W, Tensor& dX, float beta_x,
                     Tensor& dW, float beta_w, Tensor* db = nullptr);

// Batched: a [G, M, K], b [G, K, N] (either transposed in its last two axes), c [G, M, N].
// Small matrices are spread over the threads one batch item each.
void batched_matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                    float alpha = 1.0f, float beta = 0.0f);

// Weights: a tensor registered here is a constant operand. In bf16 it is converted once (and
// packed into oneDNN's preferred layout), in int8 quantised once per output row; every product
// that reads it reuses that copy until weights_changed() says its values moved. Registration
// keeps the storage alive, so a registered address is never reused by another tensor.
// ParameterStore registers every parameter; Adam::step and anything else that writes parameter
// values in place must call weights_changed() (a missed call gives products of stale weights).
void register_weight(const Tensor& w);
void unregister_weight(const Tensor& w);
void weights_changed();

// Drops the calling thread's cached product primitives and conversion buffers (they are made
// again when next needed): for a thread going idle (attnmt serve), whose cache of primitives
// for past batch shapes would otherwise grow to its bound.
void release_thread_gemm_cache();

// `w` registered as a weight for this object's lifetime: a tensor made from parameters that
// many products reuse (the fused projection weights a decoder state keeps for its steps).
class ScopedWeight {
 public:
  explicit ScopedWeight(Tensor w) : w_(std::move(w)) { register_weight(w_); }
  ~ScopedWeight() { unregister_weight(w_); }
  ScopedWeight(ScopedWeight&& o) noexcept : w_(o.w_) { o.w_ = Tensor(); }
  ScopedWeight& operator=(ScopedWeight&&) = delete;
  ScopedWeight(const ScopedWeight&) = delete;
  ScopedWeight& operator=(const ScopedWeight&) = delete;

 private:
  Tensor w_;
};

}  // namespace attnmt
