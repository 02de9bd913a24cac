#include "train/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "tensor/error.h"

namespace attnmt {

void save_checkpoint(const std::string& path, const Seq2Seq& model, const Vocab& vocab,
                     const Adam& adam, const TrainState& s, Rng& rng, const KeyValues& extra,
                     const NamedTensors& more) {
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
  for (const auto& [name, t] : more) f.tensors.emplace_back(name, t);
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

std::vector<std::string> check_resume(const LoadedCheckpoint& ckpt, const TrainOptions& o,
                                      const Vocab* given_vocab) {
  const std::string& path = ckpt.loaded.file.source;
  const ModelConfig& stored = ckpt.loaded.model->config();
  if (stored.arch != o.model.arch)
    fail("--resume: the checkpoint '{}' holds a model of architecture {} but --arch is {}: resume with the "
         "options it was trained with, or train anew without --resume",
         path, name_of(stored.arch), name_of(o.model.arch));
  if (given_vocab && given_vocab->serialized() != ckpt.loaded.vocab.serialized())
    fail("--resume: --vocab '{}' is not the vocabulary the checkpoint '{}' was trained with: "
         "leave --vocab out (the checkpoint holds its own) or train anew",
         o.vocab, path);
  if (!ckpt.loaded.file.dtypes.empty())
    fail("--resume: the checkpoint '{}' stores float16 tensors (was it converted?): Adam's "
         "moments lose their small values in float16, so training would not continue where it "
         "stopped; resume from a float32 checkpoint or train anew",
         path);
  std::vector<std::string> notes;
  const auto given = o.model.to_pairs(), kept = stored.to_pairs();
  for (const auto& [key, value] : kept) {
    if (key == "vocab_size") continue;
    for (const auto& [gkey, gvalue] : given)
      if (gkey == key && gvalue != value)
        notes.push_back(fmt::format("{} {} (given: {})", key, value, gvalue));
  }
  return notes;
}

std::string snapshot_path(const std::string& output, int64_t step) {
  return fmt::format("{}.step-{}", output, step);
}

std::vector<std::string> list_snapshots(const std::string& output) {
  namespace fs = std::filesystem;
  const fs::path out(output);
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  const std::string prefix = out.filename().string() + ".step-";
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;  // not ours (e.g. a temp file being written)
    found.emplace_back(std::stoll(digits),
                       (out.has_parent_path() ? dir / name : fs::path(name)).string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [step, path] : found) paths.push_back(std::move(path));
  return paths;
}

std::vector<std::string> prune_snapshots(const std::string& output, int keep) {
  std::vector<std::string> all = list_snapshots(output), removed;
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) {
    std::error_code ec;
    if (std::filesystem::remove(all[i], ec)) removed.push_back(all[i]);
  }
  return removed;
}

std::string budget_met(const TrainOptions& o, const TrainState& s, int64_t max_epochs) {
  if (o.max_steps && s.step >= o.max_steps)
    return fmt::format("the checkpoint is at step {} and --max-steps is {}", s.step, o.max_steps);
  if (max_epochs && s.epoch >= max_epochs)
    return fmt::format("the checkpoint has done {} epochs and the limit is {} (--max-epochs)",
                       s.epoch, max_epochs);
  if (o.max_time_minutes && s.seconds >= o.max_time_minutes * 60)
    return fmt::format("the checkpoint has trained {:.1f} minutes and --max-time is {}",
                       s.seconds / 60, o.max_time_minutes);
  return {};
}

}  // namespace attnmt
