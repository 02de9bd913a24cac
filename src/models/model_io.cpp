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
  m.model = make_model(config, 1);
  for (auto& [name, var] : m.model->params().all()) {
    ATTNMT_CHECK(file.has_tensor(name), "{}: parameter '{}' is missing from the model file",
                 file.source, name);
    const Tensor& t = file.tensor(name);
    ATTNMT_CHECK(t.shape() == var->value.shape(),
                 "{}: parameter '{}' has shape {} but the config needs {}", file.source, name,
                 t.shape().str(), var->value.shape().str());
    var->value.copy_from(t);
  }
  m.file = std::move(file);
  return m;
}

LoadedModel load_model(const std::string& path) { return model_from_file(load_model_file(path)); }

}  // namespace attnmt
