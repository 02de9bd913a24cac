#include "models/registry.h"

#include <array>
#include <string>

#include "models/lstm/lstm_attention.h"
#include "models/transformer/transformer.h"
#include "tensor/error.h"
#include "tensor/memory.h"

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
          Model::parameters,
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

void check_trainable_here(const ModelConfig& config) {
  config.validate();
  const int64_t n = architecture(config.arch).parameters(config), need = 16 * n,
                have = available_memory();
  ATTNMT_CHECK(have < 0 || need <= have,
               "the model would have {:.1f} million parameters; training it needs at least {} "
               "(weights, gradients and Adam's two moments, 16 bytes a parameter), more than the "
               "{} this machine has available: choose fewer layers or smaller widths (emb-dim, "
               "ffn-dim, enc-hidden, dec-hidden) or a smaller vocabulary",
               n / 1e6, format_bytes(need), format_bytes(have));
}

std::unique_ptr<Seq2Seq> make_model(const ModelConfig& config, uint64_t seed,
                                    const ParameterSource* from) {
  config.validate();
  // A model built anew (not loaded) is built to be trained: refused before anything is
  // allocated, rather than left to fill the memory layer by layer (tensor/memory.h).
  if (!from) check_trainable_here(config);
  auto model = architecture(config.arch).make(config, seed, from);
  model->params().end_loading();
  return model;
}

}  // namespace attnmt
