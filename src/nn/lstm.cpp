#include "nn/lstm.h"

#include <cmath>

namespace attnmt {

namespace {
Tensor lstm_bias(int64_t hidden) {
  Tensor b = Tensor::zeros(Shape{4 * hidden});
  for (int64_t j = hidden; j < 2 * hidden; ++j) b[j] = 1.0f;  // remember by default
  return b;
}
}  // namespace

LstmLayer::LstmLayer(const Scope& scope, int64_t in, int64_t hidden, Rng& rng) {
  float bound = 1.0f / std::sqrt(static_cast<float>(hidden));
  const Shape ih{4 * hidden, in}, hh{4 * hidden, hidden};
  w_ih_ = scope.add("w_ih", ih, [&] { return init_uniform(ih, bound, rng); });
  w_hh_ = scope.add("w_hh", hh, [&] { return init_uniform(hh, bound, rng); });
  bias_ = scope.add("bias", Shape{4 * hidden}, [&] { return lstm_bias(hidden); });
}

Var LstmLayer::operator()(const Var& x, std::span<const int> lengths, bool reverse) const {
  Var xproj = linear(x, w_ih_, bias_);  // [B, S, 4H]: every step's input part in one GEMM
  return lstm_sequence(xproj, w_hh_, lengths, reverse);
}

LstmEncoder::LstmEncoder(const Scope& scope, int64_t in, int64_t hidden, int layers,
                         bool bidirectional, Rng& rng)
    : hidden_(hidden), bidirectional_(bidirectional) {
  for (int l = 0; l < layers; ++l) {
    Scope ls = scope / ("layer_" + std::to_string(l));
    int64_t layer_in = l == 0 ? in : output_dim();
    fwd_.emplace_back(ls / "forward", layer_in, hidden, rng);
    if (bidirectional) bwd_.emplace_back(ls / "backward", layer_in, hidden, rng);
  }
}

EncoderOutput LstmEncoder::operator()(const Var& x, std::span<const int> lengths, float dropout_p,
                                      Rng& rng, bool training) const {
  const int64_t S = x->value.dim(1);
  Var input = x;
  EncoderOutput out;
  for (size_t l = 0; l < fwd_.size(); ++l) {
    if (l > 0) input = dropout(input, dropout_p, rng, training);
    Var f = fwd_[l](input, lengths, false);  // [B, S + 2, H]
    std::vector<Var> outs{slice(f, 1, 0, S)}, hs{slice(f, 1, S, S + 1)}, cs{slice(f, 1, S + 1, S + 2)};
    if (bidirectional_) {
      Var b = bwd_[l](input, lengths, true);
      outs.push_back(slice(b, 1, 0, S));
      hs.push_back(slice(b, 1, S, S + 1));
      cs.push_back(slice(b, 1, S + 1, S + 2));
    }
    input = outs.size() == 1 ? outs[0] : concat(outs, 2);  // [B, S, M]
    if (l + 1 == fwd_.size()) {
      const int64_t B = x->value.dim(0), M = output_dim();
      out.final_h = reshape(hs.size() == 1 ? hs[0] : concat(hs, 2), Shape{B, M});
      out.final_c = reshape(cs.size() == 1 ? cs[0] : concat(cs, 2), Shape{B, M});
    }
  }
  out.memory = input;
  return out;
}

LstmCell::LstmCell(const Scope& scope, int64_t hidden, Rng& rng) {
  float bound = 1.0f / std::sqrt(static_cast<float>(hidden));
  const Shape hh{4 * hidden, hidden};
  w_hh_ = scope.add("w_hh", hh, [&] { return init_uniform(hh, bound, rng); });
  bias_ = scope.add("bias", Shape{4 * hidden}, [&] { return lstm_bias(hidden); });
}

std::pair<Var, Var> LstmCell::operator()(const Var& base, std::vector<std::pair<Var, Var>> terms,
                                         const Var& h, const Var& c) const {
  const int64_t N = h->value.dim(0), H = hidden();
  terms.emplace_back(h, w_hh_);
  Var hc = reshape(lstm_cell(affine_sum(base, terms), c), Shape{2 * N, H});  // [2N, H]
  return {narrow_rows(hc, 0, N), narrow_rows(hc, N, 2 * N)};
}

}  // namespace attnmt
