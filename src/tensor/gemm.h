// The one matrix-product interface of attnmt. Every GEMM of the project goes through here, so
// that the backend (Eigen's threaded GEMM today) can change without touching layers.
// Row-major throughout: C[M,N] = alpha * op(A) * op(B) + beta * C, op = identity or transpose.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace attnmt {

// A is [M,K] (or [K,M] when trans_a), B is [K,N] (or [N,K] when trans_b), C is [M,N].
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, const float* B, float beta, float* C);

// Tensor form on the 2-D views ([outer, last]) of a, b, c.
void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            float alpha = 1.0f, float beta = 0.0f);

// Batched: a [G, M, K], b [G, K, N] (either transposed in its last two axes), c [G, M, N].
// Small matrices are spread over the threads one batch item each.
void batched_matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                    float alpha = 1.0f, float beta = 0.0f);

}  // namespace attnmt
