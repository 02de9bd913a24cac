// What a model file holds, as facts rather than text: architecture, sizes, vocabulary, storage,
// the precision this CPU would give it, and the settings it was built and trained with. `attnmt
// info` prints it; `attnmt serve` returns it as JSON (GET /v1/model).
// Not here: loading (models/model_io.h) or printing (cli/cmd_info.cpp, serve/api.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/model_io.h"

namespace attnmt {

struct ModelSummary {
  std::string path;
  uint64_t file_bytes = 0;
  std::string storage;       // "float16 (all 120 tensors)", or a mix
  std::string architecture;  // the registry's one-line description
  int64_t parameters = 0;
  int vocab_size = 0;
  bool tied_embeddings = true;
  std::string cpu_isa;            // oneDNN's name of this CPU's instruction set
  std::string auto_precision;     // what --precision auto gives translation here
  bool vnni = false;              // int8 products run on VNNI
  std::string int8;               // how int8 runs here: int8_description() (precision.h)
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  Pairs settings;  // the [model] section: every ModelConfig setting
  Pairs training;  // the [training] section: train.* and checkpoint.* keys (not the RNG)
};

ModelSummary summarize_model(const LoadedModel& m, const std::string& path);

}  // namespace attnmt
