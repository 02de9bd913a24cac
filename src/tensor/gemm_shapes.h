// The shapes the oneDNN backend (gemm_dnnl.cpp) runs a bf16 product as: its rows padded, and a
// large product cut into slices of a few fixed heights.
//
// The rows of a bf16 product are padded with zeros (A's converted copy; C through a buffer) to a
// multiple of a step (row_step), in two cases:
// - oneDNN picks its kernels by the size of the product, and kernels sum in different orders: on
//   AMX a product of a few rows runs on AVX512-BF16's instructions, not the tiles, and where bf16
//   is emulated one row runs apart, so a row would come out otherwise alone than in a batch. A
//   product of fewer than min_rows rows runs as min_rows (on AMX 16, the tiles' height: the same
//   work).
// - A training step's products have a new token count (M, or K for the weight gradients) almost
//   every batch, and a new shape costs a new primitive (0.5-1 ms, while the other thread waits).
//   So large products run in slices of fixed heights (slices()).
// (Decoding's products of a few hundred rows keep their shapes: padding would cost more than a
// primitive there.)
#pragma once

#include <cstdint>
#include <vector>

namespace attnmt::dnnl_backend {

// Products of at least kShapeMinRows rows run in slices of kShapeStep times powers of two rows;
// a non-weight B's K as long is padded to a multiple of kShapeStep.
inline constexpr int64_t kShapeMinRows = 1024;
inline constexpr int64_t kShapeStep = 64;

inline int64_t round_up(int64_t x, int64_t step) { return (x + step - 1) / step * step; }

// The step M rows are padded to: min_rows below it, kShapeStep from kShapeMinRows, else 1.
int64_t row_step(int64_t M, int64_t min_rows);

// K, padded with zeros to a multiple of kShapeStep for a non-weight B of kShapeMinRows or more.
int64_t padded_k(int64_t K, bool weight);

// Rows [m0, m0 + rows) of a product, run as a primitive of `height` >= rows rows (the rest are
// zero padding; only the last slice has any).
struct Slice {
  int64_t m0, rows, height;
};

// The slices of a product of M rows, each at most `most` rows (`step` = row_step(M, .)). A large
// product (M >= kShapeMinRows) runs as slices whose heights are kShapeStep times powers of two,
// largest first (the binary digits of M), then the rest padded to kShapeStep: a few shapes serve
// every token count, so after the first steps a training step makes no primitive (measured on
// AMX: 62 made a step, 8% of the step, before). A smaller one runs as equal slices of its own
// height (padded to `step`).
std::vector<Slice> slices(int64_t M, int64_t step, int64_t most);

// The rows of slices(M, step, most) with their padding: where the last one ends.
int64_t padded_rows(const std::vector<Slice>& parts);

}  // namespace attnmt::dnnl_backend
