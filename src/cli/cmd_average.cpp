// attnmt average -m A B C... -o OUT: the parameter-wise mean of several model files or
// checkpoints of one training run (e.g. the last snapshots `train --keep-last N` keeps), written
// as a model file. Models of other architectures, sizes or vocabularies are refused, naming the
// difference. Not here: the averaging itself (train/averaging.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

#include "cli/commands.h"
#include "cli/options.h"
#include "train/averaging.h"

namespace attnmt::cli {

namespace {
struct AverageOptions {
  std::vector<std::string> inputs;
  std::string output;
  TensorDtype dtype = TensorDtype::kFloat32;
};
}  // namespace

int run_average(int argc, char** argv) {
  AverageOptions o;
  po::options_description desc("options");
  desc.add_options()(
      "model,m", po::value(&o.inputs)->multitoken()->required(),
      "the model files or checkpoints to average (two or more, of one training run)")(
      "output,o", po::value(&o.output)->required(), "the model file to write")(
      "save-dtype", value_of(&o.dtype),
      with_choices<TensorDtype>("how to store the tensors").c_str());
  po::positional_options_description pos;
  pos.add("model", -1);
  CommandSpec spec{"average", "attnmt average -m MODEL MODEL... -o OUT",
                   "Writes the parameter-wise mean of several model files or checkpoints of one "
                   "training run, e.g. the\nsnapshots OUTPUT.step-S that `train --keep-last N` "
                   "keeps. Averaging the last few usually translates\nbetter than the last one "
                   "alone. The first file's settings and vocabulary are kept; models that\n"
                   "differ in architecture, size or vocabulary are refused."};
  if (!parse_options(spec, desc, argc, argv, {.positional = &pos})) return 0;
  check_usage(spec, desc, [&] {
    if (o.inputs.size() < 2) fail("give two or more models to average (-m A B ...)");
  });
  std::vector<NamedPath> inputs;
  for (const std::string& p : o.inputs) inputs.push_back({"-m", p});
  for (const std::string& stale : check_output({"-o", o.output}, inputs))
    fmt::print(stderr, "attnmt average: removed '{}', left by a process that no longer runs\n",
               stale);
  LoadedModel avg = average_models(o.inputs);
  KeyValues info;
  for (const auto& [k, v] : avg.file.config)
    if (k.starts_with("train.")) info.emplace_back(k, v);
  info.emplace_back("train.averaged",
                    fmt::format("{} models: {}", o.inputs.size(), fmt::join(o.inputs, ", ")));
  save_model(o.output, *avg.model, avg.vocab, info, o.dtype);  // atomic
  fmt::print(stderr, "{}: the average of {} models, {} parameters\n", o.output, o.inputs.size(),
             avg.model->params().n_scalars());
  return 0;
}

}  // namespace attnmt::cli
