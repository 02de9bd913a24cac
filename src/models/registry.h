// The registry of architectures: the one table that maps an architecture to its name (in
// options, config files and model files), its factory, the checks of its settings and the
// line `attnmt info` prints. Nothing else in the project compares architecture names.
//
// Adding an architecture: a folder src/models/<name>/ with a Seq2Seq subclass that has the
// static validate / describe / examples / kTinyRecipe of LstmAttention, an entry in enum Arch
// (models/config.h) and one line in kArchitectures (registry.cpp). The contract tests
// (tests/test_models_contract.cpp) then run on it with its examples.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/seq2seq.h"

namespace attnmt {

struct Architecture {
  Arch arch;
  std::string_view name;     // "lstm"
  std::string_view summary;  // for --help
  std::unique_ptr<Seq2Seq> (*make)(const ModelConfig& config, uint64_t seed,
                                   const ParameterSource* from);
  void (*validate)(const ModelConfig& config);         // its own settings; throws Error
  std::string (*describe)(const ModelConfig& config);  // one line for `attnmt info`
  // How many scalars its parameters hold, from the config alone (nothing allocated).
  int64_t (*parameters)(const ModelConfig& config);
  // Small configurations covering its variants; the first one memorises a tiny corpus with
  // `tiny_recipe` (training options). The contract tests run on all of them.
  std::vector<ModelExample> (*examples)(int vocab_size);
  std::string_view tiny_recipe;
};

std::span<const Architecture> architectures();
const Architecture& architecture(Arch arch);

}  // namespace attnmt
