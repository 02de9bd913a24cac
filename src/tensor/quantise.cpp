#include "tensor/quantise.h"

#include <Eigen/Core>

namespace attnmt {

float quantise_int8(const float* __restrict x, int64_t n, int8_t* __restrict q, int levels) {
  // Eigen's maximum vectorises; a loop of std::max does not (its NaN rule).
  const float amax = n > 0 ? Eigen::Map<const Eigen::ArrayXf>(x, n).abs().maxCoeff() : 0.0f;
  const float top = static_cast<float>(levels);
  const float inv = amax > 0.0f ? top / amax : 0.0f;
  // (v + 1.5 * 2^23) - 1.5 * 2^23 rounds to nearest even for |v| <= 127, and vectorises.
  constexpr float kMagic = 12582912.0f;
  for (int64_t i = 0; i < n; ++i)
    q[i] = static_cast<int8_t>(static_cast<int32_t>((x[i] * inv + kMagic) - kMagic));
  return amax / top;
}

}  // namespace attnmt
