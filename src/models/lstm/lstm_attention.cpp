#include "models/lstm/lstm_attention.h"

#include <fmt/format.h>

#include "tensor/error.h"

namespace attnmt {

namespace {
// [B, S] float mask from lengths: 1 where s < len[b].
Tensor length_mask(std::span<const int> lengths, int64_t S) {
  Tensor m = Tensor::zeros(Shape{static_cast<int64_t>(lengths.size()), S});
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t s = 0; s < std::min<int64_t>(lengths[b], S); ++s) m.at({int64_t(b), s}) = 1.0f;
  return m;
}
}  // namespace

void LstmAttention::validate(const ModelConfig& c) {
  ATTNMT_CHECK(c.enc_hidden > 0 && c.dec_hidden > 0,
               "LSTM widths must be positive (enc-hidden {}, dec-hidden {})", c.enc_hidden,
               c.dec_hidden);
  const int mem = c.enc_hidden * (c.bidirectional ? 2 : 1);
  ATTNMT_CHECK(c.attention != AttentionType::kDot || mem == c.dec_hidden,
               "dot attention needs the encoder output width ({}) to equal dec-hidden ({})", mem,
               c.dec_hidden);
}

std::string LstmAttention::describe(const ModelConfig& c) {
  return fmt::format("LSTM encoder-decoder ({}{} x {}, decoder {} x {}) with {} attention{}",
                     c.bidirectional ? "bidirectional " : "", c.enc_layers, c.enc_hidden,
                     c.dec_layers, c.dec_hidden, name_of(c.attention),
                     c.input_feeding ? " and input feeding" : "");
}

int64_t LstmAttention::parameters(const ModelConfig& c) {
  // The constructor's layers, counted: each Linear is in x out (+ out of bias).
  const int64_t E = c.emb_dim, He = c.enc_hidden, Hd = c.dec_hidden, V = c.vocab_size;
  const int64_t directions = c.bidirectional ? 2 : 1, M = He * directions;  // encoder output
  auto lstm = [](int64_t in, int64_t h) { return 4 * h * in + 4 * h * h + 4 * h; };
  int64_t n = V * E;
  for (int l = 0; l < c.enc_layers; ++l) n += directions * lstm(l == 0 ? E : M, He);
  if (M != Hd) n += 2 * (M * Hd + Hd);  // the bridge
  n += E * 4 * Hd + (c.input_feeding ? Hd * 4 * Hd : 0);
  n += c.dec_layers * (4 * Hd * Hd + 4 * Hd) + (c.dec_layers - 1) * Hd * 4 * Hd;
  if (c.attention == AttentionType::kGeneral) n += M * Hd;
  if (c.attention == AttentionType::kAdditive) n += M * Hd + Hd * Hd + Hd + Hd;
  n += (M + Hd) * Hd + Hd * E;  // w_c, w_out
  return n + (c.tie_embeddings ? 0 : V * E) + (c.output_bias ? V : 0);
}

std::vector<ModelExample> LstmAttention::examples(int vocab_size) {
  ModelConfig c = small_config(Arch::kLstm, vocab_size);
  c.emb_dim = 32, c.enc_hidden = 32, c.dec_hidden = 64;
  std::vector<ModelExample> out{{"general attention, input feeding", c}};
  c.emb_dim = 16, c.enc_hidden = 8, c.dec_hidden = 12;  // a bridge from the encoder's 16
  c.enc_layers = c.dec_layers = 2, c.attention = AttentionType::kAdditive;
  out.push_back({"additive attention, 2 + 2 layers", c});
  c.enc_layers = c.dec_layers = 1, c.bidirectional = false, c.enc_hidden = c.dec_hidden = 12;
  c.attention = AttentionType::kDot, c.input_feeding = false;
  c.tie_embeddings = false, c.output_bias = true;
  out.push_back({"dot attention, unidirectional, no input feeding, untied", c});
  return out;
}

// Between decoding steps. The memory, its keys and mask stay as encode() made them, one row
// per sentence; live row n reads sentence source_rows.sentences()[n] (step's attend_rows), so
// select() copies only the recurrent state.
class LstmAttention::State : public DecoderState {
 public:
  Memory memory;  // [B, S, M], keys [B, S, K], mask [B, S]
  Recurrent rec;
  SourceRows source_rows;
  int rows() const override { return static_cast<int>(source_rows.sentences().size()); }
};

