#include "train/averaging.h"

#include <fmt/format.h>

#include <algorithm>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace attnmt {

Ema::Ema(ParameterStore& params, float decay) : params_(params), decay_(decay) {
  for (const auto& [name, p] : params_.all()) avg_.push_back(p->value.clone());
}

void Ema::update(int64_t step) {
  const float d = std::min(decay_, static_cast<float>(1 + step) / static_cast<float>(10 + step));
  const auto& all = params_.all();
  for (size_t i = 0; i < all.size(); ++i) {
    const float* w = all[i].second->value.data();
    float* a = avg_[i].data();
    kernels::parallel_elementwise(avg_[i].numel(), [&](int64_t b, int64_t e) {
      ArrayMap ak(a + b, e - b);
      ak = d * ak + (1.0f - d) * ConstArrayMap(w + b, e - b);
    });
  }
}

void Ema::swap() {
  const auto& all = params_.all();
  for (size_t i = 0; i < all.size(); ++i) {
    float* w = all[i].second->value.data();
    float* a = avg_[i].data();
    kernels::parallel_elementwise(
        avg_[i].numel(), [&](int64_t b, int64_t e) { std::swap_ranges(w + b, w + e, a + b); });
  }
  weights_changed();
}

NamedTensors Ema::state() const {
  NamedTensors out;
  const auto& all = params_.all();
  for (size_t i = 0; i < all.size(); ++i)
    out.emplace_back(std::string(kAverageTensorPrefix) + all[i].first, avg_[i]);
  return out;
}

bool Ema::load_state(const NamedTensors& tensors, const std::string& source) {
  const bool any = std::any_of(tensors.begin(), tensors.end(), [](const auto& nt) {
    return nt.first.starts_with(kAverageTensorPrefix);
  });
  if (!any) return false;
  const auto& all = params_.all();
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string key = std::string(kAverageTensorPrefix) + all[i].first;
    const auto it = std::find_if(tensors.begin(), tensors.end(),
                                 [&](const auto& nt) { return nt.first == key; });
    ATTNMT_CHECK(it != tensors.end(), "{}: the checkpoint lacks the average '{}' (damaged?)",
                 source, key);
    ATTNMT_CHECK(it->second.shape() == avg_[i].shape(),
                 "{}: the average '{}' has the wrong shape (damaged?)", source, key);
    avg_[i].copy_from(it->second);
  }
  return true;
}

namespace {

// The first model setting in which two files differ, as "emb_dim 256 in A but 128 in B", or "".
std::string config_difference(const LoadedModel& base, const ModelFile& other) {
  const auto mine = base.model->config().to_pairs();
  const auto theirs = ModelConfig::from_pairs(other.config).to_pairs();
  for (const auto& [key, value] : mine)
    for (const auto& [okey, ovalue] : theirs)
      if (okey == key && ovalue != value)
        return fmt::format("{} is {} in '{}' but {} in '{}'", key, value, base.file.source, ovalue,
                           other.source);
  return {};
}

}  // namespace

LoadedModel average_models(const std::vector<std::string>& paths) {
  ATTNMT_CHECK(!paths.empty(), "no models to average");
  LoadedModel base = load_model(paths[0]);
  for (size_t k = 1; k < paths.size(); ++k) {
    const ModelFile other = load_model_file(paths[k]);
    const std::string diff = config_difference(base, other);
    ATTNMT_CHECK(diff.empty(),
                 "cannot average models of different architectures or sizes: {}; average only "
                 "models or checkpoints of one training run",
                 diff);
    ATTNMT_CHECK(other.has_blob("vocab") && other.blob("vocab") == base.vocab.serialized(),
                 "cannot average '{}' and '{}': their vocabularies differ (the embeddings of "
                 "one piece id mean different pieces); average only models of one training run",
                 paths[0], paths[k]);
    for (const auto& [name, p] : base.model->params().all()) {
      ATTNMT_CHECK(other.has_tensor(name), "{}: the parameter '{}' is missing", paths[k], name);
      const Tensor& t = other.tensor(name);
      ATTNMT_CHECK(t.shape() == p->value.shape(), "{}: the parameter '{}' has the wrong shape",
                   paths[k], name);
      float* w = p->value.data();
      const float* x = t.data();
      kernels::parallel_elementwise(t.numel(), [&](int64_t b, int64_t e) {
        ArrayMap(w + b, e - b) += ConstArrayMap(x + b, e - b);
      });
    }
  }
  const float inv = 1.0f / static_cast<float>(paths.size());
  for (const auto& [name, p] : base.model->params().all()) {
    float* w = p->value.data();
    kernels::parallel_elementwise(p->value.numel(),
                                  [&](int64_t b, int64_t e) { ArrayMap(w + b, e - b) *= inv; });
  }
  weights_changed();
  return base;
}

}  // namespace attnmt
