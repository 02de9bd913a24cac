#include "train/checkpoint.h"

#include <fmt/format.h>

#include "tensor/error.h"

namespace attnmt {

void save_checkpoint(const std::string& path, const Seq2Seq& model, const Vocab& vocab,
                     const Adam& adam, const TrainState& s, Rng& rng, const KeyValues& extra) {
  ModelFile f = model_to_file(model, vocab, extra);
  f.set_config("checkpoint.step", std::to_string(s.step));
  f.set_config("checkpoint.epoch", std::to_string(s.epoch));
  f.set_config("checkpoint.batch_in_epoch", std::to_string(s.batch_in_epoch));
  f.set_config("checkpoint.seconds", fmt::format("{:.17g}", s.seconds));
  f.set_config("checkpoint.best_score", fmt::format("{:.17g}", s.best_score));
  f.set_config("checkpoint.bad_validations", std::to_string(s.bad_validations));
  f.set_config("checkpoint.plateau_scale", fmt::format("{:.9g}", s.plateau_scale));
  f.set_config("checkpoint.tokens", std::to_string(s.tokens));
  f.set_config("checkpoint.adam_steps", std::to_string(adam.steps()));
  f.set_config("checkpoint.rng", rng.state());
  for (auto& [name, t] : adam.state()) f.tensors.emplace_back(name, t);
  save_model_file(path, f);
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  ModelFile f = load_model_file(path);
  ATTNMT_CHECK(f.find_config("checkpoint.step"),
               "{} is a model file, not a training checkpoint: --resume needs the .ckpt file "
               "written next to the model",
               path);
  LoadedCheckpoint c;
  try {
    c.state.step = std::stoll(f.config_at("checkpoint.step"));
    c.state.epoch = std::stoll(f.config_at("checkpoint.epoch"));
    c.state.batch_in_epoch = std::stoll(f.config_at("checkpoint.batch_in_epoch"));
    c.state.seconds = std::stod(f.config_at("checkpoint.seconds"));
    c.state.best_score = std::stod(f.config_at("checkpoint.best_score"));
    c.state.bad_validations = std::stoi(f.config_at("checkpoint.bad_validations"));
    c.state.plateau_scale = std::stof(f.config_at("checkpoint.plateau_scale"));
    c.state.tokens = std::stoll(f.config_at("checkpoint.tokens"));
  } catch (const std::invalid_argument&) {
    fail("{}: damaged checkpoint state; start again without --resume", path);
  }
  std::string rng_state = f.config_at("checkpoint.rng");
  c.loaded = model_from_file(std::move(f));
  c.loaded.model->rng().set_state(rng_state);
  return c;
}

void restore_optimizer(const LoadedCheckpoint& ckpt, Adam& adam) {
  adam.load_state(ckpt.loaded.file.tensors, ckpt.loaded.file.source);
  adam.set_steps(std::stoll(ckpt.loaded.file.config_at("checkpoint.adam_steps")));
}

}  // namespace attnmt