LstmAttention::LstmAttention(const ModelConfig& c, uint64_t seed, const ParameterSource* from)
    : Seq2Seq(c, seed, from) {
  Scope root(params_);
  const int64_t E = c.emb_dim, Hd = c.dec_hidden;
  embedding_ = Embedding(root / "embedding", c.vocab_size, E, rng_);
  encoder_ = LstmEncoder(root / "encoder", E, c.enc_hidden, c.enc_layers, c.bidirectional, rng_);
  const int64_t M = encoder_.output_dim();
  use_bridge_ = M != Hd;
  if (use_bridge_) {
    bridge_h_ = Linear(root / "bridge" / "h", M, Hd, true, rng_);
    bridge_c_ = Linear(root / "bridge" / "c", M, Hd, true, rng_);
  }
  Scope dec = root / "decoder";
  w_y_ = Linear(dec / "layer_0" / "w_y", E, 4 * Hd, false, rng_);
  if (c.input_feeding) w_f_ = Linear(dec / "layer_0" / "w_feed", Hd, 4 * Hd, false, rng_);
  for (int l = 0; l < c.dec_layers; ++l) {
    Scope ls = dec / ("layer_" + std::to_string(l));
    if (l > 0) w_x_.emplace_back(ls / "w_x", Hd, 4 * Hd, false, rng_);
    cells_.emplace_back(ls, Hd, rng_);
  }
  attention_ = SoftAttention(dec / "attention", c.attention, M, Hd, rng_);
  w_c_ = Linear(dec / "attention" / "w_c", M + Hd, Hd, false, rng_);
  w_o_ = Linear(dec / "w_out", Hd, E, false, rng_);
  output_ = OutputLayer(root / "output", embedding_, c.tie_embeddings, c.output_bias, rng_);
}

LstmAttention::Memory LstmAttention::encode_memory(const IdMatrix& src,
                                                   std::span<const int> src_len, bool training,
                                                   Recurrent& init) {
  const int64_t B = src.rows, S = src.cols, Hd = config_.dec_hidden;
  const float p = config_.dropout;
  Var x = dropout(tapped_source(embedding_(src.ids, Shape{B, S})), p, rng_, training);  // [B, S, E]
  EncoderOutput enc = encoder_(x, src_len, p, rng_, training);
  Memory m;
  m.memory = dropout(enc.memory, p, rng_, training);  // [B, S, M]
  m.keys = attention_.keys(m.memory);
  m.mask = length_mask(src_len, S);
  Var h0 = use_bridge_ ? tanh(bridge_h_(enc.final_h)) : enc.final_h;  // [B, Hd]
  Var c0 = use_bridge_ ? bridge_c_(enc.final_c) : enc.final_c;
  init.h.assign(cells_.size(), h0);
  init.c.assign(cells_.size(), c0);
  init.feed = constant(Tensor::zeros(Shape{B, Hd}));
  return m;
}

Var LstmAttention::decode_cells(const Var& y_gates, Recurrent& r, bool training) {
  Var h;
  for (size_t l = 0; l < cells_.size(); ++l) {
    // Gates of layer 0: the embedding part (bias included) + the fed-back attentional state;
    // of higher layers: the layer below. The recurrent part is added by the cell.
    Var base = y_gates;
    std::vector<std::pair<Var, Var>> terms;
    if (l == 0 && config_.input_feeding) terms.emplace_back(r.feed, w_f_.weight());
    if (l > 0)
      base = linear(dropout(h, config_.dropout, rng_, training), w_x_[l - 1].weight(),
                    cells_[l].bias());
    auto [h_new, c_new] = cells_[l](base, std::move(terms), r.h[l], r.c[l]);  // [N, Hd] each
    h = h_new;
    r.h[l] = h_new;
    r.c[l] = c_new;
  }
  return h;
}

