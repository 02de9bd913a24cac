// LstmAttention: a (bidirectional) LSTM encoder and an LSTM decoder with soft attention
// (dot / general / additive) and Luong input feeding, on the shared Embedding and OutputLayer.
// Decoder step: gates = W_y y_{t-1} + W_f feed_{t-1} + W_hh h_{t-1} + b; attention over the
// memory with h_t; feed_t = tanh(W_c [context; h_t]); output = E^T (W_o feed_t).
// Not here: search (src/decode/) and training (src/train/).
#pragma once

#include <vector>

#include "models/seq2seq.h"
#include "nn/attention.h"
#include "nn/lstm.h"

namespace attnmt {

class LstmAttention : public Seq2Seq {
 public:
  LstmAttention(const ModelConfig& config, uint64_t seed, const ParameterSource* from = nullptr);
  // The registry's entries (models/registry.h): the checks of the LSTM settings, the one-line
  // description `attnmt info` prints, small configs for the contract tests and training
  // options with which the first of them memorises a tiny corpus.
  static void validate(const ModelConfig& config);
  static std::string describe(const ModelConfig& config);
  static int64_t parameters(const ModelConfig& config);
  static std::vector<ModelExample> examples(int vocab_size);
  static constexpr std::string_view kTinyRecipe =
      "--label-smoothing 0 --batch-tokens 500 --lr 0.01 --max-steps 150";

  Var logits(const Batch& batch, Mode mode, Tensor* attention = nullptr,
             Var* guided_loss = nullptr) override;
  Tensor alignment(const Batch& batch) override;
  std::unique_ptr<DecoderState> encode(const IdMatrix& src, std::span<const int> src_len) override;
  Step step(DecoderState& state, std::span<const int> last_tokens) override;
  void select(DecoderState& state, std::span<const int> rows) override;

 private:
  struct Recurrent {        // the decoder's state between steps
    std::vector<Var> h, c;  // per layer [N, Hd]
    Var feed;               // [N, Hd] attentional hidden state fed to the next step
  };
  struct Memory {
    Var memory;   // [N, S, M]
    Var keys;     // [N, S, K]
    Tensor mask;  // [N, S] 1 = real source position
  };
  class State;

  Memory encode_memory(const IdMatrix& src, std::span<const int> src_len, bool training,
                       Recurrent& init);
  // The decoder's LSTM layers for one step: y_gates [N, 4Hd], the embedding part of layer 0's
  // input projection. Updates r.h and r.c; returns the top layer's h [N, Hd].
  Var decode_cells(const Var& y_gates, Recurrent& r, bool training);
  // One decoder step: the cells, then attention and the attentional state r.feed.
  // Returns the attention weights [N, S]; updates `r`.
  Var decode_step(const Var& y_gates, Recurrent& r, const Memory& m, bool training);
  // The teacher-forced pass behind logits() and alignment(): every step's attentional hidden
  // state [B, T, Hd] (before w_o and the output layer); `attention` gets the weights [B, T, S].
  Var decode(const Batch& batch, bool training, Tensor* attention);

  Embedding embedding_;
  LstmEncoder encoder_;
  Linear bridge_h_, bridge_c_;  // only when encoder and decoder widths differ
  bool use_bridge_ = false;
  Linear w_y_;               // [4Hd, E] embedding part of layer 0's input weights
  Linear w_f_;               // [4Hd, Hd] input-feeding part (when enabled)
  std::vector<Linear> w_x_;  // layers > 0: [4Hd, Hd] input weights
  std::vector<LstmCell> cells_;
  SoftAttention attention_;
  Linear w_c_;  // [Hd, M + Hd]
  Linear w_o_;  // [E, Hd] down to the embedding width
  OutputLayer output_;
};

}  // namespace attnmt
