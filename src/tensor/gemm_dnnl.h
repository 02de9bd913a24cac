// The oneDNN backend of the GEMM seam (gemm.h), for gemm.cpp only: bf16 and int8 products.
// Not here: the choice of backend (gemm.cpp) and the precision setting (precision.h).
#pragma once

#include <cstdint>

#include "tensor/precision.h"
#include "tensor/tensor.h"

namespace attnmt::dnnl_backend {

// C[M,N] = alpha op(A) op(B) + beta C in `p` (bf16 or int8), as gemm() in gemm.h, plus bias[N] on
// every row when there is one, then max(0, C) with relu (with either, alpha must be 1 and beta
// 0). Returns false, touching nothing, when the product is better left to float32: int8 needs B
// to be a registered weight; both need a product large enough to pay for the conversion.
bool gemm(Precision p, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, const float* B, float beta, float* C, const float* bias = nullptr,
          bool relu = false);

// In bf16, dX [T,I] = dY W + beta_x dX and dW [O,I] = dY^T X + beta_w dW for dY [T,O], X [T,I]
// and W [O,I], on one converted copy of dY, and db [O] += the sum of dY's rows when db is not
// null. Returns false, touching nothing, when the products are too small for bf16.
bool affine_backward(int64_t T, int64_t O, int64_t I, const float* dY, const float* X,
                     const float* W, float* dX, float beta_x, float* dW, float beta_w, float* db);

// C[M,N] = alpha op(A) op(B) + beta C in float32 by oneDNN's sgemm (row-major, on the OpenMP
// threads; its own packing per call, nothing kept between calls).
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, const float* B, float beta, float* C);

void register_weight(const Tensor& w);
void unregister_weight(const Tensor& w);
void weights_changed();
// The calling thread's primitives and buffers dropped (gemm.h, release_thread_gemm_cache).
void release_thread_cache();

}  // namespace attnmt::dnnl_backend