Var LstmAttention::decode_step(const Var& y_gates, Recurrent& r, const Memory& m, bool training) {
  Var h = decode_cells(y_gates, r, training);               // [N, Hd]
  Var weights = attention_.weights(h, m.keys, m.mask);      // [N, S]
  Var context = SoftAttention::context(weights, m.memory);  // [N, M]
  r.feed = dropout(tanh(w_c_(concat({context, h}, 1))), config_.dropout, rng_, training);
  return weights;
}

Var LstmAttention::logits(const Batch& batch, Mode mode, Tensor* attention, Var*) {
  return output_.logits(w_o_(decode(batch, mode == Mode::kTrain, attention)));  // [B, T, V]
}

Tensor LstmAttention::alignment(const Batch& batch) {
  Tensor a;  // [B, T, S]
  decode(batch, false, &a);
  return a;
}

Var LstmAttention::decode(const Batch& batch, bool training, Tensor* attention) {
  const int64_t B = batch.size(), T = batch.tgt_in.cols, S = batch.src.cols;
  const int64_t Hd = config_.dec_hidden;
  Recurrent r;
  Memory m = encode_memory(batch.src, batch.src_len, training, r);
  // Target embeddings time-major, so that each step's rows are one contiguous block (a view).
  std::vector<int> ids(static_cast<size_t>(T * B));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b) ids[t * B + b] = batch.tgt_in.at(b, t);
  Var y = dropout(embedding_(ids, Shape{T * B}), config_.dropout, rng_, training);  // [T*B, E]
  // Every step's embedding part of the gates, with layer 0's bias, in one GEMM.
  Var y_gates = linear(y, w_y_.weight(), cells_[0].bias());  // [T*B, 4Hd]
  std::vector<Var> feeds;
  if (attention) *attention = Tensor::zeros(Shape{B, T, S});
  for (int64_t t = 0; t < T; ++t) {
    Var yt = narrow_rows(y_gates, t * B, (t + 1) * B);  // [B, 4Hd]
    Var w = decode_step(yt, r, m, training);
    if (attention)
      for (int64_t b = 0; b < B; ++b)
        std::copy(w->value.data() + b * S, w->value.data() + (b + 1) * S,
                  attention->data() + (b * T + t) * S);
    feeds.push_back(r.feed);
  }
  // Back to batch-major (the loss reads targets as [B, T]) while the rows are still narrow.
  Var hidden = transpose(reshape(feeds.size() == 1 ? feeds[0] : concat(feeds, 0), Shape{T, B, Hd}),
                         0, 1);  // [B, T, Hd]
  return hidden;
}

std::unique_ptr<DecoderState> LstmAttention::encode(const IdMatrix& src,
                                                    std::span<const int> src_len) {
  auto st = std::make_unique<State>();
  st->memory = encode_memory(src, src_len, false, st->rec);
  st->source_rows = SourceRows(src.rows);
  return st;
}

Step LstmAttention::step(DecoderState& state, std::span<const int> last_tokens) {
  auto& st = static_cast<State&>(state);
  const int64_t N = st.rows();
  ATTNMT_CHECK(static_cast<int64_t>(last_tokens.size()) == N, "step: {} tokens for {} rows",
               last_tokens.size(), N);
  Var y = embedding_(last_tokens, Shape{N});  // [N, E]
  Var y_gates = linear(y, w_y_.weight(), cells_[0].bias());  // [N, 4Hd]
  // As decode_step, with the memory read per sentence (attend_rows) instead of per row.
  Var h = decode_cells(y_gates, st.rec, false);  // [N, Hd]
  auto [weights, context] =
      attention_.attend_rows(h->value, st.memory.keys->value, st.memory.memory->value,
                             st.memory.mask, st.source_rows.sentences());  // [N, S], [N, M]
  st.rec.feed = tanh(w_c_(concat({constant(context), h}, 1)));
  Var logp = output_(w_o_(st.rec.feed));  // [N, V]
  return Step{logp->value, weights};
}

void LstmAttention::select(DecoderState& state, std::span<const int> rows) {
  auto& st = static_cast<State&>(state);
  auto pick = [&](Var& v) { v = index_rows(v, rows); };
  st.source_rows.select(rows);  // the memory stays per sentence: step reads it through this
  for (auto& h : st.rec.h) pick(h);
  for (auto& c : st.rec.c) pick(c);
  pick(st.rec.feed);
}

}  // namespace attnmt
