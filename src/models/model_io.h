// Saving and loading a whole model: its config, its SentencePiece vocabulary and its named
// parameters in one self-describing file (format: src/io/model_file.h). Extra key/value
// entries (how it was trained) ride along in the config under "train." keys.
// Not here: optimiser state and data position, which checkpoints add (src/train/checkpoint.h).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/model_file.h"
#include "models/seq2seq.h"
#include "text/vocab.h"

namespace attnmt {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// The model file contents (config, vocabulary blob, every parameter) without writing it.
// Every tensor is marked float32; checkpoints build on this and stay float32 (bit-exact resume).
ModelFile model_to_file(const Seq2Seq& model, const Vocab& vocab, const KeyValues& extra = {});
// `dtype` is how the parameters are stored: float16 halves the file (about 3 significant
// digits; a parameter beyond +-65504 is refused). Loading always gives float32 parameters.
void save_model(const std::string& path, const Seq2Seq& model, const Vocab& vocab,
                const KeyValues& extra = {}, TensorDtype dtype = TensorDtype::kFloat32);

// Tensors of a checkpoint that are not parameters: the optimiser's moments ("adam/...") and the
// moving average of the parameters ("ema/...", train/averaging.h).
inline constexpr std::string_view kOptimizerTensorPrefix = "adam/";
inline constexpr std::string_view kAverageTensorPrefix = "ema/";
inline bool is_training_state(std::string_view tensor_name) {
  return tensor_name.starts_with(kOptimizerTensorPrefix) ||
         tensor_name.starts_with(kAverageTensorPrefix);
}

struct LoadedModel {
  std::unique_ptr<Seq2Seq> model;
  Vocab vocab;
  ModelFile file;  // the file's config, blobs and dtypes; of its tensors only the non-parameters
};
// Builds the model the file describes, moving every parameter into it (no second copy, no
// random initialisation first). A missing or misshapen parameter, or a stored tensor the model
// does not use, is refused naming the file and the tensor.
LoadedModel model_from_file(ModelFile file);
LoadedModel load_model(const std::string& path);

}  // namespace attnmt
