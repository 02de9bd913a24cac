// Transformer encoder-decoder (Vaswani et al.) on the shared Embedding and OutputLayer, built to
// match the PyTorch reference (shared/reference/nmt_ref.py): embeddings * sqrt(D) plus
// sinusoidal (or learned) positions, pre-norm blocks by default (post-norm as an option), final
// layer norms in pre-norm mode, dropout on embeddings and on every residual branch.
// Parameter paths: embedding/weight, positions/weight (learned only), encoder/layer_i/
// {self_attention, self_attention_norm, ffn, ffn_norm}, decoder/layer_i/{self_attention,
// self_attention_norm, source_attention, source_attention_norm, ffn, ffn_norm},
// encoder/final_norm, decoder/final_norm (pre-norm only), output/... (untied weight or bias).
// The alignment is the source attention of decoder layer align_layer, heads averaged (or one).
// Not here: the blocks (nn/transformer_blocks.h), search (src/decode/), training (src/train/).
#pragma once

#include <vector>

#include "models/seq2seq.h"
#include "nn/transformer_blocks.h"

namespace attnmt {

class Transformer : public Seq2Seq {
 public:
  Transformer(const ModelConfig& config, uint64_t seed, const ParameterSource* from = nullptr);
  // The registry's entries (models/registry.h), as for LstmAttention.
  static void validate(const ModelConfig& config);
  static std::string describe(const ModelConfig& config);
  static int64_t parameters(const ModelConfig& config);
  static std::vector<ModelExample> examples(int vocab_size);
  static constexpr std::string_view kTinyRecipe =
      "--label-smoothing 0 --batch-tokens 500 --lr 0.003 --warmup 20 --schedule inverse-sqrt "
      "--max-steps 400";

  Var logits(const Batch& batch, Mode mode, Tensor* attention = nullptr,
             Var* guided_loss = nullptr) override;
  // The supervised head is the alignment head (align_head; the first head when it is -1).
  bool supports_guided_alignment() const override { return true; }
  AttentionMaps attention_maps(const Batch& batch) override;
  Tensor alignment(const Batch& batch) override;
  std::unique_ptr<DecoderState> encode(const IdMatrix& src, std::span<const int> src_len) override;
  Step step(DecoderState& state, std::span<const int> last_tokens) override;
  void select(DecoderState& state, std::span<const int> rows) override;
  int max_positions() const override { return config().max_positions; }

 private:
  struct EncoderLayer {
    LayerNorm self_norm, ffn_norm;
    MultiHeadAttention self_attention;
    FeedForward ffn;
  };
  struct DecoderLayer {
    LayerNorm self_norm, source_norm, ffn_norm;
    MultiHeadAttention self_attention, source_attention;
    FeedForward ffn;
  };
  class State;

  // memory [B, S, D] (after the final norm in pre-norm mode). `maps` (optional) receives every
  // layer's self-attention.
  Var encode_memory(const IdMatrix& src, std::span<const int> src_len, bool training,
                    std::vector<Tensor>* maps = nullptr);
  // The teacher-forced pass behind logits() and attention_maps(): the decoder's output before
  // the output layer [B, T, D]; `attention` gets the alignment [B, T, S], `maps` everything,
  // `guided_loss` the guided-alignment loss (see Seq2Seq::logits). alignment_only: stop after
  // the aligning layer (the output is then not the decoder's: only `attention` is).
  Var decode(const Batch& batch, bool training, Tensor* attention, AttentionMaps* maps,
             Var* guided_loss = nullptr, bool alignment_only = false);
  // x + dropout(f(norm(x))) (pre-norm) or norm(x + dropout(f(x))) (post-norm).
  template <typename F>
  Var residual(const Var& x, const LayerNorm& norm, F&& f, bool training);
  int align_layer() const;
  // [B, H, T, S] -> [B, T, S]: heads averaged, or the configured head.
  Tensor alignment_from(const Tensor& probs) const;
  // -sum batch.guide * log_probs at the supervised head. log_probs [B, H, T, S] -> [1]
  Var guided_alignment_loss(const Var& log_probs, const Batch& batch) const;

  Embedding embedding_;
  PositionalEncoding positions_;
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  LayerNorm encoder_norm_, decoder_norm_;  // pre-norm only
  OutputLayer output_;
};

}  // namespace attnmt
