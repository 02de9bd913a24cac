// The facts of a model file (see model_summary.h).
#include "models/model_summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <map>

#include "models/registry.h"
#include "tensor/precision.h"

namespace attnmt {

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

ModelSummary summarize_model(const LoadedModel& m, const std::string& path) {
  const ModelConfig& c = m.model->config();
  ModelSummary s;
  s.path = path;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  s.file_bytes = ec ? 0 : bytes;
  s.storage = storage_summary(m);
  s.architecture = architecture(c.arch).describe(c);
  s.parameters = m.model->params().n_scalars();
  s.vocab_size = m.vocab.size();
  s.tied_embeddings = c.tie_embeddings;
  const CpuFeatures cpu = cpu_features();
  s.cpu_isa = cpu.isa;
  s.auto_precision = std::string(name_of(
      resolve_precision(Precision::kAuto, PrecisionUse::kTranslation, cpu).precision));
  s.vnni = cpu.vnni;
  s.int8 = int8_description(cpu);
  for (const auto& [k, v] : c.to_pairs()) s.settings.emplace_back(k, v);
  for (const auto& [k, v] : m.file.config) {
    if (k.rfind("train.", 0) != 0 && k.rfind("checkpoint.", 0) != 0) continue;
    if (k == "checkpoint.rng") continue;
    s.training.emplace_back(k, v);
  }
  return s;
}

}  // namespace attnmt
