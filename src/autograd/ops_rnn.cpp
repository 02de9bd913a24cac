// LSTM ops: one cell step (for decoders that feed attention back in) and a whole layer over
// time (for encoders), each with its backward (back-propagation through time) beside it.
#include <cstring>

#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

Var lstm_cell(const Var& gates, const Var& c_prev) {
  const Tensor& G = gates->value;  // [B, 4H]
  int64_t B = G.dim(0), H = G.dim(1) / 4;
  ATTNMT_CHECK(G.rank() == 2 && G.dim(1) == 4 * H && c_prev->value.numel() == B * H,
               "lstm_cell: gates {} and cell {} do not fit", G.shape().str(),
               c_prev->shape().str());
  Tensor act = Tensor::uninitialized(Shape{B, 4 * H});  // activated gates, for backward
  Tensor out = Tensor::uninitialized(Shape{2, B, H});    // h, then c
  kernels::lstm_cell_forward(G.data(), c_prev->value.data(), act.data(), out.data() + B * H,
                             out.data(), B, H);
  return make_node(std::move(out), "lstm_cell", {gates, c_prev}, [act, B, H](Node& self) {
    const float* dh = self.grad.data();
    const float* dc = self.grad.data() + B * H;
    const float* c = self.value.data() + B * H;
    Tensor dg = Tensor::uninitialized(Shape{B, 4 * H}), dcp = Tensor::uninitialized(Shape{B, H});
    const Var &gates = self.parents[0], &c_prev = self.parents[1];
    kernels::lstm_cell_backward(act.data(), c_prev->value.data(), c, dh, dc, dg.data(), dcp.data(),
                                B, H);
    if (wants_grad(gates)) gates->grad_buffer().arr() += dg.arr();
    if (wants_grad(c_prev)) c_prev->grad_buffer().arr() += dcp.arr();
  });
}

Var lstm_sequence(const Var& xproj, const Var& w_hh, std::span<const int> lengths, bool reverse) {
  const Tensor& X = xproj->value;  // [B, S, 4H]
  const Tensor& W = w_hh->value;   // [4H, H]
  ATTNMT_CHECK(X.rank() == 3 && W.rank() == 2 && X.dim(2) == W.dim(0) && W.dim(0) == 4 * W.dim(1),
               "lstm_sequence: input {} and recurrent weight {} do not fit", X.shape().str(),
               W.shape().str());
  const int64_t B = X.dim(0), S = X.dim(1), H = W.dim(1), G4 = 4 * H;
  ATTNMT_CHECK(static_cast<int64_t>(lengths.size()) == B, "lstm_sequence: {} lengths for {} rows",
               lengths.size(), B);
  std::vector<int> len(lengths.begin(), lengths.end());
  // States after each processing step k (k = 0 is the zero initial state): [S + 1, B, H].
  Tensor hs = Tensor::zeros(Shape{S + 1, B, H}), cs = Tensor::zeros(Shape{S + 1, B, H});
  Tensor acts = Tensor::uninitialized(Shape{S, B, G4});  // activated gates per step
  Tensor out = Tensor::zeros(Shape{B, S + 2, H});
  Tensor gates = Tensor::uninitialized(Shape{B, G4});
  for (int64_t k = 0; k < S; ++k) {
    int64_t pos = reverse ? S - 1 - k : k;
    kernels::copy_strided(X.data() + pos * G4, S * G4, gates.data(), G4, B, G4, false);
    Tensor h_prev = hs.row(k).reshape(Shape{B, H}), c_prev = cs.row(k).reshape(Shape{B, H});
    matmul(h_prev, false, W, true, gates, 1.0f, 1.0f);
    float* h = hs.data() + (k + 1) * B * H;
    float* c = cs.data() + (k + 1) * B * H;
    kernels::lstm_cell_forward(gates.data(), c_prev.data(), acts.data() + k * B * G4, c, h, B, H);
    for (int64_t b = 0; b < B; ++b) {
      if (pos < len[b]) {
        std::memcpy(out.data() + (b * (S + 2) + pos) * H, h + b * H, H * sizeof(float));
      } else {  // padding: the state passes through unchanged
        std::memcpy(h + b * H, h_prev.data() + b * H, H * sizeof(float));
        std::memcpy(c + b * H, c_prev.data() + b * H, H * sizeof(float));
      }
    }
  }
  for (int64_t b = 0; b < B; ++b) {
    std::memcpy(out.data() + (b * (S + 2) + S) * H, hs.data() + (S * B + b) * H, H * sizeof(float));
    std::memcpy(out.data() + (b * (S + 2) + S + 1) * H, cs.data() + (S * B + b) * H,
                H * sizeof(float));
  }
  return make_node(std::move(out), "lstm_sequence", {xproj, w_hh},
                   [hs, cs, acts, len, reverse, B, S, H, G4](Node& self) {
    const Var &xproj = self.parents[0], &w_hh = self.parents[1];
    const Tensor& dOut = self.grad;  // [B, S + 2, H]
    Tensor dh = Tensor::uninitialized(Shape{B, H}), dc = Tensor::uninitialized(Shape{B, H});
    kernels::copy_strided(dOut.data() + S * H, (S + 2) * H, dh.data(), H, B, H, false);
    kernels::copy_strided(dOut.data() + (S + 1) * H, (S + 2) * H, dc.data(), H, B, H, false);
    Tensor dg = Tensor::uninitialized(Shape{B, G4}), dc_prev = Tensor::uninitialized(Shape{B, H});
    Tensor dh_prev = Tensor::uninitialized(Shape{B, H});
    float* dX = wants_grad(xproj) ? xproj->grad_buffer().data() : nullptr;
    Tensor* dW = wants_grad(w_hh) ? &w_hh->grad_buffer() : nullptr;
    for (int64_t k = S - 1; k >= 0; --k) {
      int64_t pos = reverse ? S - 1 - k : k;
      for (int64_t b = 0; b < B; ++b)  // this step's output gradient joins the recurrent one
        if (pos < len[b]) {
          const float* g = dOut.data() + (b * (S + 2) + pos) * H;
          for (int64_t j = 0; j < H; ++j) dh.data()[b * H + j] += g[j];
        }
      const float* c_prev = cs.data() + k * B * H;
      const float* c = cs.data() + (k + 1) * B * H;
      kernels::lstm_cell_backward(acts.data() + k * B * G4, c_prev, c, dh.data(), dc.data(),
                                  dg.data(), dc_prev.data(), B, H);
      for (int64_t b = 0; b < B; ++b)
        if (pos >= len[b]) {  // padding: gradients pass straight through
          std::fill(dg.data() + b * G4, dg.data() + (b + 1) * G4, 0.0f);
          std::memcpy(dc_prev.data() + b * H, dc.data() + b * H, H * sizeof(float));
        }
      Tensor h_prev = hs.row(k).reshape(Shape{B, H});
      if (dW) matmul(dg, true, h_prev, false, *dW, 1.0f, 1.0f);
      if (dX) kernels::copy_strided(dg.data(), G4, dX + pos * G4, S * G4, B, G4, true);
      matmul(dg, false, w_hh->value, false, dh_prev);
      for (int64_t b = 0; b < B; ++b)
        if (pos >= len[b])
          std::memcpy(dh_prev.data() + b * H, dh.data() + b * H, H * sizeof(float));
      std::swap(dh, dh_prev);
      std::swap(dc, dc_prev);
    }
  });
}

}  // namespace attnmt
