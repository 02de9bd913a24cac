// Kernels: the non-GEMM math on raw row-major buffers, shared by the autograd ops and by
// inference code. Row-wise kernels take [rows, cols] buffers; a `mask` (nullable) has the same
// layout as the input with 1 = keep, 0 = masked out. Heavy loops use OpenMP over rows.
// Not here: matrix products (gemm.h) and anything that knows about gradients' bookkeeping.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace attnmt::kernels {

// Runs fn(begin, end) over [0, n) split across the threads when n * cost is large. Small work
// stays serial: a parallel region's barrier costs microseconds, and far more when the cores
// are shared with other processes.
inline constexpr int64_t kParallelMinWork = int64_t(1) << 18;
template <typename F>
void parallel_for(int64_t n, int64_t cost_per_item, F&& fn) {
  if (n * cost_per_item < kParallelMinWork || omp_get_max_threads() == 1) {
    fn(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    int nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (n + nt - 1) / nt, b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  }
}

// Element-wise loops over [0, n) in parallel chunks (SIMD-friendly, multiples of 16).
template <typename F>
void parallel_elementwise(int64_t n, F&& fn) {
  const int64_t blocks = (n + 15) / 16;
  parallel_for(blocks, 32, [&](int64_t b0, int64_t b1) { fn(b0 * 16, std::min(n, b1 * 16)); });
}
// dst = src when `assign` (a gradient's first write, see Node::grad_for_write), else dst += src.
template <typename Dst, typename Src>
void assign_or_add(Dst&& dst, const Src& src, bool assign) {
  if (assign) dst = src;
  else dst += src;
}
// dst = src; dst += src.
void copy(const float* src, float* dst, int64_t n);
void add_into(const float* src, float* dst, int64_t n);

// y = softmax(x) per row over cols; masked entries get probability 0. A fully masked row
// becomes all zeros (not NaN).
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, const float* mask);
// dx = y * (dy - sum(dy * y)) per row (accumulated into dx).
void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
// y = log_softmax(x) per row; masked entries get -inf... represented as -1e30f to stay finite.
void log_softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, const float* mask);
// dx += dy - exp(y) * sum(dy) per row; masked entries (y <= -1e29) receive nothing.
void log_softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows,
                               int64_t cols);

// Layer norm per row: y = (x - mean) * rstd * gamma + beta. mean/rstd: [rows] (saved for backward).
void layer_norm_rows(const float* x, const float* gamma, const float* beta, float* y,
                     float* mean, float* rstd, int64_t rows, int64_t cols, float eps);
// Accumulates dx, dgamma, dbeta (any may be null).
void layer_norm_rows_backward(const float* x, const float* gamma, const float* mean,
                              const float* rstd, const float* dy, float* dx, float* dgamma,
                              float* dbeta, int64_t rows, int64_t cols);

// GELU, tanh approximation (as GPT-2 / BERT).
void gelu(const float* x, float* y, int64_t n);
void gelu_backward(const float* x, const float* dy, float* dx, int64_t n);  // accumulates

// Embedding rows: out[i] = table[ids[i]]; backward scatter-adds rows into d_table.
void gather_rows(const float* table, int64_t n_rows_table, int64_t cols, const int* ids,
                 int64_t n, float* out);
void scatter_add_rows(float* d_table, int64_t cols, const int* ids, int64_t n, const float* d_out);

// Concatenation / slicing along one axis of a tensor viewed as [outer, axis, inner].
// copy_strided copies (or, with `accumulate`, adds) `len` floats per outer index, from rows
// `src_stride` apart to rows `dst_stride` apart.
void copy_strided(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                  int64_t outer, int64_t len, bool accumulate);

// out = x with axes a and b swapped (rank <= 4, contiguous in and out).
void transpose_axes(const Tensor& x, int a, int b, Tensor& out, bool accumulate = false);
Shape swapped_shape(const Shape& s, int a, int b);

// Bias: y[r, :] += b; db += sum over rows of dy.
void add_bias_rows(float* y, const float* b, int64_t rows, int64_t cols);
void sum_rows(const float* dy, float* db, int64_t rows, int64_t cols);  // accumulates

// Dropout keep-mask scaled by 1/(1-p): entries are 0 or 1/(1-p). Entry i hashes (one draw from
// rng, i), so the mask depends on the seed only (not on the thread count) and fills in parallel.
void dropout_mask(float* mask, int64_t n, float p, Rng& rng);

// LSTM cell, pointwise part. gates [B, 4H] (pre-activations, order i, f, g, o) and c_prev [B, H]
// give c, h [B, H]; `act` [B, 4H] stores the activated gates for backward.
void lstm_cell_forward(const float* gates, const float* c_prev, float* act, float* c, float* h,
                       int64_t B, int64_t H);
// From dh, dc (into this step) to d_gates [B, 4H] (overwritten) and dc_prev (overwritten).
void lstm_cell_backward(const float* act, const float* c_prev, const float* c, const float* dh,
                        const float* dc, float* d_gates, float* dc_prev, int64_t B, int64_t H);

}  // namespace attnmt::kernels
