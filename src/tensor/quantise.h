// Symmetric int8 quantisation of one row, the one rule that the int8 products (gemm_dnnl.cpp)
// and the int8 model file (io/model_file.cpp) share, so that a stored row quantises back to the
// same integers: scale = max |x| / levels, q = round-to-nearest-even(x / scale), levels 127
// unless narrowed (gemm_dnnl.cpp: 63 where the CPU's int8 dot product saturates).
#pragma once

#include <cstdint>

namespace attnmt {

// q[i] = round(x[i] / scale) for i < n, |q[i]| <= levels (1..127); returns scale (0 for an
// all-zero row, q all 0).
float quantise_int8(const float* x, int64_t n, int8_t* q, int levels = 127);

}  // namespace attnmt
