#include "models/registry.h"

#include <array>

#include "models/lstm/lstm_attention.h"
#include "models/transformer/transformer.h"
#include "tensor/error.h"

namespace attnmt {

namespace {

template <typename Model>
std::unique_ptr<Seq2Seq> make(const ModelConfig& config, uint64_t seed,
                              const ParameterSource* from) {
  return std::make_unique<Model>(config, seed, from);
}

template <typename Model>
constexpr Architecture entry(Arch arch, std::string_view name, std::string_view summary) {
  return {arch,
          name,
          summary,
          make<Model>,
          Model::validate,
          Model::describe,
          Model::examples,
          Model::kTinyRecipe};
}

const Architecture kArchitectures[] = {
    entry<LstmAttention>(Arch::kLstm, "lstm",
                         "bidirectional LSTM encoder, LSTM decoder with soft attention"),
    entry<Transformer>(Arch::kTransformer, "transformer", "Transformer encoder-decoder"),
};

}  // namespace

std::span<const Architecture> architectures() { return kArchitectures; }

const Architecture& architecture(Arch arch) {
  for (const auto& a : kArchitectures)
    if (a.arch == arch) return a;
  fail("architecture #{} is not registered (models/registry.cpp)", static_cast<int>(arch));
}

ChoiceSpan<Arch> choices(Arch) {
  static const auto table = [] {
    std::array<Choice<Arch>, std::size(kArchitectures)> t{};
    for (size_t i = 0; i < t.size(); ++i) t[i] = {kArchitectures[i].arch, kArchitectures[i].name};
    return t;
  }();
  return {"architecture", table};
}

std::unique_ptr<Seq2Seq> make_model(const ModelConfig& config, uint64_t seed,
                                    const ParameterSource* from) {
  config.validate();
  auto model = architecture(config.arch).make(config, seed, from);
  model->params().end_loading();
  return model;
}

}  // namespace attnmt
