// The kinds of layer an option chooses between: the LSTM attention's score function and the
// feed-forward activation. Each is an enum with its one name table (tensor/choice.h), here at
// the level of the layers that switch on them, so models/config.h and the layers share it.
#pragma once

#include "tensor/choice.h"

namespace attnmt {

// The LSTM decoder's score function (nn/attention.h): dot, Luong general, Bahdanau additive.
enum class AttentionType { kDot, kGeneral, kAdditive };
constexpr ChoiceTable<AttentionType, 3> choices(AttentionType) {
  using enum AttentionType;
  return {"attention", {{kDot, "dot"}, {kGeneral, "general"}, {kAdditive, "additive"}}};
}

// The Transformer feed-forward activation (nn/transformer_blocks.h).
enum class Activation { kRelu, kGelu };
constexpr ChoiceTable<Activation, 2> choices(Activation) {
  using enum Activation;
  return {"activation", {{kRelu, "relu"}, {kGelu, "gelu"}}};
}

}  // namespace attnmt
