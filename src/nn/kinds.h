// The kinds of layer an option chooses between: the LSTM attention's score function and the
// feed-forward activation. Each is an enum with its one name table (tensor/choice.h), here at
// the level of the layers that switch on them, so models/config.h and the layers share it.
#pragma once

#include "tensor/choice.h"

namespace attnmt {

// The LSTM decoder's score function (nn/attention.h): dot, Luong general, Bahdanau additive.
enum class AttentionType { kDot, kGeneral, kAdditive };
template <>
struct Choices<AttentionType> {
  static constexpr std::string_view what = "attention";
  static std::span<const Choice<AttentionType>> all() {
    static constexpr Choice<AttentionType> t[] = {{AttentionType::kDot, "dot"},
                                                  {AttentionType::kGeneral, "general"},
                                                  {AttentionType::kAdditive, "additive"}};
    return t;
  }
};

// The Transformer feed-forward activation (nn/transformer_blocks.h).
enum class Activation { kRelu, kGelu };
template <>
struct Choices<Activation> {
  static constexpr std::string_view what = "activation";
  static std::span<const Choice<Activation>> all() {
    static constexpr Choice<Activation> t[] = {{Activation::kRelu, "relu"},
                                               {Activation::kGelu, "gelu"}};
    return t;
  }
};

}  // namespace attnmt
