// Kernels: row-wise and element-wise math. See kernels.h for the contracts.
#include "tensor/kernels.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "tensor/error.h"

namespace attnmt::kernels {

namespace {
constexpr float kMaskedLogProb = -1e30f;
}

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, const float* mask) {
  parallel_for(rows, cols * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* mr = mask ? mask + r * cols : nullptr;
      float* yr = y + r * cols;
      if (!mr) {  // the common case, vectorised (Eigen's exp)
        ConstArrayMap xa(xr, cols);
        ArrayMap ya(yr, cols);
        ya = (xa - xa.maxCoeff()).exp();
        ya *= 1.0f / ya.sum();
        continue;
      }
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t c = 0; c < cols; ++c)
        if (mr[c] != 0.0f) mx = std::max(mx, xr[c]);
      if (mx == -std::numeric_limits<float>::infinity()) {  // fully masked row
        std::fill(yr, yr + cols, 0.0f);
        continue;
      }
      float sum = 0.0f;
      for (int64_t c = 0; c < cols; ++c) {
        float e = (!mr || mr[c] != 0.0f) ? std::exp(xr[c] - mx) : 0.0f;
        yr[c] = e;
        sum += e;
      }
      float inv = 1.0f / sum;
      for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
    }
  });
}

void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows,
                           int64_t cols) {
  parallel_for(rows, cols * 3, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* yr = y + r * cols;
      const float* gr = dy + r * cols;
      float* dr = dx + r * cols;
      float dot = 0.0f;
      for (int64_t c = 0; c < cols; ++c) dot += yr[c] * gr[c];
      for (int64_t c = 0; c < cols; ++c) dr[c] += yr[c] * (gr[c] - dot);
    }
  });
}

void log_softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, const float* mask) {
  parallel_for(rows, cols * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* mr = mask ? mask + r * cols : nullptr;
      float* yr = y + r * cols;
      if (!mr) {  // the common case, vectorised
        ConstArrayMap xa(xr, cols);
        const float mx = xa.maxCoeff();
        ArrayMap(yr, cols) = xa - (mx + std::log((xa - mx).exp().sum()));
        continue;
      }
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t c = 0; c < cols; ++c)
        if (mr[c] != 0.0f) mx = std::max(mx, xr[c]);
      if (mx == -std::numeric_limits<float>::infinity()) {
        std::fill(yr, yr + cols, kMaskedLogProb);
        continue;
      }
      float sum = 0.0f;
      for (int64_t c = 0; c < cols; ++c)
        if (!mr || mr[c] != 0.0f) sum += std::exp(xr[c] - mx);
      float lse = mx + std::log(sum);
      for (int64_t c = 0; c < cols; ++c)
        yr[c] = (!mr || mr[c] != 0.0f) ? xr[c] - lse : kMaskedLogProb;
    }
  });
}

void log_softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows,
                               int64_t cols) {
  parallel_for(rows, cols * 3, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* yr = y + r * cols;
      const float* gr = dy + r * cols;
      float* dr = dx + r * cols;
      // Masked entries hold -1e30: exp gives 0 there, and they take no gradient.
      ConstArrayMap ya(yr, cols), ga(gr, cols);
      const auto live = (ya > kMaskedLogProb * 0.1f);
      const float sum = live.select(ga, 0.0f).sum();
      ArrayMap(dr, cols) += live.select(ga - ya.exp() * sum, 0.0f);
    }
  });
}

void layer_norm_rows(const float* x, const float* gamma, const float* beta, float* y,
                     float* mean, float* rstd, int64_t rows, int64_t cols, float eps) {
  ConstArrayMap g(gamma, cols), b(beta, cols);
  parallel_for(rows, cols * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      ConstArrayMap xr(x + r * cols, cols);
      const float m = xr.mean();
      const float rs = 1.0f / std::sqrt((xr - m).square().mean() + eps);  // two-pass variance
      ArrayMap(y + r * cols, cols) = (xr - m) * rs * g + b;
      if (mean) mean[r] = m;
      if (rstd) rstd[r] = rs;
    }
  });
}

