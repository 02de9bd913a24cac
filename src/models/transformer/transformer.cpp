#include "models/transformer/transformer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nn/kv_cache.h"
#include "tensor/error.h"
#include "tensor/gemm.h"

namespace attnmt {

// Between decoding steps: per decoder layer the keys/values of the positions decoded so far
// (self) and of the source (projected once in encode), plus the fused self-attention
// projection weights so that each step does one GEMM without re-concatenating them. Reordering
// rows (select) copies none of the caches: live row n reads the source cache's row
// source_rows.sentences()[n] and its own past through the self_rows table. Only when the self
// caches grow (by doubling) are the live rows' pasts copied, compacted (make_room).
class Transformer::State : public DecoderState {
 public:
  std::vector<int> src_len;               // [N] source lengths incl. EOS
  SourceRows source_rows;                 // which sentence each row reads
  KvRows self_rows;                       // where each row's past is in self_cache
  std::vector<KvCache> self_cache;        // per layer: [P, H, L, d], P >= N
  std::vector<KvCache> source_cache;      // per layer: [B, H, S, d]
  std::vector<Var> qkv_weight, qkv_bias;  // per layer: [3D, D], [3D]
  std::vector<ScopedWeight> weights;      // qkv_weight, converted once (gemm.h)
  int64_t position = 0;                   // target positions decoded so far
  int rows() const override { return static_cast<int>(src_len.size()); }
};

void Transformer::validate(const ModelConfig& c) {
  ATTNMT_CHECK(c.heads > 0 && c.emb_dim % c.heads == 0, "emb-dim {} is not divisible by {} heads",
               c.emb_dim, c.heads);
  ATTNMT_CHECK(c.ffn_dim > 0, "ffn-dim must be positive, got {}", c.ffn_dim);
  ATTNMT_CHECK(c.max_positions > 0, "max-positions must be positive, got {}", c.max_positions);
  ATTNMT_CHECK(c.align_layer >= -1 && c.align_layer < c.dec_layers,
               "align-layer {} is not a decoder layer (0..{}, or -1 for the last)", c.align_layer,
               c.dec_layers - 1);
  ATTNMT_CHECK(c.align_head >= -1 && c.align_head < c.heads,
               "align-head {} is not a head (0..{}, or -1 for their average)", c.align_head,
               c.heads - 1);
}

std::string Transformer::describe(const ModelConfig& c) {
  return fmt::format("Transformer, {}-norm, {} + {} layers, d {}, {} heads, feed-forward {} ({})",
                     c.pre_norm ? "pre" : "post", c.enc_layers, c.dec_layers, c.emb_dim, c.heads,
                     c.ffn_dim, name_of(c.activation));
}

int64_t Transformer::parameters(const ModelConfig& c) {
  // The constructor's layers, counted: each Linear is in x out (+ out of bias).
  const int64_t D = c.emb_dim, F = c.ffn_dim, V = c.vocab_size, norm = 2 * D;
  const int64_t attention = 4 * (D * D + D), ffn = D * F + F + F * D + D;
  const int64_t encoder_layer = attention + ffn + 2 * norm;
  const int64_t decoder_layer = 2 * attention + ffn + 3 * norm;
  return V * D + (c.learned_positions ? c.max_positions * D : 0) + c.enc_layers * encoder_layer +
         c.dec_layers * decoder_layer + (c.pre_norm ? 2 * norm : 0) +
         (c.tie_embeddings ? 0 : V * D) + (c.output_bias ? V : 0);
}

std::vector<ModelExample> Transformer::examples(int vocab_size) {
  ModelConfig c = small_config(Arch::kTransformer, vocab_size);
  c.emb_dim = 32, c.heads = 2, c.ffn_dim = 64, c.enc_layers = c.dec_layers = 2;
  c.max_positions = 64;
  std::vector<ModelExample> out{{"pre-norm, relu, sinusoidal", c}};
  c.emb_dim = 8, c.ffn_dim = 16, c.pre_norm = false, c.activation = Activation::kGelu;
  c.learned_positions = true, c.align_layer = 0, c.align_head = 1;
  c.tie_embeddings = false, c.output_bias = true;
  out.push_back({"post-norm, gelu, learned positions, align layer 0 head 1, untied", c});
  c.pre_norm = true, c.activation = Activation::kRelu, c.learned_positions = false;
  c.align_head = 0, c.tie_embeddings = true, c.output_bias = false;
  out.push_back({"pre-norm, align layer 0 head 0", c});
  return out;
}

Transformer::Transformer(const ModelConfig& c, uint64_t seed, const ParameterSource* from)
    : Seq2Seq(c, seed, from) {
  Scope root(params_);
  const int64_t D = c.emb_dim, H = c.heads, F = c.ffn_dim;
  validate(c);
  embedding_ = Embedding(root / "embedding", c.vocab_size, D, rng_);
  positions_ =
      PositionalEncoding(root / "positions", c.learned_positions, c.max_positions, D, rng_);
  for (int l = 0; l < c.enc_layers; ++l) {
    Scope s = root / "encoder" / ("layer_" + std::to_string(l));
    EncoderLayer e;
    e.self_attention = MultiHeadAttention(s / "self_attention", D, H, rng_);
    e.self_norm = LayerNorm(s / "self_attention_norm", D);
    e.ffn = FeedForward(s / "ffn", D, F, c.activation, rng_);
    e.ffn_norm = LayerNorm(s / "ffn_norm", D);
    encoder_.push_back(std::move(e));
  }
  for (int l = 0; l < c.dec_layers; ++l) {
    Scope s = root / "decoder" / ("layer_" + std::to_string(l));
    DecoderLayer e;
    e.self_attention = MultiHeadAttention(s / "self_attention", D, H, rng_);
    e.self_norm = LayerNorm(s / "self_attention_norm", D);
    e.source_attention = MultiHeadAttention(s / "source_attention", D, H, rng_);
    e.source_norm = LayerNorm(s / "source_attention_norm", D);
    e.ffn = FeedForward(s / "ffn", D, F, c.activation, rng_);
    e.ffn_norm = LayerNorm(s / "ffn_norm", D);
    decoder_.push_back(std::move(e));
  }
  if (c.pre_norm) {
    encoder_norm_ = LayerNorm(root / "encoder" / "final_norm", D);
    decoder_norm_ = LayerNorm(root / "decoder" / "final_norm", D);
  }
  output_ = OutputLayer(root / "output", embedding_, c.tie_embeddings, c.output_bias, rng_);
}

template <typename F>
Var Transformer::residual(const Var& x, const LayerNorm& norm, F&& f, bool training) {
  if (config_.pre_norm) return add_dropout(x, f(norm(x)), config_.dropout, rng_, training);
  return norm(add_dropout(x, f(x), config_.dropout, rng_, training));
}

int Transformer::align_layer() const {
  return config_.aligning_layer();
}

Tensor Transformer::alignment_from(const Tensor& probs) const {
  const int64_t B = probs.dim(0), H = probs.dim(1), TS = probs.dim(2) * probs.dim(3);
  Tensor a = Tensor::zeros(Shape{B, probs.dim(2), probs.dim(3)});  // [B, T, S]
  for (int64_t b = 0; b < B; ++b) {
    auto out = a.arr().segment(b * TS, TS);
    if (config_.align_head >= 0) {
      out = probs.arr().segment((b * H + config_.align_head) * TS, TS);
    } else {
      for (int64_t h = 0; h < H; ++h) out += probs.arr().segment((b * H + h) * TS, TS);
      out /= static_cast<float>(H);
    }
  }
  return a;
}

Var Transformer::encode_memory(const IdMatrix& src, std::span<const int> src_len, bool training,
                               std::vector<Tensor>* maps) {
  const int64_t B = src.rows, S = src.cols;
  const ModelConfig& c = config_;
  Var x = dropout(positions_(tapped_source(embedding_(src.ids, Shape{B, S})), 0), c.dropout, rng_,
                  training);
  for (const EncoderLayer& e : encoder_) {
    Tensor* probs = maps ? &maps->emplace_back() : nullptr;  // [B, H, S, S]
    x = residual(
        x, e.self_norm,
        [&](const Var& h) {
          return e.self_attention.self_attention(h, src_len, false, c.attention_dropout, rng_,
                                                 training, probs);
        },
        training);
    x = residual(
        x, e.ffn_norm, [&](const Var& h) { return e.ffn(h, c.ffn_dropout, rng_, training); },
        training);
  }
  return c.pre_norm ? encoder_norm_(x) : x;  // [B, S, D]
}

Var Transformer::decode(const Batch& batch, bool training, Tensor* attention,
                        AttentionMaps* maps, Var* guided_loss, bool alignment_only) {
  const ModelConfig& c = config_;
  const int64_t B = batch.size(), T = batch.tgt_in.cols;
  Var memory = encode_memory(batch.src, batch.src_len, training,
                             maps ? &maps->encoder : nullptr);  // [B, S, D]
  Var x = dropout(positions_(embedding_(batch.tgt_in.ids, Shape{B, T}), 0), c.dropout, rng_,
                  training);  // [B, T, D]
  Tensor probs;               // [B, H, T, S] of the alignment layer
  const int align = align_layer();
  const bool guided = training && guided_loss && !batch.guide.empty();
  Var log_probs;  // [B, H, T, S] of the alignment layer, when guided
  const int layers = alignment_only ? align + 1 : static_cast<int>(decoder_.size());
  for (int l = 0; l < layers; ++l) {
    const DecoderLayer& e = decoder_[l];
    Tensor* self_probs = maps ? &maps->decoder.emplace_back() : nullptr;  // [B, H, T, T]
    Tensor* source_probs = maps ? &maps->source.emplace_back()            // [B, H, T, S]
                                : attention && l == align ? &probs : nullptr;
    // Causal, plus the target padding (which only padded query rows could ever see).
    x = residual(
        x, e.self_norm,
        [&](const Var& h) {
          return e.self_attention.self_attention(h, batch.tgt_len, true, c.attention_dropout, rng_,
                                                 training, self_probs);
        },
        training);
    x = residual(
        x, e.source_norm,
        [&](const Var& h) {
          return e.source_attention.source_attention(h, memory, batch.src_len, c.attention_dropout,
                                                     rng_, training, source_probs,
                                                     guided && l == align ? &log_probs : nullptr);
        },
        training);
    x = residual(
        x, e.ffn_norm, [&](const Var& h) { return e.ffn(h, c.ffn_dropout, rng_, training); },
        training);
  }
  if (attention) *attention = alignment_from(maps ? maps->source[align] : probs);
  if (guided) *guided_loss = guided_alignment_loss(log_probs, batch);
  if (alignment_only) return x;
  return c.pre_norm ? decoder_norm_(x) : x;  // [B, T, D]
}

Var Transformer::guided_alignment_loss(const Var& log_probs, const Batch& batch) const {
  const int64_t B = log_probs->value.dim(0), H = log_probs->value.dim(1),
                TS = log_probs->value.dim(2) * log_probs->value.dim(3);
  ATTNMT_CHECK(static_cast<int64_t>(batch.guide.size()) == B * TS,
               "guided alignment: a guide of {} values for a batch of {} x {}", batch.guide.size(),
               B, TS);
  const int64_t head = std::max(0, config_.align_head);
  Tensor target = Tensor::zeros(log_probs->value.shape());  // [B, H, T, S]: the guide at `head`
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(batch.guide.data() + b * TS, TS, target.data() + (b * H + head) * TS);
  return scale(sum(mul(constant(target), log_probs)), -1.0f);  // [1]
}

Var Transformer::logits(const Batch& batch, Mode mode, Tensor* attention, Var* guided_loss) {
  return output_.logits(
      decode(batch, mode == Mode::kTrain, attention, nullptr, guided_loss));  // [B, T, V]
}

Tensor Transformer::alignment(const Batch& batch) {
  Tensor a;  // [B, T, S]
  decode(batch, false, &a, nullptr, nullptr, /*alignment_only=*/true);
  return a;
}

AttentionMaps Transformer::attention_maps(const Batch& batch) {
  AttentionMaps maps;
  decode(batch, false, nullptr, &maps);
  return maps;
}

std::unique_ptr<DecoderState> Transformer::encode(const IdMatrix& src,
                                                  std::span<const int> src_len) {
  ATTNMT_CHECK(static_cast<int>(src_len.size()) == src.rows, "encode: {} lengths for {} rows",
               src_len.size(), src.rows);
  auto st = std::make_unique<State>();
  st->src_len.assign(src_len.begin(), src_len.end());
  st->source_rows = SourceRows(src.rows);
  st->self_rows = KvRows(src.rows);
  Var memory = encode_memory(src, src_len, false);  // [N, S, D]
  st->self_cache.resize(decoder_.size());
  st->source_cache.resize(decoder_.size());
  for (size_t l = 0; l < decoder_.size(); ++l) {
    const MultiHeadAttention& a = decoder_[l].source_attention;
    const int64_t H = a.heads(), d = a.head_dim();
    Var kv = linear(memory, a.kv_weight(), a.kv_bias());  // [N, S, 2D]
    st->source_cache[l].assign(split_heads(kv, 0, H, d)->value,
                               split_heads(kv, H * d, H, d)->value);  // [N, H, S, d]
    st->qkv_weight.push_back(constant(decoder_[l].self_attention.qkv_weight()->value));
    st->weights.emplace_back(st->qkv_weight.back()->value);
    st->qkv_bias.push_back(constant(decoder_[l].self_attention.qkv_bias()->value));
  }
  return st;
}

Step Transformer::step(DecoderState& state, std::span<const int> last_tokens) {
  auto& st = static_cast<State&>(state);
  const int64_t N = st.rows(), D = config_.emb_dim;
  ATTNMT_CHECK(static_cast<int64_t>(last_tokens.size()) == N, "step: {} tokens for {} rows",
               last_tokens.size(), N);
  Var x = positions_(embedding_(last_tokens, Shape{N, 1}), st.position);  // [N, 1, D]
  x = reshape(x, Shape{N, D});
  Tensor probs;  // [N, H, S] of the alignment layer
  const int align = align_layer();
  make_room(st.self_cache, st.self_rows);  // full: grow, keeping only what live rows read
  st.self_rows.append();
  const std::span<const int> sentence = st.source_rows.sentences();
  const RowMap self_map = st.self_rows.map(), source_map{sentence.data(), 1, 0};
  for (int l = 0; l < static_cast<int>(decoder_.size()); ++l) {
    const DecoderLayer& e = decoder_[l];
    const int64_t H = e.self_attention.heads(), d = e.self_attention.head_dim();
    x = residual(
        x, e.self_norm,
        [&](const Var& h) {
          Var qkv = linear(h, st.qkv_weight[l], st.qkv_bias[l]);  // [N, 3D]
          st.self_cache[l].append(qkv->value, D, H, d);
          ATTNMT_CHECK(st.self_cache[l].length == st.self_rows.length(),
                       "step: layer {} caches {} positions, the row table {}", l,
                       st.self_cache[l].length, st.self_rows.length());
          Tensor ctx = attend_cached(qkv->value.data(), 3 * D, N, st.self_cache[l], self_map, {},
                                     nullptr);
          return e.self_attention.output()(constant(ctx));
        },
        false);
    x = residual(
        x, e.source_norm,
        [&](const Var& h) {
          Var q = e.source_attention.query()(h);  // [N, D]
          Tensor ctx = attend_cached(q->value.data(), D, N, st.source_cache[l], source_map,
                                     st.src_len, l == align ? &probs : nullptr);
          return e.source_attention.output()(constant(ctx));
        },
        false);
    x = residual(
        x, e.ffn_norm, [&](const Var& h) { return e.ffn(h, 0.0f, rng_, false); }, false);
  }
  ++st.position;
  if (config_.pre_norm) x = decoder_norm_(x);
  const int64_t H = probs.dim(1), S = probs.dim(2);
  Tensor align_row = alignment_from(probs.reshape(Shape{N, H, 1, S})).reshape(Shape{N, S});
  return Step{output_(x)->value, align_row};  // [N, V], [N, S]
}

void Transformer::select(DecoderState& state, std::span<const int> rows) {
  auto& st = static_cast<State&>(state);
  const int n = st.rows();
  std::vector<int> src_len;
  for (int r : rows) {
    ATTNMT_CHECK(r >= 0 && r < n, "select: row {} of {}", r, n);
    src_len.push_back(st.src_len[r]);
  }
  st.src_len = std::move(src_len);
  st.self_rows.select(rows);    // the caches stay where they are
  st.source_rows.select(rows);
}

}  // namespace attnmt
