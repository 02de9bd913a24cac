// Slices and padding of the oneDNN backend's products: see gemm_shapes.h.
#include "tensor/gemm_shapes.h"

#include <algorithm>

namespace attnmt::dnnl_backend {

int64_t row_step(int64_t M, int64_t min_rows) {
  return M < min_rows ? min_rows : M >= kShapeMinRows ? kShapeStep : 1;
}

int64_t padded_k(int64_t K, bool weight) {
  return !weight && K >= kShapeMinRows ? round_up(K, kShapeStep) : K;
}

std::vector<Slice> slices(int64_t M, int64_t step, int64_t most) {
  std::vector<Slice> out;
  if (M >= kShapeMinRows) {
    int64_t h = kShapeStep;
    while (h * 2 <= most) h *= 2;
    int64_t m0 = 0;
    for (const int64_t whole = M / kShapeStep * kShapeStep; h >= kShapeStep; h /= 2)
      for (; whole - m0 >= h; m0 += h) out.push_back({m0, h, h});
    if (m0 < M) out.push_back({m0, M - m0, kShapeStep});  // the padded tail, through a buffer
    return out;
  }
  const int64_t whole = M / step * step;  // the rows outside the padded tail (M % step rows)
  const int64_t n = std::max<int64_t>(1, (whole + most - 1) / most);
  const int64_t rows = std::max(step, round_up((whole + n - 1) / n, step));
  for (int64_t m0 = 0, mb = 0; m0 < M; m0 += mb) {
    mb = m0 < whole ? std::min(rows, whole - m0) : M - m0;  // a slice, or the tail
    out.push_back({m0, mb, round_up(mb, step)});
  }
  return out;
}

int64_t padded_rows(const std::vector<Slice>& parts) {
  return parts.empty() ? 0 : parts.back().m0 + parts.back().height;
}

}  // namespace attnmt::dnnl_backend