void layer_norm_rows_backward(const float* x, const float* gamma, const float* mean,
                              const float* rstd, const float* dy, float* dx, float* dgamma,
                              float* dbeta, int64_t rows, int64_t cols) {
  ConstArrayMap gam(gamma, cols);
  if (dx) {
    parallel_for(rows, cols * 6, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        // With xhat = (x - m) * rs and g = dy * gamma:
        // dx = rs * (g - mean(g) - xhat * mean(g * xhat)).
        ConstArrayMap xr(x + r * cols, cols), gr(dy + r * cols, cols);
        const float m = mean[r], rs = rstd[r];
        const auto g = gr * gam;
        const auto xhat = (xr - m) * rs;
        const float sg = g.mean(), sgx = (g * xhat).mean();
        ArrayMap(dx + r * cols, cols) += rs * (g - sg - xhat * sgx);
      }
    });
  }
  if (dgamma || dbeta) {
    // Columns are independent: split them over the threads.
    parallel_for(cols, rows * 3, [&](int64_t c0, int64_t c1) {
      const int64_t n = c1 - c0;
      for (int64_t r = 0; r < rows; ++r) {
        ConstArrayMap xr(x + r * cols + c0, n), gr(dy + r * cols + c0, n);
        if (dgamma) ArrayMap(dgamma + c0, n) += gr * (xr - mean[r]) * rstd[r];
        if (dbeta) ArrayMap(dbeta + c0, n) += gr;
      }
    });
  }
}

namespace {
constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi)
}

void gelu(const float* x, float* y, int64_t n) {
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = x[i];
      y[i] = 0.5f * v * (1.0f + std::tanh(kGeluC * (v + 0.044715f * v * v * v)));
    }
  });
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  parallel_for(n, 10, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = x[i];
      float u = kGeluC * (v + 0.044715f * v * v * v);
      float t = std::tanh(u);
      float du = kGeluC * (1.0f + 3.0f * 0.044715f * v * v);
      dx[i] += dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
    }
  });
}

void gather_rows(const float* table, int64_t n_rows_table, int64_t cols, const int* ids,
                 int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i)
    ATTNMT_CHECK(ids[i] >= 0 && ids[i] < n_rows_table, "embedding id {} out of range [0, {})",
                 ids[i], n_rows_table);
  // In parallel: beam search re-indexes whole encoder memories ([rows, S x M]) this way.
  parallel_for(n, cols, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      std::memcpy(out + i * cols, table + int64_t(ids[i]) * cols, cols * sizeof(float));
  });
}

void scatter_add_rows(float* d_table, int64_t cols, const int* ids, int64_t n,
                      const float* d_out) {
  // Serial over ids (they repeat); vectorised over columns.
  for (int64_t i = 0; i < n; ++i) {
    float* dst = d_table + int64_t(ids[i]) * cols;
    const float* src = d_out + i * cols;
    for (int64_t c = 0; c < cols; ++c) dst[c] += src[c];
  }
}

void copy_strided(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                  int64_t outer, int64_t len, bool accumulate) {
  parallel_for(outer, len, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const float* s = src + o * src_stride;
      float* d = dst + o * dst_stride;
      if (accumulate) {
        for (int64_t i = 0; i < len; ++i) d[i] += s[i];
      } else {
        std::memcpy(d, s, len * sizeof(float));
      }
    }
  });
}

Shape swapped_shape(const Shape& s, int a, int b) {
  int64_t d[4] = {1, 1, 1, 1};
  for (int i = 0; i < s.rank(); ++i) d[i] = s[i];
  std::swap(d[a], d[b]);
  switch (s.rank()) {
    case 2: return Shape{d[0], d[1]};
    case 3: return Shape{d[0], d[1], d[2]};
    case 4: return Shape{d[0], d[1], d[2], d[3]};
    default: fail("transpose needs rank 2 to 4, got shape {}", s.str());
  }
}

void transpose_axes(const Tensor& x, int a, int b, Tensor& out, bool accumulate) {
  const Shape& s = x.shape();
  int r = s.rank();
  ATTNMT_CHECK(a >= 0 && b >= 0 && a < r && b < r, "transpose axes {} {} for shape {}", a, b,
               s.str());
  // Pad to rank 4 at the front; strides of the input, permuted.
  int64_t d[4] = {1, 1, 1, 1}, st[4];
  int off = 4 - r;
  for (int i = 0; i < r; ++i) d[off + i] = s[i];
  st[3] = 1;
  for (int i = 2; i >= 0; --i) st[i] = st[i + 1] * d[i + 1];
  std::swap(d[off + a], d[off + b]);
  std::swap(st[off + a], st[off + b]);
  const float* src = x.data();
  float* dst = out.data();
  parallel_for(d[0] * d[1], d[2] * d[3], [&](int64_t b0, int64_t b1) {
    for (int64_t ij = b0; ij < b1; ++ij) {
      int64_t i = ij / d[1], j = ij % d[1];
      float* o = dst + ij * d[2] * d[3];
      for (int64_t k = 0; k < d[2]; ++k) {
        const float* in = src + i * st[0] + j * st[1] + k * st[2];
        if (accumulate) {
          for (int64_t l = 0; l < d[3]; ++l) o[k * d[3] + l] += in[l * st[3]];
        } else {
          for (int64_t l = 0; l < d[3]; ++l) o[k * d[3] + l] = in[l * st[3]];
        }
      }
    }
  });
}

