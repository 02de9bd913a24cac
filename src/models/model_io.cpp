#include "models/model_io.h"

#include "tensor/error.h"

namespace attnmt {

ModelFile model_to_file(const Seq2Seq& model, const Vocab& vocab, const KeyValues& extra) {
  ModelFile f;
  f.config = model.config().to_pairs();
  for (const auto& [k, v] : extra) f.set_config(k, v);
  f.blobs.emplace_back("vocab", vocab.serialized());
  for (const auto& [name, var] : model.params().all()) f.tensors.emplace_back(name, var->value);
  return f;
}

void save_model(const std::string& path, const Seq2Seq& model, const Vocab& vocab,
                const KeyValues& extra, TensorDtype dtype) {
  ModelFile f = model_to_file(model, vocab, extra);
  f.set_dtype_all(dtype);
  save_model_file(path, f);
}

LoadedModel model_from_file(ModelFile file) {
  LoadedModel m;
  ModelConfig config = ModelConfig::from_pairs(file.config);
  try {
    config.validate();
  } catch (const Error& e) {
    fail("{}: {}", file.source, e.what());
  }
  m.vocab = Vocab::from_serialized(file.blob("vocab"), file.source + " (embedded vocabulary)");
  ATTNMT_CHECK(m.vocab.size() == config.vocab_size,
               "{}: the embedded vocabulary has {} pieces but the model expects {}", file.source,
               m.vocab.size(), config.vocab_size);
  // The parameters are moved out of the file as the model takes them: one copy in memory.
  const ParameterSource source{&file.tensors, file.source};
  m.model = make_model(config, 1, &source);
  for (const auto& [name, t] : file.tensors)
    ATTNMT_CHECK(is_training_state(name),
                 "{}: the stored tensor '{}' is not a parameter of this {} model (was the "
                 "config edited?); the file does not describe its weights",
                 file.source, name, name_of(config.arch));
  m.file = std::move(file);
  return m;
}

LoadedModel load_model(const std::string& path) { return model_from_file(load_model_file(path)); }

}  // namespace attnmt
