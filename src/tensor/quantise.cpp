#include "tensor/quantise.h"

#include <Eigen/Core>
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "tensor/kernels.h"

namespace attnmt {

namespace {
// Round to nearest even: the bf16 of x is the top half of its float32 bits.
uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// d[0, n) = the bf16 of a[0, n), by the loop above, or 16 at a time by AVX512-BF16's instruction
// where the CPU has it (the same rounding; it takes subnormal inputs as zero, as oneDNN does):
// 1.24x faster on 2 threads of the AMX Xeon, where the loop already runs at the memory's speed
// (26-28 GB/s read and written).
__attribute__((target("avx512f,avx512bf16"))) void row_bf16_native(const float* __restrict a,
                                                                   uint16_t* __restrict d,
                                                                   int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                        (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(a + i)));
  for (; i < n; ++i) d[i] = to_bf16(a[i]);
}
void row_bf16_loop(const float* __restrict a, uint16_t* __restrict d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = to_bf16(a[i]);
}
using RowBf16 = void (*)(const float*, uint16_t*, int64_t);
const RowBf16 row_bf16 =
    __builtin_cpu_supports("avx512bf16") ? row_bf16_native : row_bf16_loop;

}  // namespace

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

void convert_bf16(const float* A, int64_t R, int64_t C, int64_t lda, uint16_t* dst,
                  int64_t ldd) {
  if (lda == C && ldd == C) {
    kernels::parallel_elementwise(R * C, [&](int64_t b, int64_t e) {
      row_bf16(A + b, dst + b, e - b);
    });
    return;
  }
  kernels::parallel_for(R, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      row_bf16(A + r * lda, dst + r * ldd, C);
      std::fill(dst + r * ldd + C, dst + (r + 1) * ldd, uint16_t{0});
    }
  });
}

void convert_bf16_sum_rows(const float* A, int64_t R, int64_t C, uint16_t* dst, float* sums) {
  kernels::parallel_for(C, R, [&](int64_t c0, int64_t c1) {  // a band of columns a thread
    Eigen::Map<Eigen::ArrayXf> acc(sums + c0, c1 - c0);
    for (int64_t r = 0; r < R; ++r) {
      const float* a = A + r * C + c0;
      row_bf16(a, dst + r * C + c0, c1 - c0);
      acc += Eigen::Map<const Eigen::ArrayXf>(a, c1 - c0);
    }
  });
}

// dst [M,K] u8 row-major (see quantise.h) = round(op(A)[m,:] / scale[m]) + 128 (quantise_int8 per row).
void quantise_rows_u8(const float* A, bool trans, int64_t M, int64_t K, uint8_t* dst,
                      float* scale) {
  kernels::parallel_for(M, K, [&](int64_t m0, int64_t m1) {
    std::vector<float> row(trans ? K : 0);
    for (int64_t m = m0; m < m1; ++m) {
      const float* a = A + m * K;
      if (trans) {  // gather the row first (the int8 products of the models never take this)
        for (int64_t k = 0; k < K; ++k) row[k] = A[k * M + m];
        a = row.data();
      }
      uint8_t* __restrict d = dst + m * K;
      scale[m] = quantise_int8(a, K, reinterpret_cast<int8_t*>(d));
      for (int64_t k = 0; k < K; ++k) d[k] ^= 0x80;  // int8 q -> uint8 q + 128
    }
  });
}

}  // namespace attnmt
