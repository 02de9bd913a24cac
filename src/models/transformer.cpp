// Placeholder until the Transformer lands (the owner replaces this file).
#include "models/transformer.h"

#include "tensor/error.h"

namespace attnmt {

Transformer::Transformer(const ModelConfig& config, uint64_t seed) : Seq2Seq(config, seed) {
  fail("the transformer architecture is not built yet");
}
Var Transformer::forward(const Batch&, Mode, Tensor*) { fail("transformer"); }
std::unique_ptr<DecoderState> Transformer::encode(const IdMatrix&, std::span<const int>) {
  fail("transformer");
}
Step Transformer::step(DecoderState&, std::span<const int>) { fail("transformer"); }
void Transformer::select(DecoderState&, std::span<const int>) { fail("transformer"); }

}  // namespace attnmt
