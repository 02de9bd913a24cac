#include "tensor/quantise.h"

#include <algorithm>
#include <cmath>

namespace attnmt {

float quantise_int8(const float* x, int64_t n, int8_t* q, int levels) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float top = static_cast<float>(levels);
  const float inv = amax > 0.0f ? top / amax : 0.0f;
  // (v + 1.5 * 2^23) - 1.5 * 2^23 rounds to nearest even for |v| <= 127, and vectorises.
  constexpr float kMagic = 12582912.0f;
  for (int64_t i = 0; i < n; ++i) q[i] = static_cast<int8_t>((x[i] * inv + kMagic) - kMagic);
  return amax / top;
}

}  // namespace attnmt
