// attnmt info MODEL: what a model file holds (architecture, sizes, vocabulary, how it was
// trained), its size on disk and how its tensors are stored (float32 / float16 / int8). Loading
// validates the whole file, so this is also a quick integrity check.
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <filesystem>
#include <map>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "models/model_io.h"
#include "models/registry.h"
#include "tensor/precision.h"

namespace attnmt::cli {

namespace {
// "float16 (all 120 tensors)" or "float32 (12 tensors), float16 (108 tensors)". The parameters
// live in the model now; the file keeps their storage dtypes and the other tensors.
std::string storage_summary(const LoadedModel& m) {
  const ModelFile& f = m.file;
  const size_t n = m.model->params().all().size() + f.tensors.size();
  std::map<TensorDtype, size_t> count;
  for (const auto& [name, dtype] : f.dtypes) ++count[dtype];
  count[TensorDtype::kFloat32] = n - count[TensorDtype::kFloat16] - count[TensorDtype::kInt8];
  std::vector<std::string> parts;
  for (const auto& [dtype, k] : count)
    if (k == n) return fmt::format("{} (all {} tensors)", name_of(dtype), n);
    else if (k) parts.push_back(fmt::format("{} ({} tensors)", name_of(dtype), k));
  return fmt::format("{}", fmt::join(parts, ", "));
}
}  // namespace

int run_info(int argc, char** argv) {
  std::string path;
  po::options_description desc("options");
  desc.add_options()("model,m", po::value(&path)->required(), "the model (or checkpoint) file");
  po::positional_options_description pos;
  pos.add("model", 1);
  CommandSpec spec{"info", "attnmt info MODEL",
                   "Describes a model file: architecture, parameter count, vocabulary size and "
                   "how it was trained,\nits size and how its tensors are stored (float32, "
                   "float16 or int8). The whole file is checked (checksum) on the way."};
  if (!parse_options(spec, desc, argc, argv, {.positional = &pos})) return 0;
  LoadedModel m = load_model(path);
  const ModelConfig& c = m.model->config();
  fmt::print("model        {}\n", path);
  const auto bytes = std::filesystem::file_size(path);
  fmt::print("file size    {} bytes ({:.1f} MB)\n", bytes, static_cast<double>(bytes) / 1e6);
  fmt::print("storage      {}\n", storage_summary(m));
  fmt::print("architecture {}\n", architecture(c.arch).describe(c));
  fmt::print("parameters   {}\n", m.model->params().n_scalars());
  fmt::print("vocabulary   {} pieces (joint SentencePiece, embeddings {})\n", m.vocab.size(),
             c.tie_embeddings ? "tied" : "untied");
  const CpuFeatures cpu = cpu_features();
  fmt::print("precision    on this CPU ({}): --precision auto gives {}; int8 {}\n", cpu.isa,
             name_of(resolve_precision(Precision::kAuto, PrecisionUse::kTranslation, cpu).precision),
             cpu.vnni ? "runs on VNNI" : "runs without VNNI (slow)");
  fmt::print("\n[model]\n");
  for (const auto& [k, v] : c.to_pairs()) fmt::print("{} = {}\n", k, v);
  bool header = false;
  for (const auto& [k, v] : m.file.config) {
    if (k.rfind("train.", 0) != 0 && k.rfind("checkpoint.", 0) != 0) continue;
    if (k == "checkpoint.rng") continue;
    if (!header) fmt::print("\n[training]\n");
    header = true;
    fmt::print("{} = {}\n", k, v);
  }
  return 0;
}

}  // namespace attnmt::cli