void add_bias_rows(float* y, const float* b, int64_t rows, int64_t cols) {
  parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < cols; ++c) y[r * cols + c] += b[c];
  });
}

void sum_rows(const float* dy, float* db, int64_t rows, int64_t cols) {
  parallel_for(cols, rows, [&](int64_t c0, int64_t c1) {
    ArrayMap acc(db + c0, c1 - c0);
    for (int64_t r = 0; r < rows; ++r) acc += ConstArrayMap(dy + r * cols + c0, c1 - c0);
  });
}

namespace {
// SplitMix64 (Steele, Lea, Flood 2014): a counter-based generator, one hash per draw.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Entries [b, e) of a mask; a plain function, so that the stores cannot alias the constants
// and the loop vectorises.
void dropout_mask_range(float* __restrict mask, int64_t b, int64_t e, uint64_t seed,
                        uint32_t threshold, float scale) {
  for (int64_t i = b; i < e; ++i) {
    const uint64_t h = splitmix64(seed + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull);
    mask[i] = static_cast<uint32_t>(h >> 40) < threshold ? 0.0f : scale;
  }
}
}  // namespace

void dropout_mask(float* mask, int64_t n, float p, Rng& rng) {
  const float scale = 1.0f / (1.0f - p);
  // Entry i is dropped when the top 24 bits of hash(seed, i) fall below p.
  const uint32_t threshold = static_cast<uint32_t>(p * 16777216.0f);
  const uint64_t seed = rng.next();
  parallel_elementwise(n, [&](int64_t b, int64_t e) {
    dropout_mask_range(mask, b, e, seed, threshold, scale);
  });
}

void copy(const float* src, float* dst, int64_t n) {
  parallel_elementwise(n, [&](int64_t b, int64_t e) {
    std::memcpy(dst + b, src + b, (e - b) * sizeof(float));
  });
}

void add_into(const float* src, float* dst, int64_t n) {
  parallel_elementwise(n, [&](int64_t b, int64_t e) {
    ArrayMap(dst + b, e - b) += ConstArrayMap(src + b, e - b);
  });
}

void lstm_cell_forward(const float* gates, const float* c_prev, float* act, float* c, float* h,
                       int64_t B, int64_t H) {
  parallel_for(B, H * 40, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      // Vectorised over the row (Eigen's exp and tanh); gate order i, f, g, o.
      ConstArrayMap g(gates + b * 4 * H, 4 * H);
      ArrayMap a(act + b * 4 * H, 4 * H);
      a = 1.0f / (1.0f + (-g).exp());                       // sigmoid for i, f, o
      a.segment(2 * H, H) = g.segment(2 * H, H).tanh();     // tanh for g
      ArrayMap cc(c + b * H, H), hh(h + b * H, H);
      cc = a.segment(H, H) * ConstArrayMap(c_prev + b * H, H) + a.segment(0, H) * a.segment(2 * H, H);
      hh = a.segment(3 * H, H) * cc.tanh();
    }
  });
}

void lstm_cell_backward(const float* act, const float* c_prev, const float* c, const float* dh,
                        const float* dc, float* d_gates, float* dc_prev, int64_t B, int64_t H) {
  parallel_for(B, H * 30, [&](int64_t b0, int64_t b1) {
    Eigen::ArrayXf tc(H), dct(H);
    for (int64_t b = b0; b < b1; ++b) {
      ConstArrayMap a(act + b * 4 * H, 4 * H);
      const auto i_ = a.segment(0, H), f_ = a.segment(H, H), g_ = a.segment(2 * H, H),
                 o_ = a.segment(3 * H, H);
      tc = ConstArrayMap(c + b * H, H).tanh();
      dct.setZero();
      if (dc) dct += ConstArrayMap(dc + b * H, H);
      if (dh) dct += ConstArrayMap(dh + b * H, H) * o_ * (1.0f - tc.square());
      ArrayMap dg(d_gates + b * 4 * H, 4 * H);
      dg.segment(0, H) = dct * g_ * i_ * (1.0f - i_);
      dg.segment(H, H) = dct * ConstArrayMap(c_prev + b * H, H) * f_ * (1.0f - f_);
      dg.segment(2 * H, H) = dct * i_ * (1.0f - g_.square());
      if (dh) dg.segment(3 * H, H) = ConstArrayMap(dh + b * H, H) * tc * o_ * (1.0f - o_);
      else dg.segment(3 * H, H).setZero();
      ArrayMap(dc_prev + b * H, H) = dct * f_;
    }
  });
}

}  // namespace attnmt::kernels
