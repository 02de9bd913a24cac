// LSTM layers. LstmLayer is one direction of one layer: the input projections of all time
// steps are one GEMM, the recurrence one fused op (autograd/ops_rnn.cpp). LstmEncoder stacks
// layers, bidirectional by default. LstmCell is a single step, for decoders with input feeding.
// Gate order everywhere: i, f, g, o.
#pragma once

#include <span>
#include <vector>

#include "nn/layers.h"

namespace attnmt {

class LstmLayer {
 public:
  LstmLayer() = default;
  // w_ih [4H, in], w_hh [4H, H], bias [4H] (forget-gate bias starts at 1).
  LstmLayer(const Scope& scope, int64_t in, int64_t hidden, Rng& rng);
  // x [B, S, in], lengths [B] -> [B, S + 2, H] (outputs, then final h and final c; see ops.h)
  Var operator()(const Var& x, std::span<const int> lengths, bool reverse) const;
  int64_t hidden() const { return w_hh_->value.dim(1); }

 private:
  Var w_ih_, w_hh_, bias_;
};

struct EncoderOutput {
  Var memory;   // [B, S, M] top layer outputs (M = H or 2H), zero at padding
  Var final_h;  // [B, M] top layer final states (forward's last, backward's first)
  Var final_c;  // [B, M]
};

class LstmEncoder {
 public:
  LstmEncoder() = default;
  LstmEncoder(const Scope& scope, int64_t in, int64_t hidden, int layers, bool bidirectional,
              Rng& rng);
  // x [B, S, in] -> memory and final states; dropout p between layers (training only).
  EncoderOutput operator()(const Var& x, std::span<const int> lengths, float dropout_p, Rng& rng,
                           bool training) const;
  int64_t output_dim() const { return hidden_ * (bidirectional_ ? 2 : 1); }

 private:
  std::vector<LstmLayer> fwd_, bwd_;
  int64_t hidden_ = 0;
  bool bidirectional_ = true;
};

// One step of a stacked-capable LSTM cell: gates come from the caller's input projection.
class LstmCell {
 public:
  LstmCell() = default;
  // w_hh [4H, H], bias [4H]; the input weights are the caller's (they may be split by source).
  LstmCell(const Scope& scope, int64_t hidden, Rng& rng);
  // base [N, 4H] (input projection, bias included) + sum of x_i w_i^T over `terms` + h w_hh^T
  // are the gates (one buffer); returns h', c' [N, H] (views of one [2, N, H] tensor).
  std::pair<Var, Var> operator()(const Var& base, std::vector<std::pair<Var, Var>> terms,
                                 const Var& h, const Var& c) const;
  const Var& bias() const { return bias_; }
  int64_t hidden() const { return w_hh_->value.dim(1); }

 private:
  Var w_hh_, bias_;
};

}  // namespace attnmt
