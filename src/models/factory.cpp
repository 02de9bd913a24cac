// The factory: the only place that maps a config's arch to a class.
#include "models/lstm_attention.h"
#include "models/transformer.h"
#include "tensor/error.h"

namespace attnmt {

std::unique_ptr<Seq2Seq> make_model(const ModelConfig& config, uint64_t seed) {
  config.validate();
  if (config.arch == "lstm") return std::make_unique<LstmAttention>(config, seed);
  if (config.arch == "transformer") return std::make_unique<Transformer>(config, seed);
  fail("unknown arch '{}'", config.arch);
}

}  // namespace attnmt
