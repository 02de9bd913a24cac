// Transformer encoder-decoder (placeholder until its issue lands; the owner replaces this file).
#pragma once

#include "models/seq2seq.h"

namespace attnmt {

class Transformer : public Seq2Seq {
 public:
  Transformer(const ModelConfig& config, uint64_t seed);
  Var forward(const Batch& batch, Mode mode, Tensor* attention = nullptr) override;
  std::unique_ptr<DecoderState> encode(const IdMatrix& src, std::span<const int> src_len) override;
  Step step(DecoderState& state, std::span<const int> last_tokens) override;
  void select(DecoderState& state, std::span<const int> rows) override;
};

}  // namespace attnmt
