// The roundings of the low-precision products (gemm_dnnl.cpp).
//
// bf16: round to nearest even, the top half of a float32's bits.
//
// int8: symmetric quantisation of one row, the one rule that the int8 products (gemm_dnnl.cpp)
// and the int8 model file (io/model_file.cpp) share, so that a stored row quantises back to the
// same integers: scale = max |x| / levels, q = round-to-nearest-even(x / scale), levels 127
// unless narrowed (gemm_dnnl.cpp: 63 where the CPU's int8 dot product saturates).
#pragma once

#include <cstdint>

namespace attnmt {

// q[i] = round(x[i] / scale) for i < n, |q[i]| <= levels (1..127); returns scale (0 for an
// all-zero row, q all 0).
float quantise_int8(const float* x, int64_t n, int8_t* q, int levels = 127);

// dst [R,ldd] bf16 row-major = the float32 [R,C] whose rows are lda apart at A, each row's
// columns [C, ldd) zero; on the threads.
void convert_bf16(const float* A, int64_t R, int64_t C, int64_t lda, uint16_t* dst, int64_t ldd);

// dst [R,C] = the bf16 of A [R,C] (both dense), and sums[C] += the sum of A's rows (in row order,
// as kernels::sum_rows), in one pass over A; on the threads.
void convert_bf16_sum_rows(const float* A, int64_t R, int64_t C, uint16_t* dst, float* sums);

// dst [M,K] u8 row-major = round(op(A)[m,:] / scale[m]) + 128, op(A) = A [M,K] or, with trans,
// the transpose of A stored [K,M]: quantise_int8 per row, shifted for the u8 x s8 products.
void quantise_rows_u8(const float* A, bool trans, int64_t M, int64_t K, uint8_t* dst,
                      float* scale);

}  // namespace attnmt
